// Package storetest is the conformance suite every store.Store implementation must pass. It is written against the
// store interfaces only, so the SQLite and PostgreSQL backends are held to exactly the same behaviour.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/store"
)

// suiteTest is one test of the suite, run against a fresh store.
type suiteTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs the suite. open must return a new, empty store for each call; subtests run in parallel, each with its
// own store. Run closes each store when its subtest ends, before any cleanup open registered runs (so open may
// register cleanups that drop a database after the store is closed).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []suiteTest{
		{"HubRoundTrip", testHubRoundTrip},
		{"CreateAssignsDefaults", testCreateAssignsDefaults},
		{"CreateKeepsExplicitID", testCreateKeepsExplicitID},
		{"DuplicateSID", testDuplicateSID},
		{"NotFound", testNotFound},
		{"UpdateEachField", testUpdateEachField},
		{"UpdateAllFields", testUpdateAllFields},
		{"UpdateNameDerivesSlug", testUpdateNameDerivesSlug},
		{"TouchHub", testTouchHub},
		{"CreateValidation", testCreateValidation},
		{"UpdateValidation", testUpdateValidation},
		{"SettingsDefaults", testSettingsDefaults},
		{"SettingsSetEach", testSettingsSetEach},
		{"SettingsInvalid", testSettingsInvalid},
		{"SettingsDefaultAboveMax", testSettingsDefaultAboveMax},
		{"ConcurrentCreates", testConcurrentCreates},
		{"UsageAccumulates", testUsageAccumulates},
		{"UsageInvalid", testUsageInvalid},
		{"AccountEmailNormalised", testAccountEmailNormalised},
		{"AccountInvalidEmail", testAccountInvalidEmail},
		{"AccountUniqueEmailConcurrent", testAccountUniqueEmailConcurrent},
		{"FirstAccountBecomesAdmin", testFirstAccountBecomesAdmin},
		{"FirstAdminRace", testFirstAdminRace},
		{"DisabledAdminStillCounts", testDisabledAdminStillCounts},
		{"AccountUpdate", testAccountUpdate},
		{"AccountNotFound", testAccountNotFound},
		{"LoginTokenOneUse", testLoginTokenOneUse},
		{"LoginTokenExpiry", testLoginTokenExpiry},
		{"LoginTokenInvalid", testLoginTokenInvalid},
		{"LoginTokenConcurrentTake", testLoginTokenConcurrentTake},
		{"HubOwners", testHubOwners},
		{"HubOwnersNotFound", testHubOwnersNotFound},
		{"HubInvites", testHubInvites},
		{"HubInvitesConcurrentRevoke", testHubInvitesConcurrentRevoke},
		{"HubCreatedBy", testHubCreatedBy},
	}
	tests = append(tests, libraryTests...)
	tests = append(tests, filesTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// sampleHub has every field set to something other than its zero value and its default, so a backend that drops
// or defaults a field is caught.
func sampleHub() store.Hub {
	return store.Hub{
		SID:                    store.NewSID(),
		Slug:                   "the-great-hall",
		Name:                   "The Great Hall ✨",
		Description:            "Where the keynote happens.\nSecond line.",
		EntryMode:              store.EntryInvite,
		RoomSize:               37,
		MemberPermissions:      store.PermFly | store.PermPinObjects | store.PermTextChat,
		SceneRef:               "scene:Ab3xYz9",
		CreatorAssignmentToken: "c0ffee",
		// Sub-millisecond digits and a non-UTC zone: the store must come back truncated, in UTC.
		CreatedAt:    time.Date(2024, 3, 5, 10, 11, 12, 345678901, time.FixedZone("CET", 3600)),
		LastActiveAt: time.Date(2024, 3, 6, 9, 0, 0, 999999999, time.FixedZone("PST", -8*3600)),
	}
}

func mustCreate(t *testing.T, s store.Store, h store.Hub) store.Hub {
	t.Helper()
	got, err := s.CreateHub(context.Background(), h)
	if err != nil {
		t.Fatalf("CreateHub: %v", err)
	}
	return got
}

func mustGet(t *testing.T, s store.Store, sid store.HubSID) store.Hub {
	t.Helper()
	got, err := s.GetHub(context.Background(), sid)
	if err != nil {
		t.Fatalf("GetHub(%s): %v", sid, err)
	}
	return got
}

// diffHub lists the fields that differ; times must be equal instants and both in UTC.
func diffHub(got, want store.Hub) []string {
	var d []string
	check := func(name string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	check("ID", got.ID, want.ID)
	check("SID", got.SID, want.SID)
	check("Slug", got.Slug, want.Slug)
	check("Name", got.Name, want.Name)
	check("Description", got.Description, want.Description)
	check("EntryMode", got.EntryMode, want.EntryMode)
	check("RoomSize", got.RoomSize, want.RoomSize)
	check("MemberPermissions", got.MemberPermissions, want.MemberPermissions)
	check("SceneRef", got.SceneRef, want.SceneRef)
	check("CreatorAssignmentToken", got.CreatorAssignmentToken, want.CreatorAssignmentToken)
	check("CreatedBy", got.CreatedBy, want.CreatedBy)
	checkTime := func(name string, g, w time.Time) {
		if !g.Equal(w) || g.Location() != time.UTC {
			d = append(d, fmt.Sprintf("%s = %v, want %v (UTC)", name, g, w.UTC()))
		}
	}
	checkTime("CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime("LastActiveAt", got.LastActiveAt, want.LastActiveAt)
	return d
}

func assertHub(t *testing.T, what string, got, want store.Hub) {
	t.Helper()
	if d := diffHub(got, want); len(d) > 0 {
		t.Errorf("%s:\n  %s", what, strings.Join(d, "\n  "))
	}
}

func testHubRoundTrip(t *testing.T, s store.Store) {
	in := sampleHub()
	created := mustCreate(t, s, in)
	if created.ID == 0 {
		t.Fatal("CreateHub left ID zero")
	}
	want := in
	want.ID = created.ID
	want.CreatedAt = in.CreatedAt.Truncate(time.Millisecond)
	want.LastActiveAt = in.LastActiveAt.Truncate(time.Millisecond)
	assertHub(t, "CreateHub result", created, want)
	assertHub(t, "GetHub", mustGet(t, s, in.SID), want)
}

func testCreateAssignsDefaults(t *testing.T, s store.Store) {
	before := time.Now().Add(-time.Millisecond)
	h := mustCreate(t, s, store.Hub{Name: "Café Lounge #2", EntryMode: store.EntryAllow, RoomSize: 24,
		MemberPermissions: store.PermRestrictiveDefault})
	after := time.Now().Add(time.Millisecond)
	if !h.SID.Valid() {
		t.Errorf("assigned SID %q is not valid", h.SID)
	}
	if h.Slug != "café-lounge-2" {
		t.Errorf("Slug = %q, want %q", h.Slug, "café-lounge-2")
	}
	if h.CreatedAt.Before(before) || h.CreatedAt.After(after) {
		t.Errorf("CreatedAt = %v, want between %v and %v", h.CreatedAt, before, after)
	}
	if !h.LastActiveAt.Equal(h.CreatedAt) {
		t.Errorf("LastActiveAt = %v, want CreatedAt %v", h.LastActiveAt, h.CreatedAt)
	}
	assertHub(t, "GetHub", mustGet(t, s, h.SID), h)
}

func testCreateKeepsExplicitID(t *testing.T, s store.Store) {
	// Restores and imports keep their ids.
	in := sampleHub()
	in.ID = 4242
	h := mustCreate(t, s, in)
	if h.ID != 4242 {
		t.Errorf("ID = %d, want 4242", h.ID)
	}
	other := sampleHub()
	other.ID = 4242
	if _, err := s.CreateHub(context.Background(), other); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateHub with a taken ID: err = %v, want ErrConflict", err)
	}
}

func testDuplicateSID(t *testing.T, s store.Store) {
	first := mustCreate(t, s, sampleHub())
	dup := sampleHub()
	dup.SID = first.SID
	dup.Name = "Impostor"
	_, err := s.CreateHub(context.Background(), dup)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CreateHub with a taken SID: err = %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), string(first.SID)) {
		t.Errorf("error %q does not name the SID", err)
	}
	assertHub(t, "original after conflict", mustGet(t, s, first.SID), first)
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, sampleHub()) // a non-empty table, so a backend cannot pass by returning the only row
	missing := store.NewSID()
	name := "x"
	if _, err := s.GetHub(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetHub: err = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateHub(ctx, missing, store.HubUpdate{Name: &name}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateHub: err = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateHub(ctx, missing, store.HubUpdate{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("empty UpdateHub: err = %v, want ErrNotFound", err)
	}
	if err := s.TouchHub(ctx, missing, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchHub: err = %v, want ErrNotFound", err)
	}
}

func ptr[T any](v T) *T { return &v }

// updateCases each set one HubUpdate field and say what the hub should look like afterwards.
func updateCases() []struct {
	name  string
	u     store.HubUpdate
	apply func(*store.Hub)
} {
	return []struct {
		name  string
		u     store.HubUpdate
		apply func(*store.Hub)
	}{
		{"Name", store.HubUpdate{Name: ptr("Side Room")},
			func(h *store.Hub) { h.Name, h.Slug = "Side Room", "side-room" }},
		{"Slug", store.HubUpdate{Slug: ptr("custom-slug")}, func(h *store.Hub) { h.Slug = "custom-slug" }},
		{"Description", store.HubUpdate{Description: ptr("")}, func(h *store.Hub) { h.Description = "" }},
		{"SceneRef", store.HubUpdate{SceneRef: ptr("")}, func(h *store.Hub) { h.SceneRef = "" }},
		{"CreatorAssignmentToken", store.HubUpdate{CreatorAssignmentToken: ptr("")},
			func(h *store.Hub) { h.CreatorAssignmentToken = "" }},
		{"EntryMode", store.HubUpdate{EntryMode: ptr(store.EntryDeny)}, func(h *store.Hub) { h.EntryMode = store.EntryDeny }},
		{"RoomSize", store.HubUpdate{RoomSize: ptr(0)}, func(h *store.Hub) { h.RoomSize = 0 }},
		{"MemberPermissions", store.HubUpdate{MemberPermissions: ptr(store.PermAll)},
			func(h *store.Hub) { h.MemberPermissions = store.PermAll }},
		{"Nothing", store.HubUpdate{}, func(*store.Hub) {}},
	}
}

func testUpdateEachField(t *testing.T, s store.Store) {
	for _, tc := range updateCases() {
		t.Run(tc.name, func(t *testing.T) {
			before := mustCreate(t, s, sampleHub())
			want := before
			tc.apply(&want)
			got, err := s.UpdateHub(context.Background(), before.SID, tc.u)
			if err != nil {
				t.Fatalf("UpdateHub: %v", err)
			}
			assertHub(t, "UpdateHub result", got, want)
			assertHub(t, "GetHub after update", mustGet(t, s, before.SID), want)
		})
	}
}

func testUpdateAllFields(t *testing.T, s store.Store) {
	before := mustCreate(t, s, sampleHub())
	bystander := mustCreate(t, s, sampleHub())
	u := store.HubUpdate{
		Name:                   ptr("Renamed"),
		Description:            ptr("New description"),
		SceneRef:               ptr("scene:Zz9Yy8X"),
		CreatorAssignmentToken: ptr(""),
		EntryMode:              ptr(store.EntryAllow),
		RoomSize:               ptr(1000),
		MemberPermissions:      ptr(store.PermSpawnCamera | store.PermVoiceChat),
	}
	want := before
	want.Name, want.Slug, want.Description = "Renamed", "renamed", "New description"
	want.SceneRef, want.CreatorAssignmentToken = "scene:Zz9Yy8X", ""
	want.EntryMode, want.RoomSize = store.EntryAllow, 1000
	want.MemberPermissions = store.PermSpawnCamera | store.PermVoiceChat
	got, err := s.UpdateHub(context.Background(), before.SID, u)
	if err != nil {
		t.Fatalf("UpdateHub: %v", err)
	}
	assertHub(t, "UpdateHub result", got, want)
	assertHub(t, "GetHub after update", mustGet(t, s, before.SID), want)
	assertHub(t, "other hub", mustGet(t, s, bystander.SID), bystander)
}

func testUpdateNameDerivesSlug(t *testing.T, s store.Store) {
	h := mustCreate(t, s, sampleHub())
	got, err := s.UpdateHub(context.Background(), h.SID, store.HubUpdate{Name: ptr("A  B"), Slug: ptr("kept")})
	if err != nil {
		t.Fatalf("UpdateHub: %v", err)
	}
	if got.Slug != "kept" {
		t.Errorf("explicit slug with new name: Slug = %q, want %q", got.Slug, "kept")
	}
}

func testTouchHub(t *testing.T, s store.Store) {
	h := mustCreate(t, s, sampleHub())
	other := mustCreate(t, s, sampleHub())
	at := time.Date(2030, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("X", 5*3600))
	if err := s.TouchHub(context.Background(), h.SID, at); err != nil {
		t.Fatalf("TouchHub: %v", err)
	}
	want := h
	want.LastActiveAt = at.Truncate(time.Millisecond)
	assertHub(t, "after TouchHub", mustGet(t, s, h.SID), want)
	assertHub(t, "other hub", mustGet(t, s, other.SID), other)
	// Setting, not maximising: an earlier time is stored as given.
	earlier := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.TouchHub(context.Background(), h.SID, earlier); err != nil {
		t.Fatalf("TouchHub: %v", err)
	}
	want.LastActiveAt = earlier
	assertHub(t, "after TouchHub to an earlier time", mustGet(t, s, h.SID), want)
}

func testCreateValidation(t *testing.T, s store.Store) {
	cases := []struct {
		name   string
		modify func(*store.Hub)
	}{
		{"name 65 characters", func(h *store.Hub) { h.Name = strings.Repeat("é", 65) }},
		{"empty name", func(h *store.Hub) { h.Name = "" }},
		{"description too long", func(h *store.Hub) { h.Description = strings.Repeat("a", 64001) }},
		{"bad entry mode", func(h *store.Hub) { h.EntryMode = "open" }},
		{"empty entry mode", func(h *store.Hub) { h.EntryMode = "" }},
		{"negative room size", func(h *store.Hub) { h.RoomSize = -1 }},
		{"room size above 1000", func(h *store.Hub) { h.RoomSize = 1001 }},
		{"malformed SID", func(h *store.Hub) { h.SID = "abc0OlI" }},
		{"short SID", func(h *store.Hub) { h.SID = "abc" }},
		{"non-canonical slug", func(h *store.Hub) { h.Slug = "Has Spaces" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := sampleHub()
			tc.modify(&h)
			_, err := s.CreateHub(context.Background(), h)
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("CreateHub: err = %v, want ErrInvalid", err)
			}
			if _, err := s.GetHub(context.Background(), h.SID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after refused create, GetHub: err = %v, want ErrNotFound", err)
			}
		})
	}
	// The limits themselves are allowed: 64 characters even when they take more than 64 bytes.
	ok := sampleHub()
	ok.Name = strings.Repeat("é", 64)
	ok.Description = strings.Repeat("d", 64000)
	ok.RoomSize = 1000
	mustCreate(t, s, ok)
}

func testUpdateValidation(t *testing.T, s store.Store) {
	cases := []struct {
		name string
		u    store.HubUpdate
	}{
		{"name 65 characters", store.HubUpdate{Name: ptr(strings.Repeat("n", 65))}},
		{"empty name", store.HubUpdate{Name: ptr("")}},
		{"description too long", store.HubUpdate{Description: ptr(strings.Repeat("a", 64001))}},
		{"bad entry mode", store.HubUpdate{EntryMode: ptr(store.EntryMode("open"))}},
		{"negative room size", store.HubUpdate{RoomSize: ptr(-1)}},
		{"room size above 1000", store.HubUpdate{RoomSize: ptr(1001)}},
		{"bad slug", store.HubUpdate{Slug: ptr("-x-")}},
		// One bad field spoils the whole update: the good ones must not be applied either.
		{"good and bad together", store.HubUpdate{Description: ptr("fine"), RoomSize: ptr(-5)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := mustCreate(t, s, sampleHub())
			if _, err := s.UpdateHub(context.Background(), before.SID, tc.u); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("UpdateHub: err = %v, want ErrInvalid", err)
			}
			assertHub(t, "after refused update", mustGet(t, s, before.SID), before)
		})
	}
}

func mustSettings(t *testing.T, s store.Store) store.SiteSettings {
	t.Helper()
	got, err := s.SiteSettings(context.Background())
	if err != nil {
		t.Fatalf("SiteSettings: %v", err)
	}
	return got
}

func testSettingsDefaults(t *testing.T, s store.Store) {
	want := store.SiteSettings{DefaultRoomSize: 24, MaxRoomSize: 50, CostScalar: 1, IdleMinutes: 5}
	if got := mustSettings(t, s); got != want {
		t.Errorf("SiteSettings = %+v, want %+v", got, want)
	}
	if got := want.DefaultMemberPermissions(); got != 192 {
		t.Errorf("restrictive DefaultMemberPermissions = %d, want 192", got)
	}
}

func testSettingsSetEach(t *testing.T, s store.Store) {
	ctx := context.Background()
	steps := []struct {
		key, value string
		apply      func(*store.SiteSettings)
	}{
		{"max_room_size", "200", func(x *store.SiteSettings) { x.MaxRoomSize = 200 }},
		{"default_room_size", "100", func(x *store.SiteSettings) { x.DefaultRoomSize = 100 }},
		{"permissive_rooms", "true", func(x *store.SiteSettings) { x.PermissiveRooms = true }},
		{"require_account_for_join", "true", func(x *store.SiteSettings) { x.RequireAccountForJoin = true }},
		{"disable_room_creation", "true", func(x *store.SiteSettings) { x.DisableRoomCreation = true }},
		{"permissive_rooms", "false", func(x *store.SiteSettings) { x.PermissiveRooms = false }},
		{"default_room_size", "1", func(x *store.SiteSettings) { x.DefaultRoomSize = 1 }},
		{"max_room_size", "1000", func(x *store.SiteSettings) { x.MaxRoomSize = 1000 }},
		{"disable_room_creation", "false", func(x *store.SiteSettings) { x.DisableRoomCreation = false }},
		{"offline", "true", func(x *store.SiteSettings) { x.Offline = true }},
		{"offline_redirect_url", "https://example.org/later", func(x *store.SiteSettings) { x.OfflineRedirectURL = "https://example.org/later" }},
		{"offline_redirect_url", "", func(x *store.SiteSettings) { x.OfflineRedirectURL = "" }},
		{"monthly_budget_usd", "20.5", func(x *store.SiteSettings) { x.MonthlyBudget = 20.5 }},
		{"cost_per_hour_usd", "0.185", func(x *store.SiteSettings) { x.CostPerHour = 0.185 }},
		{"cost_scalar", "2", func(x *store.SiteSettings) { x.CostScalar = 2 }},
		{"idle_minutes", "30", func(x *store.SiteSettings) { x.IdleMinutes = 30 }},
	}
	want := store.DefaultSiteSettings()
	for _, st := range steps {
		if err := s.SetSiteSetting(ctx, st.key, st.value); err != nil {
			t.Fatalf("SetSiteSetting(%s, %s): %v", st.key, st.value, err)
		}
		st.apply(&want)
		if got := mustSettings(t, s); got != want {
			t.Fatalf("after %s=%s: SiteSettings = %+v, want %+v", st.key, st.value, got, want)
		}
	}
	if err := s.SetSiteSetting(ctx, "permissive_rooms", "true"); err != nil {
		t.Fatal(err)
	}
	if got := mustSettings(t, s).DefaultMemberPermissions(); got != 255 {
		t.Errorf("permissive DefaultMemberPermissions = %d, want 255", got)
	}
}

func testSettingsInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Start from non-default values, so "nothing changed" cannot be confused with "reset to defaults".
	for _, kv := range [][2]string{{"max_room_size", "60"}, {"default_room_size", "30"}, {"permissive_rooms", "true"}} {
		if err := s.SetSiteSetting(ctx, kv[0], kv[1]); err != nil {
			t.Fatalf("SetSiteSetting(%s, %s): %v", kv[0], kv[1], err)
		}
	}
	before := mustSettings(t, s)
	cases := []struct{ key, value, mentions string }{
		{"no_such_setting", "1", "default_room_size"}, // the message lists the known keys
		{"", "1", "known settings"},
		{"Default_Room_Size", "10", "known settings"},
		{"default_room_size", "0", "1 to 1000"},
		{"default_room_size", "-3", "1 to 1000"},
		{"max_room_size", "1001", "1 to 1000"},
		{"max_room_size", "fifty", "1 to 1000"},
		{"max_room_size", "50.5", "1 to 1000"},
		{"default_room_size", " 24", "1 to 1000"},
		{"default_room_size", "", "1 to 1000"},
		{"permissive_rooms", "yes", "true or false"},
		{"require_account_for_join", "1", "true or false"},
		{"disable_room_creation", "TRUE", "true or false"},
		{"disable_room_creation", "", "true or false"},
		{"offline", "on", "true or false"},
		{"offline_redirect_url", "example.org", "http(s) URL"},
		{"offline_redirect_url", "javascript:alert(1)", "http(s) URL"},
		{"monthly_budget_usd", "-5", "from 0"},
		{"monthly_budget_usd", "NaN", "from 0"},
		{"cost_per_hour_usd", "cheap", "from 0"},
		{"cost_scalar", "1000", "from 0"},
		{"idle_minutes", "0", "1 to 1440"},
	}
	for _, tc := range cases {
		err := s.SetSiteSetting(ctx, tc.key, tc.value)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SetSiteSetting(%q, %q): err = %v, want ErrInvalid", tc.key, tc.value, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.mentions) {
			t.Errorf("SetSiteSetting(%q, %q): error %q does not say %q", tc.key, tc.value, err, tc.mentions)
		}
	}
	if got := mustSettings(t, s); got != before {
		t.Errorf("after refused sets: SiteSettings = %+v, want unchanged %+v", got, before)
	}
}

func testSettingsDefaultAboveMax(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.SetSiteSetting(ctx, "default_room_size", "51"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("default 51 with max 50: err = %v, want ErrInvalid", err)
	}
	if err := s.SetSiteSetting(ctx, "max_room_size", "23"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("max 23 with default 24: err = %v, want ErrInvalid", err)
	}
	// Equal is allowed.
	if err := s.SetSiteSetting(ctx, "default_room_size", "50"); err != nil {
		t.Errorf("default 50 with max 50: %v", err)
	}
	if err := s.SetSiteSetting(ctx, "max_room_size", "49"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("max 49 with default 50: err = %v, want ErrInvalid", err)
	}
	want := store.DefaultSiteSettings()
	want.DefaultRoomSize = 50
	if got := mustSettings(t, s); got != want {
		t.Errorf("SiteSettings = %+v, want %+v", got, want)
	}
}

func testConcurrentCreates(t *testing.T, s store.Store) {
	const workers, each = 8, 15
	ctx := context.Background()
	var mu sync.Mutex // guards created
	created := map[int64]store.HubSID{}
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				h, err := s.CreateHub(ctx, store.Hub{Name: fmt.Sprintf("room %d-%d", w, i),
					EntryMode: store.EntryAllow, RoomSize: 24})
				if err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				if prev, dup := created[h.ID]; dup {
					errs <- fmt.Errorf("ID %d given to both %s and %s", h.ID, prev, h.SID)
				}
				created[h.ID] = h.SID
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(created) != workers*each {
		t.Fatalf("%d distinct IDs, want %d", len(created), workers*each)
	}
	for id, sid := range created {
		if h := mustGet(t, s, sid); h.ID != id {
			t.Errorf("GetHub(%s).ID = %d, want %d", sid, h.ID, id)
		}
	}
}
