package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/auth"
	"toncon/internal/auth/authtest"
	"toncon/internal/phx"
	"toncon/internal/store"
)

// signInEnv is a toncon in-process whose sign-in mail goes to a real SMTP server started by the test.
type signInEnv struct {
	srv   *Server
	smtp  *authtest.SMTPServer
	tls   *tls.Config
	keys  *auth.Keys
	ctx   context.Context
	wsURL string
}

// startWithSMTP starts a toncon (HTTPS, temporary data folder) that mails sign-in links through a go-smtp server
// started for the test. Both stop when the test ends.
func startWithSMTP(t *testing.T) *signInEnv {
	t.Helper()
	mail := authtest.StartSMTP(t, authtest.SMTPOptions{})
	dir := t.TempDir()
	srv, _ := serveFor(t, Config{Addr: "127.0.0.1:0", DataDir: dir, TLS: true, SMTPURL: mail.URL,
		SMTPFrom: "toncon <noreply@example.org>"})
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	keys, _, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys")) // the server's own keys, read again
	if err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(tcancel)
	return &signInEnv{srv: srv, smtp: mail, tls: &tls.Config{RootCAs: pool}, keys: keys, ctx: tctx,
		wsURL: strings.Replace(srv.URL().String(), "https", "wss", 1) + "/socket/websocket?vsn=2.0.0"}
}

// signInByMagicLink signs email in on e's server through the mail, as a person would, and returns the account
// token (the credentials). Hub-channel tests use it before sign_in.
func (e *signInEnv) signInByMagicLink(t *testing.T, email string) authtest.SignInResult {
	t.Helper()
	return authtest.SignInByMagicLink(e.ctx, t, e.wsURL, e.tls, e.smtp, email)
}

// The magic link end to end: a toncon, a real SMTP server, two Phoenix clients (the asking tab and the link's
// page), and credentials that authenticate as the first account, which became admin.
func TestMagicLinkSignInEndToEnd(t *testing.T) {
	e := startWithSMTP(t)
	res := e.signInByMagicLink(t, "Ada@Example.org")

	if res.Email != "ada@example.org" {
		t.Errorf("auth_credentials payload.email = %q", res.Email)
	}
	if len(res.Mail.To) != 1 || res.Mail.To[0] != "ada@example.org" || res.Mail.From != "noreply@example.org" {
		t.Errorf("mail envelope from %q to %v", res.Mail.From, res.Mail.To)
	}
	if subj := res.Mail.Header("Subject"); !strings.Contains(subj, e.srv.URL().Host) {
		t.Errorf("subject %q does not name the site", subj)
	}
	if got, want := res.Link.URL.Scheme+"://"+res.Link.URL.Host+res.Link.URL.Path, e.srv.URL().String()+"/verify"; got != want {
		t.Errorf("the link goes to %s, want %s", got, want)
	}
	if res.Link.Orig != "hubs" {
		t.Errorf("auth_origin %q, want the one asked with", res.Link.Orig)
	}

	a, err := auth.Authenticate(e.ctx, e.keys, e.srv.store, res.Credentials, time.Now())
	if err != nil {
		t.Fatalf("the credentials do not authenticate: %v", err)
	}
	if a.Email != "ada@example.org" || !a.IsAdmin || a.State != store.AccountEnabled {
		t.Errorf("account %+v, want the first account, an enabled admin", a)
	}

	// A second person signs in: an account of their own, not an admin.
	res2 := e.signInByMagicLink(t, "bob@example.org")
	b, err := auth.Authenticate(e.ctx, e.keys, e.srv.store, res2.Credentials, time.Now())
	if err != nil || b.ID == a.ID || b.IsAdmin {
		t.Errorf("second account %+v, %v; want a separate non-admin", b, err)
	}
	if e.smtp.Pending() != 0 {
		t.Errorf("%d unexpected mails", e.smtp.Pending())
	}

	// Bob creates a room, then signs in on its hub channel with the creator assignment token: owner powers.
	hubResp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: e.tls}, Timeout: 10 * time.Second}).
		Post(e.srv.URL().String()+"/api/v1/hubs", "application/json", strings.NewReader(`{"hub":{"name":"Bob's room"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		HubID string `json:"hub_id"`
		Token string `json:"creator_assignment_token"`
	}
	json.NewDecoder(hubResp.Body).Decode(&created)
	hubResp.Body.Close()
	bob, err := phx.Dial(e.ctx, e.wsURL, e.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	topic := "hub:" + created.HubID
	jr, status, reply, err := bob.Join(e.ctx, topic, map[string]any{"profile": map[string]any{"displayName": "Bob"}, "context": map[string]any{}})
	if err != nil || status != "ok" {
		t.Fatalf("join: %s %s %v", status, reply, err)
	}
	if status, _, _ := bob.Request(e.ctx, jr, topic, "close_hub", map[string]any{}); status != "error" {
		t.Fatal("closed the room before signing in")
	}
	status, reply, err = bob.Request(e.ctx, jr, topic, "sign_in", map[string]any{"token": res2.Credentials, "creator_assignment_token": created.Token})
	if err != nil || status != "ok" {
		t.Fatalf("sign_in with the creator token: %s %s %v", status, reply, err)
	}
	var perms struct {
		PermsToken string `json:"perms_token"`
	}
	json.Unmarshal(reply, &perms)
	claims, err := auth.VerifyPerms(e.keys.PermsPublicKey(), perms.PermsToken, time.Now())
	if err != nil || !claims.Perms["update_hub"] || !claims.Perms["kick_users"] || claims.AccountID == "" {
		t.Fatalf("perms after sign_in: %+v %v", claims, err)
	}
	if status, reply, _ := bob.Request(e.ctx, jr, topic, "update_hub", map[string]any{"name": "Bob's own room"}); status != "ok" {
		t.Fatalf("owner update_hub: %s", reply)
	}

	// The link's page is served, and asks browsers not to send the link (with its token) to other sites.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: e.tls}, Timeout: 10 * time.Second}
	resp, err := client.Get(res.Link.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		resp.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(strings.ToLower(string(body)), "sign") {
		t.Errorf("/verify: %d %q referrer-policy %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Referrer-Policy"))
	}
}

func TestForwardedForSetsTheClientAddress(t *testing.T) {
	var mu sync.Mutex // guards seen
	var seen string
	h := forwardedFor(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.RemoteAddr
		mu.Unlock()
	}))
	for _, tc := range []struct {
		xff  []string
		want string
	}{
		{nil, "192.0.2.1:1234"},
		{[]string{"203.0.113.7"}, "203.0.113.7:0"},
		{[]string{"6.6.6.6, 203.0.113.7"}, "203.0.113.7:0"},     // the client's own entries prove nothing
		{[]string{"6.6.6.6", "198.51.100.2"}, "198.51.100.2:0"}, // the proxy's header line is the last one
		{[]string{"2001:db8::1"}, "[2001:db8::1]:0"},
		{[]string{"not an address"}, "192.0.2.1:1234"},
	} {
		r := httptest.NewRequest("GET", "/socket/websocket", nil)
		r.RemoteAddr = "192.0.2.1:1234"
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		mu.Lock()
		got := seen
		mu.Unlock()
		if got != tc.want {
			t.Errorf("X-Forwarded-For %q: RemoteAddr %q, want %q", tc.xff, got, tc.want)
		}
	}
}

func TestBadSMTPURLStopsTheServerAtStart(t *testing.T) {
	_, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), TLS: false,
		SMTPURL: "smtp+insecure://mail.example.org:25"})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("New with an insecure remote SMTP URL: %v", err)
	}
}
