package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"toncon/internal/store"
)

func mustAccount(t *testing.T, s store.Store, email string) store.Account {
	t.Helper()
	a, _, _, err := s.FindOrCreateAccount(context.Background(), email)
	if err != nil {
		t.Fatalf("FindOrCreateAccount(%q): %v", email, err)
	}
	return a
}

func diffAccount(got, want store.Account) []string {
	var d []string
	if got.ID != want.ID || got.Email != want.Email || got.IsAdmin != want.IsAdmin || got.State != want.State {
		d = append(d, fmt.Sprintf("got {ID %d Email %q IsAdmin %v State %q}, want {ID %d Email %q IsAdmin %v State %q}",
			got.ID, got.Email, got.IsAdmin, got.State, want.ID, want.Email, want.IsAdmin, want.State))
	}
	for _, tc := range []struct {
		name   string
		g, w   time.Time
		zeroOK bool
	}{{"MinTokenIssuedAt", got.MinTokenIssuedAt, want.MinTokenIssuedAt, true}, {"CreatedAt", got.CreatedAt, want.CreatedAt, false}} {
		if !tc.g.Equal(tc.w) || (!tc.g.IsZero() && tc.g.Location() != time.UTC) {
			d = append(d, fmt.Sprintf("%s = %v, want %v (UTC)", tc.name, tc.g, tc.w))
		}
	}
	return d
}

func assertAccount(t *testing.T, what string, got, want store.Account) {
	t.Helper()
	for _, d := range diffAccount(got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

func testAccountEmailNormalised(t *testing.T, s store.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Millisecond)
	a, created, _, err := s.FindOrCreateAccount(ctx, "  Ada.Lovelace@Example.ORG ")
	if err != nil || !created {
		t.Fatalf("first FindOrCreateAccount: created=%v err=%v", created, err)
	}
	if a.Email != "ada.lovelace@example.org" || a.ID == 0 || a.State != store.AccountEnabled {
		t.Errorf("created %+v, want normalised email, an id, enabled", a)
	}
	if a.CreatedAt.Before(before) || a.CreatedAt.After(time.Now().Add(time.Millisecond)) || !a.MinTokenIssuedAt.IsZero() {
		t.Errorf("CreatedAt %v MinTokenIssuedAt %v: want now and zero", a.CreatedAt, a.MinTokenIssuedAt)
	}
	for _, spelling := range []string{"ada.lovelace@example.org", "ADA.LOVELACE@EXAMPLE.ORG", "\tada.lovelace@example.org\n"} {
		again, created, madeAdmin, err := s.FindOrCreateAccount(ctx, spelling)
		if err != nil || created || madeAdmin {
			t.Fatalf("FindOrCreateAccount(%q): created=%v madeAdmin=%v err=%v, want the existing account", spelling, created, madeAdmin, err)
		}
		assertAccount(t, "same account by "+spelling, again, a)
		byEmail, err := s.AccountByEmail(ctx, spelling)
		if err != nil {
			t.Fatalf("AccountByEmail(%q): %v", spelling, err)
		}
		assertAccount(t, "AccountByEmail "+spelling, byEmail, a)
	}
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertAccount(t, "GetAccount", got, a)
	other := mustAccount(t, s, "ada.lovelace@example.com")
	if other.ID == a.ID {
		t.Error("a different address got the same account")
	}
}

func testAccountInvalidEmail(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, bad := range []string{"", "   ", "ada", "ada@", "@example.org", "Ada <ada@example.org>", "<ada@example.org>",
		"ada@example.org (Ada)", `"ada@x"@example.org`, "ada@@example.org", "ada@exa mple.org", "ada@[127.0.0.1]",
		"ada@.example.org", "ada@example.org.", "a@" + longDomain()} {
		if _, _, _, err := s.FindOrCreateAccount(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("FindOrCreateAccount(%q): err = %v, want ErrInvalid", bad, err)
		}
		if _, err := s.AccountByEmail(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AccountByEmail(%q): err = %v, want ErrInvalid", bad, err)
		}
	}
	if n, err := s.AdminCount(ctx); err != nil || n != 0 {
		t.Errorf("after refused creates: AdminCount = %d, %v; want 0", n, err)
	}
}

// longDomain makes an address of 255 characters with the "a@" in front: one over the limit.
func longDomain() string {
	b := make([]byte, 0, 253)
	for len(b) < 249 {
		b = append(b, "abcdefg."...)
	}
	b = b[:249]
	return string(b) + ".org"
}

func testAccountUniqueEmailConcurrent(t *testing.T, s store.Store) {
	const n = 10
	var wg sync.WaitGroup
	ids := make([]store.AccountID, n)
	createdCount := 0
	var mu sync.Mutex // guards createdCount
	for i := range n {
		wg.Go(func() {
			a, created, _, err := s.FindOrCreateAccount(context.Background(), "Same@Example.org")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = a.ID
			if created {
				mu.Lock()
				createdCount++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Errorf("%d calls reported creating the account, want exactly 1", createdCount)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent FindOrCreateAccount returned different ids: %v", ids)
		}
	}
}

func testFirstAccountBecomesAdmin(t *testing.T, s store.Store) {
	ctx := context.Background()
	if n, err := s.AdminCount(ctx); err != nil || n != 0 {
		t.Fatalf("fresh store: AdminCount = %d, %v", n, err)
	}
	first, created, madeAdmin, err := s.FindOrCreateAccount(ctx, "first@example.org")
	if err != nil || !created || !madeAdmin || !first.IsAdmin {
		t.Fatalf("first account: %+v created=%v madeAdmin=%v err=%v, want a new admin", first, created, madeAdmin, err)
	}
	second, created, madeAdmin, err := s.FindOrCreateAccount(ctx, "second@example.org")
	if err != nil || !created || madeAdmin || second.IsAdmin {
		t.Fatalf("second account: %+v created=%v madeAdmin=%v err=%v, want a new non-admin", second, created, madeAdmin, err)
	}
	// Finding the admin again does not report making it admin again.
	if _, created, madeAdmin, _ := s.FindOrCreateAccount(ctx, "first@example.org"); created || madeAdmin {
		t.Errorf("found again: created=%v madeAdmin=%v", created, madeAdmin)
	}
	if n, _ := s.AdminCount(ctx); n != 1 {
		t.Errorf("AdminCount = %d, want 1", n)
	}
	// Removing the only admin makes the next new account admin: "no admin exists" is the rule, not "first ever".
	if _, err := s.UpdateAccount(ctx, first.ID, store.AccountUpdate{IsAdmin: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	third, _, madeAdmin, err := s.FindOrCreateAccount(ctx, "third@example.org")
	if err != nil || !madeAdmin || !third.IsAdmin {
		t.Errorf("with no admin left: %+v madeAdmin=%v err=%v, want admin", third, madeAdmin, err)
	}
}

// Ten first sign-ins at once must make exactly one admin. Races are probabilistic, so after each round the admin
// is demoted (back to "no admin exists") and another ten race.
func testFirstAdminRace(t *testing.T, s store.Store) {
	const rounds, n = 5, 10
	ctx := context.Background()
	for round := range rounds {
		var wg sync.WaitGroup
		results := make([]struct {
			a         store.Account
			madeAdmin bool
		}, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				a, created, madeAdmin, err := s.FindOrCreateAccount(ctx, fmt.Sprintf("racer%d-%d@example.org", round, i))
				if err != nil || !created {
					t.Errorf("round %d racer %d: created=%v err=%v", round, i, created, err)
				}
				results[i].a, results[i].madeAdmin = a, madeAdmin
			})
		}
		close(start)
		wg.Wait()
		var admins []store.Account
		for i, r := range results {
			if r.madeAdmin != r.a.IsAdmin {
				t.Errorf("round %d racer %d: madeAdmin=%v but IsAdmin=%v", round, i, r.madeAdmin, r.a.IsAdmin)
			}
			if r.madeAdmin {
				admins = append(admins, r.a)
			}
		}
		if len(admins) != 1 {
			t.Fatalf("round %d: %d of %d concurrent first accounts were made admin, want exactly 1", round, len(admins), n)
		}
		if c, err := s.AdminCount(ctx); err != nil || c != 1 {
			t.Fatalf("round %d: AdminCount = %d, %v; want 1", round, c, err)
		}
		if _, err := s.UpdateAccount(ctx, admins[0].ID, store.AccountUpdate{IsAdmin: ptr(false)}); err != nil {
			t.Fatal(err)
		}
	}
}

func testDisabledAdminStillCounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	admin := mustAccount(t, s, "admin@example.org")
	if _, err := s.UpdateAccount(ctx, admin.ID, store.AccountUpdate{State: ptr(store.AccountDisabled)}); err != nil {
		t.Fatal(err)
	}
	next, _, madeAdmin, err := s.FindOrCreateAccount(ctx, "next@example.org")
	if err != nil || madeAdmin || next.IsAdmin {
		t.Errorf("after disabling the admin, a new account: %+v madeAdmin=%v err=%v; want no admin rights", next, madeAdmin, err)
	}
	if n, _ := s.AdminCount(ctx); n != 1 {
		t.Errorf("AdminCount = %d, want 1 (the disabled admin)", n)
	}
}

func testAccountUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustAccount(t, s, "admin@example.org") // takes the admin role, so the account under test starts as a non-admin
	a := mustAccount(t, s, "user@example.org")
	bystander := mustAccount(t, s, "bystander@example.org")
	steps := []struct {
		name  string
		u     store.AccountUpdate
		apply func(*store.Account)
	}{
		{"nothing", store.AccountUpdate{}, func(*store.Account) {}},
		{"make admin", store.AccountUpdate{IsAdmin: ptr(true)}, func(a *store.Account) { a.IsAdmin = true }},
		{"disable", store.AccountUpdate{State: ptr(store.AccountDisabled)}, func(a *store.Account) { a.State = store.AccountDisabled }},
		{"revoke tokens", store.AccountUpdate{MinTokenIssuedAt: ptr(time.Date(2030, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("X", 3600)))},
			func(a *store.Account) { a.MinTokenIssuedAt = time.Date(2030, 5, 6, 6, 8, 9, 123_000_000, time.UTC) }},
		// Never backwards: an earlier time leaves the later one in place.
		{"earlier revocation is ignored", store.AccountUpdate{MinTokenIssuedAt: ptr(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))},
			func(*store.Account) {}},
		{"zero revocation is ignored", store.AccountUpdate{MinTokenIssuedAt: ptr(time.Time{})}, func(*store.Account) {}},
		{"later revocation", store.AccountUpdate{MinTokenIssuedAt: ptr(time.Date(2031, 1, 1, 0, 0, 0, 1_000_000, time.UTC))},
			func(a *store.Account) { a.MinTokenIssuedAt = time.Date(2031, 1, 1, 0, 0, 0, 1_000_000, time.UTC) }},
		{"all at once", store.AccountUpdate{IsAdmin: ptr(false), State: ptr(store.AccountEnabled)},
			func(a *store.Account) { a.IsAdmin, a.State = false, store.AccountEnabled }},
	}
	want := a
	for _, st := range steps {
		got, err := s.UpdateAccount(ctx, a.ID, st.u)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		st.apply(&want)
		assertAccount(t, st.name+": UpdateAccount result", got, want)
		stored, err := s.GetAccount(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		assertAccount(t, st.name+": GetAccount", stored, want)
	}
	if _, err := s.UpdateAccount(ctx, a.ID, store.AccountUpdate{IsAdmin: ptr(true), State: ptr(store.AccountState("banned"))}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown state: err = %v, want ErrInvalid", err)
	}
	if got, _ := s.GetAccount(ctx, a.ID); len(diffAccount(got, want)) > 0 {
		t.Errorf("a refused update changed the account: %+v", got)
	}
	if got, _ := s.GetAccount(ctx, bystander.ID); len(diffAccount(got, bystander)) > 0 {
		t.Errorf("another account changed: %+v, want %+v", got, bystander)
	}
}

func testAccountNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "exists@example.org")
	if _, err := s.GetAccount(ctx, a.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAccount: err = %v, want ErrNotFound", err)
	}
	if _, err := s.AccountByEmail(ctx, "missing@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AccountByEmail: err = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateAccount(ctx, a.ID+1000, store.AccountUpdate{IsAdmin: ptr(true)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAccount: err = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateAccount(ctx, a.ID+1000, store.AccountUpdate{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("empty UpdateAccount: err = %v, want ErrNotFound", err)
	}
}

func tokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testLoginTokenOneUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := s.SaveLoginToken(ctx, tokenHash("one"), " Ada@Example.org", now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLoginToken(ctx, tokenHash("two"), "bob@example.org", now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeLoginToken(ctx, tokenHash("unknown"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown token: err = %v, want ErrNotFound", err)
	}
	email, err := s.TakeLoginToken(ctx, tokenHash("one"), now)
	if err != nil || email != "ada@example.org" {
		t.Fatalf("TakeLoginToken = %q, %v; want the normalised email", email, err)
	}
	if _, err := s.TakeLoginToken(ctx, tokenHash("one"), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second take: err = %v, want ErrNotFound (a link works once)", err)
	}
	if email, err := s.TakeLoginToken(ctx, tokenHash("two"), now.Add(time.Minute)); err != nil || email != "bob@example.org" {
		t.Errorf("other token: %q, %v", email, err)
	}
}

func testLoginTokenExpiry(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	expires := now.Add(30 * time.Minute)
	for _, name := range []string{"early", "late", "sweep"} {
		if err := s.SaveLoginToken(ctx, tokenHash(name), "ada@example.org", expires); err != nil {
			t.Fatal(err)
		}
	}
	if email, err := s.TakeLoginToken(ctx, tokenHash("early"), expires.Add(-time.Millisecond)); err != nil || email != "ada@example.org" {
		t.Errorf("a millisecond before expiry: %q, %v; want valid", email, err)
	}
	if _, err := s.TakeLoginToken(ctx, tokenHash("late"), expires); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("at expiry: err = %v, want ErrNotFound", err)
	}
	// A take sweeps expired tokens: "sweep" is gone, so its hash can be saved again without a conflict, and taking
	// it before its new expiry works.
	if _, err := s.TakeLoginToken(ctx, tokenHash("nothing"), expires.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.SaveLoginToken(ctx, tokenHash("sweep"), "bob@example.org", expires.Add(2*time.Hour)); err != nil {
		t.Fatalf("saving a swept token's hash again: %v", err)
	}
	if email, err := s.TakeLoginToken(ctx, tokenHash("sweep"), expires.Add(time.Hour)); err != nil || email != "bob@example.org" {
		t.Errorf("resaved token: %q, %v", email, err)
	}
}

func testLoginTokenInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	if err := s.SaveLoginToken(ctx, nil, "ada@example.org", exp); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty hash: err = %v, want ErrInvalid", err)
	}
	if err := s.SaveLoginToken(ctx, tokenHash("x"), "not an email", exp); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad email: err = %v, want ErrInvalid", err)
	}
	if err := s.SaveLoginToken(ctx, tokenHash("x"), "ada@example.org", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveLoginToken(ctx, tokenHash("x"), "eve@example.org", exp); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same hash twice: err = %v, want ErrConflict", err)
	}
	if email, err := s.TakeLoginToken(ctx, tokenHash("x"), time.Now()); err != nil || email != "ada@example.org" {
		t.Errorf("after a refused save: %q, %v; want the first email", email, err)
	}
}

func testLoginTokenConcurrentTake(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	if err := s.SaveLoginToken(ctx, tokenHash("race"), "ada@example.org", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards wins
	wins := 0
	for range 10 {
		wg.Go(func() {
			_, err := s.TakeLoginToken(ctx, tokenHash("race"), now)
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, store.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent takes of one token succeeded, want exactly 1", wins)
	}
}

func testHubOwners(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	other := mustCreate(t, s, sampleHub())
	a := mustAccount(t, s, "a@example.org")
	b := mustAccount(t, s, "b@example.org")
	owners := func(sid store.HubSID) []store.AccountID {
		t.Helper()
		got, err := s.HubOwners(ctx, sid)
		if err != nil {
			t.Fatalf("HubOwners: %v", err)
		}
		return got
	}
	if got := owners(h.SID); len(got) != 0 {
		t.Fatalf("new hub has owners %v", got)
	}
	for _, id := range []store.AccountID{b.ID, a.ID, b.ID} { // twice is fine
		if err := s.AddHubOwner(ctx, h.SID, id); err != nil {
			t.Fatalf("AddHubOwner(%d): %v", id, err)
		}
	}
	want := []store.AccountID{a.ID, b.ID}
	slices.Sort(want)
	if got := owners(h.SID); !slices.Equal(got, want) {
		t.Errorf("owners = %v, want %v in ascending order", got, want)
	}
	if got := owners(other.SID); len(got) != 0 {
		t.Errorf("the other hub got owners %v", got)
	}
	for range 2 { // twice is fine
		if err := s.RemoveHubOwner(ctx, h.SID, b.ID); err != nil {
			t.Fatalf("RemoveHubOwner: %v", err)
		}
	}
	if got := owners(h.SID); !slices.Equal(got, []store.AccountID{a.ID}) {
		t.Errorf("after removing b: owners = %v, want [%d]", got, a.ID)
	}
}

func testHubOwnersNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	a := mustAccount(t, s, "a@example.org")
	missing := store.NewSID()
	if err := s.AddHubOwner(ctx, missing, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddHubOwner to a missing hub: err = %v, want ErrNotFound", err)
	}
	if err := s.AddHubOwner(ctx, h.SID, a.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddHubOwner of a missing account: err = %v, want ErrNotFound", err)
	}
	if err := s.RemoveHubOwner(ctx, missing, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveHubOwner from a missing hub: err = %v, want ErrNotFound", err)
	}
	if _, err := s.HubOwners(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("HubOwners of a missing hub: err = %v, want ErrNotFound", err)
	}
	if got, _ := s.HubOwners(ctx, h.SID); len(got) != 0 {
		t.Errorf("a refused add left owners %v", got)
	}
}

func testHubInvites(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	other := mustCreate(t, s, sampleHub())
	valid := func(sid store.HubSID, id string) bool {
		t.Helper()
		ok, err := s.ValidHubInvite(ctx, sid, id)
		if err != nil {
			t.Fatalf("ValidHubInvite: %v", err)
		}
		return ok
	}
	first, err := s.HubInvite(ctx, h.SID)
	if err != nil {
		t.Fatal(err)
	}
	if !store.HubSID(first).Valid() {
		t.Errorf("invite id %q does not look like a 7-character sid", first)
	}
	if again, err := s.HubInvite(ctx, h.SID); err != nil || again != first {
		t.Errorf("HubInvite again = %q, %v; want the same active invite %q", again, err, first)
	}
	if !valid(h.SID, first) {
		t.Error("the active invite is not valid")
	}
	if valid(other.SID, first) {
		t.Error("one room's invite is valid for another room")
	}
	if valid(h.SID, "") || valid(h.SID, "nope123") {
		t.Error("a made-up invite is valid")
	}
	otherInvite, err := s.HubInvite(ctx, other.SID)
	if err != nil || otherInvite == first {
		t.Fatalf("other hub's invite %q, %v; want its own", otherInvite, err)
	}

	if _, err := s.RevokeHubInvite(ctx, h.SID, "wrong12"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking an id that is not the active invite: err = %v, want ErrNotFound", err)
	}
	if !valid(h.SID, first) {
		t.Error("a refused revoke invalidated the invite")
	}
	second, err := s.RevokeHubInvite(ctx, h.SID, first)
	if err != nil || second == "" || second == first {
		t.Fatalf("RevokeHubInvite = %q, %v; want a new invite", second, err)
	}
	if valid(h.SID, first) {
		t.Error("the revoked invite is still valid")
	}
	if !valid(h.SID, second) {
		t.Error("the new invite is not valid")
	}
	if cur, _ := s.HubInvite(ctx, h.SID); cur != second {
		t.Errorf("HubInvite after revoke = %q, want %q", cur, second)
	}
	if _, err := s.RevokeHubInvite(ctx, h.SID, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking the old invite again: err = %v, want ErrNotFound", err)
	}
	if !valid(other.SID, otherInvite) {
		t.Error("revoking one room's invite touched another room's")
	}

	missing := store.NewSID()
	if _, err := s.HubInvite(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("HubInvite of a missing hub: err = %v, want ErrNotFound", err)
	}
	if _, err := s.RevokeHubInvite(ctx, missing, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeHubInvite of a missing hub: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ValidHubInvite(ctx, missing, first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ValidHubInvite of a missing hub: err = %v, want ErrNotFound", err)
	}
}

// Two owners pressing "revoke" at once must leave one active invite, not two.
func testHubInvitesConcurrentRevoke(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	first, err := s.HubInvite(ctx, h.SID)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards made
	var made []string
	for range 8 {
		wg.Go(func() {
			next, err := s.RevokeHubInvite(ctx, h.SID, first)
			switch {
			case err == nil:
				mu.Lock()
				made = append(made, next)
				mu.Unlock()
			case !errors.Is(err, store.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(made) != 1 {
		t.Fatalf("%d concurrent revokes of one invite succeeded, want 1", len(made))
	}
	if cur, _ := s.HubInvite(ctx, h.SID); cur != made[0] {
		t.Errorf("active invite %q, want %q", cur, made[0])
	}
}

func testHubCreatedBy(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "creator@example.org")
	b := mustAccount(t, s, "claimer@example.org")
	in := sampleHub()
	in.CreatedBy = a.ID
	h := mustCreate(t, s, in)
	if h.CreatedBy != a.ID {
		t.Errorf("CreateHub result CreatedBy = %d, want %d", h.CreatedBy, a.ID)
	}
	assertHub(t, "GetHub", mustGet(t, s, h.SID), h)
	anon := mustCreate(t, s, sampleHub())
	if anon.CreatedBy != 0 || mustGet(t, s, anon.SID).CreatedBy != 0 {
		t.Error("a hub created by nobody has a creator")
	}
	got, err := s.UpdateHub(ctx, h.SID, store.HubUpdate{CreatedBy: ptr(b.ID), CreatorAssignmentToken: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	want := h
	want.CreatedBy, want.CreatorAssignmentToken = b.ID, ""
	assertHub(t, "after claiming", got, want)
	assertHub(t, "GetHub after claiming", mustGet(t, s, h.SID), want)
	// An update that does not mention CreatedBy keeps it.
	if got, err := s.UpdateHub(ctx, h.SID, store.HubUpdate{Name: ptr("Renamed")}); err != nil || got.CreatedBy != b.ID {
		t.Errorf("unrelated update: CreatedBy = %d, %v; want %d", got.CreatedBy, err, b.ID)
	}
	if got, err := s.UpdateHub(ctx, h.SID, store.HubUpdate{CreatedBy: ptr(store.AccountID(0))}); err != nil || got.CreatedBy != 0 {
		t.Errorf("clearing: CreatedBy = %d, %v; want 0", got.CreatedBy, err)
	}
	for _, bad := range []store.AccountID{-1, b.ID + 1000} {
		if _, err := s.UpdateHub(ctx, h.SID, store.HubUpdate{CreatedBy: ptr(bad)}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("UpdateHub CreatedBy %d: err = %v, want ErrInvalid", bad, err)
		}
		badHub := sampleHub()
		badHub.CreatedBy = bad
		if _, err := s.CreateHub(ctx, badHub); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateHub CreatedBy %d: err = %v, want ErrInvalid", bad, err)
		}
	}
	if got := mustGet(t, s, h.SID); got.CreatedBy != 0 {
		t.Errorf("refused updates changed CreatedBy to %d", got.CreatedBy)
	}
}
