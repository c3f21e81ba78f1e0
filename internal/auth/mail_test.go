package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"toncon/internal/auth/authtest"
)

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "toncon test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func mailCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSMTPMailerPlainToLoopback(t *testing.T) {
	ctx := mailCtx(t)
	srv := authtest.StartSMTP(t, authtest.SMTPOptions{})
	m, err := NewSMTPMailer(srv.URL, "toncon <noreply@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	body := "Hello,\n\nopen https://example.org/verify?auth_topic=auth%3Ax&auth_token=" + strings.Repeat("ab", 32) + " now.\n"
	if err := m.Send(ctx, "ada@example.org", "Your sign-in link", body); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.From != "noreply@example.org" || len(got.To) != 1 || got.To[0] != "ada@example.org" || got.TLS {
		t.Errorf("envelope from %q to %v tls %v", got.From, got.To, got.TLS)
	}
	if s := got.Header("Subject"); s != "Your sign-in link" {
		t.Errorf("Subject %q", s)
	}
	if ct := got.Header("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	if got.Header("Date") == "" || got.Header("Message-Id") == "" {
		t.Error("no Date or Message-ID header")
	}
	text, err := got.Body()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ReplaceAll(text, "\r\n", "\n") != body {
		t.Errorf("body %q, want %q", text, body)
	}
}

func TestSMTPMailerSTARTTLSWithAuth(t *testing.T) {
	ctx := mailCtx(t)
	cert, pool := testCert(t)
	srv := authtest.StartSMTP(t, authtest.SMTPOptions{
		TLS:  &tls.Config{Certificates: []tls.Certificate{cert}},
		User: "ada", Password: "s3cret pass",
	})
	if !strings.HasPrefix(srv.URL, "smtp://ada:") {
		t.Fatalf("URL %s", srv.URL)
	}
	m, err := newSMTPMailer(srv.URL, "noreply@example.org", &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctx, "bob@example.org", "Hi", "over TLS\n"); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TLS || got.User != "ada" {
		t.Errorf("mail arrived with TLS=%v user=%q, want STARTTLS and authenticated as ada", got.TLS, got.User)
	}

	// Without the test's CA the certificate is not trusted, and nothing is sent.
	untrusting, err := NewSMTPMailer(srv.URL, "noreply@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := untrusting.Send(ctx, "bob@example.org", "Hi", "x"); err == nil {
		t.Error("sent to a server whose certificate is not trusted")
	}
	// A wrong password is refused.
	wrong := strings.Replace(srv.URL, "s3cret", "guess", 1)
	wm, err := newSMTPMailer(wrong, "noreply@example.org", &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	if err := wm.Send(ctx, "bob@example.org", "Hi", "x"); err == nil {
		t.Error("sent with a wrong password")
	}
	if n := srv.Pending(); n != 0 {
		t.Errorf("%d mails arrived that should not have", n)
	}
}

func TestSMTPMailerImplicitTLS(t *testing.T) {
	ctx := mailCtx(t)
	cert, pool := testCert(t)
	srv := authtest.StartSMTP(t, authtest.SMTPOptions{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, ImplicitTLS: true})
	m, err := newSMTPMailer(srv.URL, "noreply@example.org", &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctx, "bob@example.org", "Hi", "implicit\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := srv.Next(ctx); err != nil || !got.TLS {
		t.Fatalf("mail %+v %v, want it over TLS", got, err)
	}
}

// smtp:// means STARTTLS is required: a server that does not offer it gets nothing, rather than the mail in clear.
func TestSMTPMailerRequiresSTARTTLS(t *testing.T) {
	ctx := mailCtx(t)
	srv := authtest.StartSMTP(t, authtest.SMTPOptions{})
	url := strings.Replace(srv.URL, "smtp+insecure://", "smtp://", 1)
	m, err := NewSMTPMailer(url, "noreply@example.org")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(ctx, "bob@example.org", "Hi", "must not go out in clear")
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("err = %v, want a refusal naming STARTTLS", err)
	}
	if srv.Pending() != 0 {
		t.Error("the mail was sent without TLS")
	}
}

func TestNewSMTPMailerRefusesBadConfiguration(t *testing.T) {
	tests := []struct{ url, from, want string }{
		{"http://mail.example.org", "a@example.org", "scheme must be smtp"},
		{"smtp://", "a@example.org", "give a host"},
		{"smtp+insecure://mail.example.org:25", "a@example.org", "loopback"},
		{"smtp+insecure://10.0.0.1:25", "a@example.org", "loopback"},
		{"smtp+insecure://127.0.0.1", "a@example.org", "give the port"},
		{"smtp://mail.example.org:99999", "a@example.org", "1 to 65535"},
		{"smtp://mail.example.org:587/inbox", "a@example.org", "remove the rest"},
		{"smtp://mail.example.org", "", "--smtp-from"},
		{"smtp://mail.example.org", "not an address", "--smtp-from"},
		{"smtp://user:hunter2@mail.example.org:587?x=1", "a@example.org", "remove the rest"},
		{"smtp://user:hunter2@mail example.org", "a@example.org", "--smtp-url"},
	}
	for _, tc := range tests {
		_, err := NewSMTPMailer(tc.url, tc.from)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSMTPMailer(%q, %q): err = %v, want one saying %q", tc.url, tc.from, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	for _, ok := range []string{"smtp://mail.example.org", "smtps://u:p@mail.example.org", "smtp+insecure://localhost:2525",
		"smtp+insecure://[::1]:2525", "smtp://mail.example.org:2587/"} {
		if _, err := NewSMTPMailer(ok, "toncon <noreply@example.org>"); err != nil {
			t.Errorf("NewSMTPMailer(%q): %v", ok, err)
		}
	}
}

func TestLogMailerWritesTheMailToTheLog(t *testing.T) {
	var buf bytes.Buffer
	m := NewLogMailer(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := m.Send(context.Background(), "ada@example.org", "Your sign-in link", "open https://x/verify?auth_token=abc"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=WARN", "ada@example.org", "auth_token=abc", "--smtp-url"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
