package store

import (
	"errors"
	"strings"
	"testing"
)

func TestNewSID(t *testing.T) {
	seen := make(map[HubSID]bool, 10000)
	counts := map[rune]int{}
	for range 10000 {
		sid := NewSID()
		if len(sid) != SIDLen {
			t.Fatalf("NewSID() = %q, %d characters, want %d", sid, len(sid), SIDLen)
		}
		if strings.ContainsAny(string(sid), "0O1Il") {
			t.Fatalf("NewSID() = %q contains a confusable character", sid)
		}
		if !sid.Valid() {
			t.Fatalf("NewSID() = %q is not Valid", sid)
		}
		if seen[sid] {
			t.Fatalf("NewSID() repeated %q", sid)
		}
		seen[sid] = true
		for _, r := range sid {
			counts[r]++
		}
	}
	// 70,000 draws over 57 letters: every letter shows up, so the alphabet is fully used.
	if len(counts) != len(sidAlphabet) {
		t.Errorf("%d distinct letters drawn, want %d", len(counts), len(sidAlphabet))
	}
}

func TestSIDValid(t *testing.T) {
	for sid, want := range map[HubSID]bool{
		"abcdefg": true, "ABC2345": true, "": false, "abcdef": false, "abcdefgh": false,
		"abcdef0": false, "abcdefO": false, "abcdef1": false, "abcdefI": false, "abcdefl": false,
		"abc-efg": false, "abc_efg": false, "abcdeé": false,
	} {
		if got := sid.Valid(); got != want {
			t.Errorf("HubSID(%q).Valid() = %v, want %v", sid, got, want)
		}
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"My Room!":              "my-room",
		"  --Hello,   World-- ": "hello-world",
		"Café Lounge #2":        "café-lounge-2",
		"会議室 A":                 "会議室-a",
		"!!!":                   "",
		"already-a-slug":        "already-a-slug",
	} {
		got := Slugify(in)
		if got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
		if again := Slugify(got); again != got {
			t.Errorf("Slugify not idempotent: %q → %q", got, again)
		}
	}
}

func TestPermissions(t *testing.T) {
	if PermRestrictiveDefault != 192 || PermAll != 255 {
		t.Errorf("defaults %d/%d, want 192/255", PermRestrictiveDefault, PermAll)
	}
	for i, name := range PermissionNames {
		if name == "" {
			t.Errorf("bit %d has no name", i)
		}
	}
	if PermissionNames[0] != "spawn_and_move_media" || PermissionNames[7] != "text_chat" ||
		PermSpawnAndMoveMedia != 1 || PermTextChat != 128 {
		t.Error("permission bits are out of Reticulum's order")
	}
	p := PermFly | PermVoiceChat
	if !p.Has(PermFly) || p.Has(PermSpawnCamera) || !p.Has(PermFly|PermVoiceChat) || p.Has(PermFly|PermTextChat) {
		t.Errorf("Has is wrong for %08b", p)
	}
}

func TestEntryModeValid(t *testing.T) {
	for m, want := range map[EntryMode]bool{"allow": true, "invite": true, "deny": true, "": false, "Allow": false} {
		if got := m.Valid(); got != want {
			t.Errorf("EntryMode(%q).Valid() = %v, want %v", m, got, want)
		}
	}
}

func TestSiteSettingsFrom(t *testing.T) {
	s, err := SiteSettingsFrom(map[string]string{"max_room_size": "10", "default_room_size": "5", "future_key": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (SiteSettings{DefaultRoomSize: 5, MaxRoomSize: 10, CostScalar: 1, IdleMinutes: 5}); s != want {
		t.Errorf("SiteSettingsFrom = %+v, want %+v", s, want)
	}
	if _, err := SiteSettingsFrom(map[string]string{"permissive_rooms": "maybe"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("corrupt stored value: err = %v, want ErrInvalid", err)
	}
	for _, key := range SiteSettingKeys {
		if _, ok := DefaultSiteSettings().Value(key); !ok {
			t.Errorf("Value(%q) unknown", key)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ada@example.org", "ada@example.org"},
		{"  Ada.Lovelace+toncon@Example.ORG\n", "ada.lovelace+toncon@example.org"},
		{"a@localhost", "a@localhost"},
		{"o'brien@example.ie", "o'brien@example.ie"},
		{"ÉLODIE@exemple.fr", "élodie@exemple.fr"},
	} {
		got, err := NormalizeEmail(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	long := "a@" + strings.Repeat("b", 248) + ".org" // 254 characters: allowed
	if got, err := NormalizeEmail(long); err != nil || got != long {
		t.Errorf("254-character address: %v", err)
	}
	for _, bad := range []string{"", " ", "ada", "ada@", "@example.org", "ada@@example.org", "ada@exa mple.org",
		"Ada <ada@example.org>", "<ada@example.org>", "ada@example.org (Ada)", `"ada"@example.org`, "ada@[10.0.0.1]",
		"ada@.example.org", "ada@example.org.", "ada@example..org", "a,b@example.org", "ada@example.org, bob@example.org",
		long + "x"} {
		if got, err := NormalizeEmail(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalid", bad, got, err)
		}
	}
}

// Email addresses come from anyone who types into the sign-in form.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ada@example.org", " Ada@Example.ORG ", "Ada <ada@example.org>", `"a@b"@c.d`, "a@b@c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeEmail(%q): error %v does not match ErrInvalid", s, err)
			}
			return
		}
		if len(got) > MaxEmailLen || strings.Count(got, "@") != 1 || got != strings.ToLower(got) || got != strings.TrimSpace(got) {
			t.Errorf("NormalizeEmail(%q) = %q: not a normalised address", s, got)
		}
		if again, err := NormalizeEmail(got); err != nil || again != got {
			t.Errorf("NormalizeEmail is not idempotent on %q: %q, %v", got, again, err)
		}
	})
}
