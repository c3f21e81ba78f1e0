package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRateLimiterSlidingWindow(t *testing.T) {
	l := newRateLimiter(10 * time.Minute)
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	addr := func(a string) limitKey { return limitKey{"addr:" + a, 5} }
	email := func(e string) limitKey { return limitKey{"email:" + e, 3} }
	steps := []struct {
		at          time.Duration
		keys        []limitKey
		ok          bool
		waitAtLeast time.Duration
	}{
		// Three for one email from one address: allowed; the fourth hits the email limit (3).
		{0, []limitKey{addr("1"), email("ada")}, true, 0},
		{time.Minute, []limitKey{addr("1"), email("ada")}, true, 0},
		{2 * time.Minute, []limitKey{addr("1"), email("ada")}, true, 0},
		{3 * time.Minute, []limitKey{addr("2"), email("ada")}, false, 7 * time.Minute}, // from another address too
		// The refused request did not count against address 2, and the address limit is separate.
		{3 * time.Minute, []limitKey{addr("1"), email("bob")}, true, 0},
		{3 * time.Minute, []limitKey{addr("1"), email("cy")}, true, 0},
		{4 * time.Minute, []limitKey{addr("1"), email("dee")}, false, 6 * time.Minute}, // address 1 has 5
		{4 * time.Minute, []limitKey{addr("2"), email("dee")}, true, 0},
		// At exactly 10 minutes the first request leaves the window.
		{10*time.Minute - time.Second, []limitKey{addr("3"), email("ada")}, false, time.Second},
		{10 * time.Minute, []limitKey{addr("3"), email("ada")}, true, 0},
		{10 * time.Minute, []limitKey{addr("1"), email("eve")}, true, 0},
		{10 * time.Minute, []limitKey{addr("1"), email("fay")}, false, time.Minute},
	}
	for i, st := range steps {
		ok, wait := l.allow(t0.Add(st.at), st.keys...)
		if ok != st.ok {
			t.Fatalf("step %d (%v, %v): ok = %v, want %v", i, st.at, st.keys, ok, st.ok)
		}
		if !ok && (wait < st.waitAtLeast || wait > 10*time.Minute) {
			t.Errorf("step %d: retry after %v, want at least %v", i, wait, st.waitAtLeast)
		}
	}
}

func TestRateLimiterForgetsIdleKeys(t *testing.T) {
	l := newRateLimiter(time.Minute)
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range sweepEvery {
		l.allow(t0, limitKey{fmt.Sprint(i), 1})
	}
	for i := range sweepEvery {
		l.allow(t0.Add(2*time.Minute), limitKey{"x", 1000})
		_ = i
	}
	l.mu.Lock()
	n := len(l.hits)
	l.mu.Unlock()
	if n > 1 {
		t.Errorf("%d keys kept after their window passed, want only the live one", n)
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9:51234":                    "203.0.113.9",
		"203.0.113.9":                          "203.0.113.9",
		"[2001:db8:1:2:aaaa::1]:443":           "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb:cccc:dddd:eeee]:1": "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:443":                "2001:db8:1:3::/64",
		"[::ffff:203.0.113.9]:80":              "203.0.113.9",
		"":                                     "unknown",
		"@pipe":                                "@pipe",
	} {
		if got := AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeClock is a settable clock.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func newTestSignIn(t *testing.T, mailer Mailer, tweak func(*SignInConfig)) (*SignIn, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	cfg := SignInConfig{Keys: testKeys(t, 0), Store: testDB(t), Mailer: mailer, PublicURL: mustURL(t, "https://events.example.org"),
		Now: clock.Now}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := NewSignIn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, clock
}

func TestPrepareAndVerifyLink(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestSignIn(t, &recordingMailer{}, nil)
	m, err := s.prepareLink(ctx, " Ada@Example.org", "hubs", "auth:7d1a4a2e-3c57-4e0e-a1a4-0bfb6a0c9a11", "203.0.113.9:4000")
	if err != nil {
		t.Fatal(err)
	}
	if !m.send || m.to != "ada@example.org" || m.subject != "Your sign-in link for events.example.org" {
		t.Fatalf("mail %+v", m)
	}
	link := mustLink(t, m.body)
	if link.URL.Scheme != "https" || link.URL.Host != "events.example.org" || link.URL.Path != "/verify" ||
		link.Topic != "auth:7d1a4a2e-3c57-4e0e-a1a4-0bfb6a0c9a11" || link.Orig != "hubs" || len(link.Token) != 64 {
		t.Fatalf("link %s", link.URL)
	}

	// 29 minutes later the link works, once; the first account becomes admin.
	clock.now = clock.now.Add(29 * time.Minute)
	in, err := s.verifyLink(ctx, link.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Created || !in.MadeAdmin || !in.Account.IsAdmin || in.Account.Email != "ada@example.org" {
		t.Errorf("signed in %+v", in)
	}
	a, err := Authenticate(ctx, s.cfg.Keys, s.cfg.Store, in.Credentials, clock.now)
	if err != nil || a.ID != in.Account.ID {
		t.Errorf("the credentials do not authenticate: %+v %v", a, err)
	}
	if _, err := s.verifyLink(ctx, link.Token); !errors.Is(err, errInvalidToken) {
		t.Errorf("second use: %v, want errInvalidToken", err)
	}

	// A link followed after 30 minutes is refused.
	m2, err := s.prepareLink(ctx, "bob@example.org", "", "auth:7d1a4a2e-3c57-4e0e-a1a4-0bfb6a0c9a12", "203.0.113.9:4000")
	if err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(DefaultLinkTTL)
	if _, err := s.verifyLink(ctx, mustLink(t, m2.body).Token); !errors.Is(err, errInvalidToken) {
		t.Errorf("expired link: %v, want errInvalidToken", err)
	}
	for _, bad := range []string{"", "zz", "abcd", mustLink(t, m2.body).Token[:62]} {
		if _, err := s.verifyLink(ctx, bad); !errors.Is(err, errInvalidToken) {
			t.Errorf("token %q: %v, want errInvalidToken", bad, err)
		}
	}
}

func TestPrepareLinkRefusals(t *testing.T) {
	ctx := context.Background()
	s, clock := newTestSignIn(t, &recordingMailer{}, nil)
	topic := "auth:7d1a4a2e-3c57-4e0e-a1a4-0bfb6a0c9a11"
	for _, origin := range []string{"has space", "<script>", string(make([]byte, 33))} {
		if _, err := s.prepareLink(ctx, "ada@example.org", origin, topic, "1.2.3.4:5"); !errors.Is(err, errBadOrigin) {
			t.Errorf("origin %q: %v", origin, err)
		}
	}
	if _, err := s.prepareLink(ctx, "Ada <ada@example.org>", "", topic, "1.2.3.4:5"); err == nil {
		t.Error("a display name was accepted as an email address")
	}
	// Per email: five requests from five addresses, then refused from a sixth.
	for i := range 5 {
		if _, err := s.prepareLink(ctx, "target@example.org", "", topic, fmt.Sprintf("198.51.100.%d:1", i)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, err := s.prepareLink(ctx, "TARGET@example.org", "", topic, "198.51.100.99:1")
	var limited *rateLimitedError
	if !errors.As(err, &limited) || !errors.Is(err, errRateLimited) {
		t.Fatalf("sixth request for one email: %v, want rate limited", err)
	}
	if limited.Error() != "too many sign-in requests from here or for this email address; try again in 10 minute(s)" {
		t.Errorf("message %q", limited.Error())
	}
	clock.now = clock.now.Add(DefaultSignInRateRange)
	if _, err := s.prepareLink(ctx, "target@example.org", "", topic, "198.51.100.99:1"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestDisabledAccountGetsNoLink(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestSignIn(t, &recordingMailer{}, nil)
	db := s.cfg.Store
	if _, _, _, err := db.FindOrCreateAccount(ctx, "admin@example.org"); err != nil {
		t.Fatal(err)
	}
	a, _, _, err := db.FindOrCreateAccount(ctx, "off@example.org")
	if err != nil {
		t.Fatal(err)
	}
	topic := "auth:7d1a4a2e-3c57-4e0e-a1a4-0bfb6a0c9a11"
	// A link made while enabled...
	m, err := s.prepareLink(ctx, "off@example.org", "", topic, "1.2.3.4:5")
	if err != nil || !m.send {
		t.Fatal(m, err)
	}
	disable(t, db, a.ID)
	// ...is refused once disabled, and no new link is made.
	if _, err := s.verifyLink(ctx, mustLink(t, m.body).Token); !errors.Is(err, ErrAccountDisabled) {
		t.Errorf("verify for a disabled account: %v", err)
	}
	if m, err := s.prepareLink(ctx, "off@example.org", "", topic, "1.2.3.4:5"); err != nil || m.send {
		t.Errorf("request for a disabled account: send=%v err=%v, want a quiet no", m.send, err)
	}
}
