package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"toncon/internal/auth/authtest"
	"toncon/internal/phx"
	"toncon/internal/store"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustLink(t *testing.T, body string) authtest.Link {
	t.Helper()
	l, err := authtest.ParseLink(body)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func disable(t *testing.T, db SignInStore, id store.AccountID) {
	t.Helper()
	off := store.AccountDisabled
	if _, err := db.UpdateAccount(context.Background(), id, store.AccountUpdate{State: &off}); err != nil {
		t.Fatal(err)
	}
}

type sentMail struct{ to, subject, body string }

// recordingMailer keeps what it is asked to send. fail makes Send fail; hold makes Send wait until it is closed.
type recordingMailer struct {
	mu   sync.Mutex // guards the fields below
	sent []sentMail
	fail error
	hold chan struct{}
}

func (m *recordingMailer) Send(ctx context.Context, to, subject, body string) error {
	m.mu.Lock()
	hold, fail := m.hold, m.fail
	m.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail
	}
	m.mu.Lock()
	m.sent = append(m.sent, sentMail{to, subject, body})
	m.mu.Unlock()
	return nil
}

func (m *recordingMailer) mails() []sentMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sentMail(nil), m.sent...)
}

// lockedClock is a settable clock read from socket goroutines.
type lockedClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *lockedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *lockedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// checkGoroutines fails the test when goroutines started during it are still running at its end (after the other
// cleanups, which run first because this one is registered first).
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("%d goroutines leaked:\n%s", runtime.NumGoroutine()-before, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond) // polling with a deadline
		}
	})
}

// channelEnv is a SignIn on a real phx socket server (httptest), reached with phx clients.
type channelEnv struct {
	t      *testing.T
	signIn *SignIn
	mailer *recordingMailer
	clock  *lockedClock
	wsURL  string
	ctx    context.Context
}

func newChannelEnv(t *testing.T, tweak func(*SignInConfig)) *channelEnv {
	t.Helper()
	checkGoroutines(t)
	clock := &lockedClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	mailer := &recordingMailer{}
	cfg := SignInConfig{Keys: testKeys(t, 0), Store: testDB(t), Mailer: mailer,
		PublicURL: mustURL(t, "https://events.example.org"), Now: clock.Now}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := NewSignIn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := phx.NewServer(phx.Config{}, s.Route, nil, nil)
	ts := httptest.NewServer(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(func() {
		cancel()
		shut, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		srv.Shutdown(shut)
		ts.Close()
		s.Close()
	})
	return &channelEnv{t: t, signIn: s, mailer: mailer, clock: clock, ctx: ctx,
		wsURL: "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket/websocket?vsn=2.0.0"}
}

// join dials a new client and joins topic, expecting ok.
func (e *channelEnv) join(topic string) (*phx.Client, string) {
	e.t.Helper()
	c, err := phx.Dial(e.ctx, e.wsURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	ref, status, resp, err := c.Join(e.ctx, topic, map[string]any{})
	if err != nil || status != "ok" {
		e.t.Fatalf("join %s: %s %s %v", topic, status, resp, err)
	}
	var r struct {
		SessionID string `json:"session_id"`
	}
	if json.Unmarshal(resp, &r); r.SessionID == "" {
		e.t.Fatalf("join reply %s has no session_id", resp)
	}
	return c, ref
}

func newTopic() string { return "auth:" + uuid.NewString() }

// expectError checks an error reply's reason.
func expectError(t *testing.T, what, status string, resp json.RawMessage, err error, reason string) {
	t.Helper()
	var r struct{ Reason, Message string }
	json.Unmarshal(resp, &r)
	if err != nil || status != "error" || r.Reason != reason || r.Message == "" {
		t.Errorf("%s: %s %s %v; want error %q with a message", what, status, resp, err, reason)
	}
}

func TestAuthChannelJoin(t *testing.T) {
	e := newChannelEnv(t, nil)
	c, err := phx.Dial(e.ctx, e.wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, topic := range []string{"auth:", "auth:nope", "auth:" + strings.Repeat("a", 36), "auth:{" + uuid.NewString() + "}"} {
		_, status, resp, err := c.Join(e.ctx, topic, map[string]any{})
		expectError(t, "join "+topic, status, resp, err, "invalid_topic")
	}
	_, status, resp, err := c.Join(e.ctx, "hub:abc1234", map[string]any{})
	if err != nil || status != "error" || !strings.Contains(string(resp), "unmatched topic") {
		t.Errorf("a hub topic reached the auth router: %s %s %v", status, resp, err)
	}
	e.join(newTopic())
}

func TestAuthChannelMagicLink(t *testing.T) {
	e := newChannelEnv(t, nil)
	topic := newTopic()
	asker, ref := e.join(topic)
	status, resp, err := asker.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "Ada@Example.org", "origin": "hubs"})
	if err != nil || status != "ok" || string(resp) != `{"delivery":"email"}` {
		t.Fatalf("auth_request: %s %s %v", status, resp, err)
	}
	status, resp, err = asker.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	expectError(t, "second auth_request", status, resp, err, "already_sent")
	mails := e.mailer.mails()
	if len(mails) != 1 || mails[0].to != "ada@example.org" {
		t.Fatalf("mails %+v, want one to ada@example.org", mails)
	}
	link := mustLink(t, mails[0].body)

	verifier, vref := e.join(link.Topic)
	status, resp, err = verifier.Request(e.ctx, vref, topic, "auth_verified", map[string]string{"token": strings.Repeat("0", 64)})
	expectError(t, "a made-up token", status, resp, err, "invalid_token")
	status, resp, err = verifier.Request(e.ctx, vref, topic, "auth_verified", map[string]any{"token": 5})
	expectError(t, "a token of the wrong type", status, resp, err, "bad_request")
	// The verify page gets the broadcast too, just before its reply.
	vPush, err := verifier.Push(vref, topic, "auth_verified", map[string]string{"token": link.Token})
	if err != nil {
		t.Fatal(err)
	}
	var verifierCopy phx.ClientMessage
	reply, err := verifier.Await(e.ctx, func(m phx.ClientMessage) bool {
		if m.Event == "auth_credentials" {
			verifierCopy = m
		}
		return m.Event == "phx_reply" && m.Ref != nil && *m.Ref == vPush
	})
	if status, resp := reply.Status(); err != nil || status != "ok" {
		t.Fatalf("auth_verified: %s %s %v", status, resp, err)
	}
	askerCopy, err := asker.Await(e.ctx, func(m phx.ClientMessage) bool { return m.Event == "auth_credentials" })
	if err != nil {
		t.Fatalf("asking page: no auth_credentials: %v", err)
	}
	for name, m := range map[string]phx.ClientMessage{"asking page": askerCopy, "verify page": verifierCopy} {
		var got struct {
			Credentials string `json:"credentials"`
			Payload     struct{ Email string }
		}
		json.Unmarshal(m.Payload, &got)
		if got.Payload.Email != "ada@example.org" || m.Topic != topic || m.JoinRef != nil {
			t.Errorf("%s: auth_credentials %s on %s, want a broadcast with payload.email", name, m.Payload, m.Topic)
		}
		a, err := Authenticate(e.ctx, e.signIn.cfg.Keys, e.signIn.cfg.Store, got.Credentials, e.clock.Now())
		if err != nil || a.Email != "ada@example.org" || !a.IsAdmin {
			t.Errorf("%s: credentials authenticate as %+v, %v; want the new admin", name, a, err)
		}
	}
	status, resp, err = verifier.Request(e.ctx, vref, topic, "auth_verified", map[string]string{"token": link.Token})
	expectError(t, "the link again", status, resp, err, "invalid_token")
}

func TestAuthChannelBadRequests(t *testing.T) {
	e := newChannelEnv(t, nil)
	topic := newTopic()
	c, ref := e.join(topic)
	for _, tc := range []struct {
		event   string
		payload any
		reason  string
	}{
		{"auth_request", map[string]any{"email": 7}, "bad_request"},
		{"auth_request", map[string]string{"email": "not an address"}, "invalid_email"},
		{"auth_request", map[string]string{"email": "ada@example.org", "origin": "no spaces please"}, "bad_request"},
		{"auth_verified", map[string]string{}, "bad_request"},
		{"sign_in", map[string]string{}, "unknown_event"},
	} {
		status, resp, err := c.Request(e.ctx, ref, topic, tc.event, tc.payload)
		expectError(t, tc.event, status, resp, err, tc.reason)
	}
	// None of those counted as the channel's one request.
	status, resp, err := c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	if err != nil || status != "ok" {
		t.Errorf("a good request after bad ones: %s %s %v", status, resp, err)
	}
}

// SMTP can take seconds; the socket (which may also carry a room) must keep answering meanwhile.
func TestAuthChannelSlowMailDoesNotBlockTheSocket(t *testing.T) {
	e := newChannelEnv(t, nil)
	e.mailer.hold = make(chan struct{})
	topic := newTopic()
	c, ref := e.join(topic)
	reqRef, err := c.Push(ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	status, _, err := c.Request(e.ctx, "", "phoenix", "heartbeat", map[string]any{})
	if err != nil || status != "ok" {
		t.Fatalf("heartbeat while the mail is being sent: %s %v", status, err)
	}
	// A second request while the first is still being sent is refused too.
	status, resp, err := c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	expectError(t, "request during sending", status, resp, err, "already_sent")
	close(e.mailer.hold)
	m, err := c.Await(e.ctx, func(m phx.ClientMessage) bool { return m.Ref != nil && *m.Ref == reqRef })
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := m.Status(); status != "ok" {
		t.Errorf("auth_request reply after the mail went out: %s", m.Payload)
	}
}

func TestAuthChannelMailFailureAllowsRetry(t *testing.T) {
	e := newChannelEnv(t, nil)
	e.mailer.fail = errors.New("connection refused")
	topic := newTopic()
	c, ref := e.join(topic)
	status, resp, err := c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	expectError(t, "failed mail", status, resp, err, "mail_failed")
	e.mailer.mu.Lock()
	e.mailer.fail = nil
	e.mailer.mu.Unlock()
	status, resp, err = c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	if err != nil || status != "ok" || len(e.mailer.mails()) != 1 {
		t.Errorf("retry after a failed mail: %s %s %v, %d mails", status, resp, err, len(e.mailer.mails()))
	}
}

func TestAuthChannelRateLimitsPerAddress(t *testing.T) {
	e := newChannelEnv(t, nil)
	// Every client here comes from 127.0.0.1: five requests for five addresses, then the sixth is refused.
	for i := range 6 {
		topic := newTopic()
		c, ref := e.join(topic)
		status, resp, err := c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": string(rune('a'+i)) + "@example.org"})
		if i < 5 {
			if err != nil || status != "ok" {
				t.Fatalf("request %d: %s %s %v", i, status, resp, err)
			}
			continue
		}
		expectError(t, "sixth request from one address", status, resp, err, "rate_limited")
		if !strings.Contains(string(resp), "10 minute") {
			t.Errorf("the refusal does not say how long to wait: %s", resp)
		}
	}
	if n := len(e.mailer.mails()); n != 5 {
		t.Errorf("%d mails sent, want 5", n)
	}
	// The window slides: ten minutes later the address may ask again.
	e.clock.advance(DefaultSignInRateRange)
	topic := newTopic()
	c, ref := e.join(topic)
	if status, resp, err := c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "z@example.org"}); status != "ok" {
		t.Errorf("after the window: %s %s %v", status, resp, err)
	}
}

func TestAuthChannelExpires(t *testing.T) {
	e := newChannelEnv(t, func(c *SignInConfig) { c.ChannelTTL = 300 * time.Millisecond })
	topic := newTopic()
	c, ref := e.join(topic)
	closed, err := c.Await(e.ctx, func(m phx.ClientMessage) bool { return m.Event == "phx_close" })
	if err != nil || closed.Topic != topic || closed.JoinRef == nil || *closed.JoinRef != ref {
		t.Fatalf("no phx_close for the channel after its time: %+v %v", closed, err)
	}
	e.clock.advance(300 * time.Millisecond)
	status, resp, err := c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	expectError(t, "request on an expired channel", status, resp, err, "expired")
	if len(e.mailer.mails()) != 0 {
		t.Error("an expired channel sent mail")
	}
}

func TestAuthChannelWithoutSMTPSaysWhereTheLinkIs(t *testing.T) {
	var logged strings.Builder
	var mu sync.Mutex // guards logged
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), nil))
	e := newChannelEnv(t, func(c *SignInConfig) { c.Mailer = NewLogMailer(log) })
	topic := newTopic()
	c, ref := e.join(topic)
	status, resp, err := c.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "ada@example.org"})
	var r struct{ Delivery, Message string }
	json.Unmarshal(resp, &r)
	if err != nil || status != "ok" || r.Delivery != "log" || !strings.Contains(r.Message, "server's log") {
		t.Fatalf("auth_request without SMTP: %s %s %v", status, resp, err)
	}
	mu.Lock()
	out := logged.String()
	mu.Unlock()
	if !strings.Contains(out, "/verify?auth_") || !strings.Contains(out, url.QueryEscape(topic)) {
		t.Errorf("the link is not in the log: %s", out)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestAuthChannelRefusesDisabledAccount(t *testing.T) {
	e := newChannelEnv(t, nil)
	topic := newTopic()
	asker, ref := e.join(topic)
	if status, resp, err := asker.Request(e.ctx, ref, topic, "auth_request", map[string]string{"email": "off@example.org"}); status != "ok" {
		t.Fatalf("%s %s %v", status, resp, err)
	}
	a, _, _, err := e.signIn.cfg.Store.FindOrCreateAccount(e.ctx, "off@example.org")
	if err != nil {
		t.Fatal(err)
	}
	disable(t, e.signIn.cfg.Store, a.ID)
	link := mustLink(t, e.mailer.mails()[0].body)
	verifier, vref := e.join(topic)
	status, resp, err := verifier.Request(e.ctx, vref, topic, "auth_verified", map[string]string{"token": link.Token})
	expectError(t, "disabled account", status, resp, err, "account_disabled")
	// Nothing was broadcast: the broadcast would have been queued to the asking socket before the verify page's
	// reply, so it would arrive before the reply to a heartbeat sent now.
	hbRef, err := asker.Push("", "phoenix", "heartbeat", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	sawCredentials := false
	if _, err := asker.Await(e.ctx, func(m phx.ClientMessage) bool {
		sawCredentials = sawCredentials || m.Event == "auth_credentials"
		return m.Event == "phx_reply" && m.Ref != nil && *m.Ref == hbRef
	}); err != nil {
		t.Fatal(err)
	}
	if sawCredentials {
		t.Error("credentials were broadcast for a disabled account")
	}
}
