// Package authtest helps tests sign in the way people do: a real SMTP server (go-smtp) that receives the sign-in
// mail, a reader for the link in it, and SignInByMagicLink, which runs the whole magic-link flow against a running
// toncon with two Phoenix clients, as the asking tab and the link's /verify page. It is for tests only.
package authtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"toncon/internal/phx"
)

// Mail is one message the test SMTP server accepted.
type Mail struct {
	From string
	To   []string
	Data []byte // the message as sent: headers and body
	TLS  bool   // it came over TLS (STARTTLS)
	User string // the user that authenticated, "" for none
}

// Header parses the message and returns a header field.
func (m Mail) Header(name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return msg.Header.Get(name)
}

// Body returns the message body with its transfer encoding (quoted-printable or base64) undone.
func (m Mail) Body() (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return "", fmt.Errorf("parse the mail: %w", err)
	}
	var r io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("decode the mail body: %w", err)
	}
	return string(b), nil
}

// SMTPServer is an SMTP server on 127.0.0.1 that keeps what it receives.
type SMTPServer struct {
	// URL is the --smtp-url that reaches it: smtp+insecure://127.0.0.1:<port> for a plain server,
	// smtp://[user:pass@]127.0.0.1:<port> for one offering STARTTLS, smtps://... for implicit TLS.
	URL  string
	Addr string

	user, pass string
	mails      chan Mail
	srv        *smtp.Server
}

// SMTPOptions configure StartSMTP.
type SMTPOptions struct {
	// TLS, when set, makes the server offer STARTTLS with this configuration (its certificate must be valid for
	// 127.0.0.1). Without it the server speaks plain SMTP.
	TLS *tls.Config
	// ImplicitTLS makes the server speak TLS from the first byte (smtps://) instead of offering STARTTLS.
	ImplicitTLS bool
	// User and Password, when set, make the server offer AUTH PLAIN and refuse mail from anyone else.
	User, Password string
}

// StartSMTP starts a receiving SMTP server for the test; it stops when the test ends.
func StartSMTP(t testing.TB, opts SMTPOptions) *SMTPServer {
	t.Helper()
	s := &SMTPServer{user: opts.User, pass: opts.Password, mails: make(chan Mail, 64)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.TLSConfig = opts.TLS
	s.srv.AllowInsecureAuth = opts.TLS == nil
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.ErrorLog = testLogger{t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	scheme := "smtp+insecure"
	switch {
	case opts.TLS != nil && opts.ImplicitTLS:
		scheme = "smtps"
		l = tls.NewListener(l, opts.TLS)
	case opts.TLS != nil:
		scheme = "smtp"
	}
	u := url.URL{Scheme: scheme, Host: s.Addr}
	if opts.User != "" {
		u.User = url.UserPassword(opts.User, opts.Password)
	}
	s.URL = u.String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.Serve(l)
	}()
	t.Cleanup(func() {
		s.srv.Close()
		<-done
	})
	return s
}

type testLogger struct{ t testing.TB }

func (l testLogger) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l testLogger) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

// Next waits for the next mail.
func (s *SMTPServer) Next(ctx context.Context) (Mail, error) {
	select {
	case m := <-s.mails:
		return m, nil
	case <-ctx.Done():
		return Mail{}, fmt.Errorf("no mail arrived at the test SMTP server: %w", ctx.Err())
	}
}

// Pending returns how many received mails nobody has taken with Next yet.
func (s *SMTPServer) Pending() int { return len(s.mails) }

// session is one SMTP conversation.
type session struct {
	srv  *SMTPServer
	conn *smtp.Conn

	mu   sync.Mutex // guards the fields below; go-smtp calls from one goroutine, but be safe
	user string
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || s.srv.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.user || password != s.srv.pass {
			return smtp.ErrAuthFailed
		}
		s.mu.Lock()
		s.user = username
		s.mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.mu.Lock()
	m := Mail{From: s.from, To: append([]string(nil), s.to...), Data: b, TLS: isTLS, User: s.user}
	s.mu.Unlock()
	select {
	case s.srv.mails <- m:
		return nil
	default:
		return errors.New("test SMTP server: mailbox full")
	}
}

func (s *session) Reset() {
	s.mu.Lock()
	s.from, s.to = "", nil
	s.mu.Unlock()
}

func (s *session) Logout() error { return nil }

// Link is what a sign-in link carries.
type Link struct {
	URL                *url.URL
	Topic, Token, Orig string
}

var linkPattern = regexp.MustCompile(`https?://\S+/verify\?\S+`)

// ParseLink finds the sign-in link in a mail body.
func ParseLink(body string) (Link, error) {
	raw := linkPattern.FindString(body)
	if raw == "" {
		return Link{}, fmt.Errorf("no /verify link in the mail:\n%s", body)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Link{}, fmt.Errorf("the link %q does not parse: %w", raw, err)
	}
	q := u.Query()
	l := Link{URL: u, Topic: q.Get("auth_topic"), Token: q.Get("auth_token"), Orig: q.Get("auth_origin")}
	if l.Topic == "" || l.Token == "" {
		return Link{}, fmt.Errorf("the link %q lacks auth_topic or auth_token", raw)
	}
	return l, nil
}

// SignInResult is what SignInByMagicLink saw.
type SignInResult struct {
	Credentials string // the account token from auth_credentials
	Email       string // auth_credentials' payload.email
	Mail        Mail
	Link        Link
}

// SignInByMagicLink signs email in on the toncon whose socket is socketURL (wss://host/socket/websocket?vsn=2.0.0,
// trusted with tlsConfig; nil for ws://), the way a person does: one client joins a fresh auth:<uuid> and pushes
// auth_request; the mail arrives at smtpServer (which toncon must be sending to, --smtp-url smtpServer.URL); a
// second client, the link's /verify page, joins the link's topic and pushes auth_verified; the first client
// receives auth_credentials. It fails the test on any unexpected step and returns the credentials, which
// hub-channel tests can use for sign_in. Other mail waiting at smtpServer would be mistaken for this one, so
// use one SMTP server per test or take those mails first.
func SignInByMagicLink(ctx context.Context, t testing.TB, socketURL string, tlsConfig *tls.Config, smtpServer *SMTPServer, email string) SignInResult {
	t.Helper()
	asker, err := phx.Dial(ctx, socketURL, tlsConfig)
	if err != nil {
		t.Fatalf("dial the socket: %v", err)
	}
	defer asker.Close()
	topic := "auth:" + uuid.NewString()
	joinRef, status, resp, err := asker.Join(ctx, topic, map[string]any{})
	if err != nil || status != "ok" {
		t.Fatalf("join %s: %s %s %v", topic, status, resp, err)
	}
	var joined struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(resp, &joined); err != nil || joined.SessionID == "" {
		t.Fatalf("join reply %s: want {session_id}", resp)
	}
	status, resp, err = asker.Request(ctx, joinRef, topic, "auth_request", map[string]string{"email": email, "origin": "hubs"})
	if err != nil || status != "ok" {
		t.Fatalf("auth_request: %s %s %v", status, resp, err)
	}
	m, err := smtpServer.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, err := m.Body()
	if err != nil {
		t.Fatal(err)
	}
	link, err := ParseLink(body)
	if err != nil {
		t.Fatal(err)
	}
	if link.Topic != topic {
		t.Fatalf("the link's topic %q is not the asking page's %q", link.Topic, topic)
	}

	verifier, err := phx.Dial(ctx, socketURL, tlsConfig)
	if err != nil {
		t.Fatalf("dial the socket for the verify page: %v", err)
	}
	defer verifier.Close()
	vRef, status, resp, err := verifier.Join(ctx, link.Topic, map[string]any{})
	if err != nil || status != "ok" {
		t.Fatalf("verify page joins %s: %s %s %v", link.Topic, status, resp, err)
	}
	status, resp, err = verifier.Request(ctx, vRef, link.Topic, "auth_verified", map[string]string{"token": link.Token})
	if err != nil || status != "ok" {
		t.Fatalf("auth_verified: %s %s %v", status, resp, err)
	}
	got, err := asker.Await(ctx, func(m phx.ClientMessage) bool { return m.Event == "auth_credentials" })
	if err != nil {
		t.Fatalf("the asking page did not receive auth_credentials: %v", err)
	}
	var creds struct {
		Credentials string `json:"credentials"`
		Payload     struct {
			Email string `json:"email"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(got.Payload, &creds); err != nil || creds.Credentials == "" {
		t.Fatalf("auth_credentials payload %s: want {credentials, payload: {email}}", got.Payload)
	}
	return SignInResult{Credentials: creds.Credentials, Email: creds.Payload.Email, Mail: m, Link: link}
}
