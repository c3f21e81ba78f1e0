package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Mailer sends plain-text mail. Implementations are safe for concurrent use; Send returns once the message was
// handed over (or ctx ended).
type Mailer interface {
	Send(ctx context.Context, to, subject, textBody string) error
}

// smtpTimeout bounds one delivery: connect, TLS, auth and the message.
const smtpTimeout = 30 * time.Second

// smtpMailer delivers through one SMTP server with go-mail, making a client per message so concurrent sends never
// share a connection's state.
type smtpMailer struct {
	host string
	from string
	opts []gomail.Option
}

// NewSMTPMailer returns a Mailer that sends through the server smtpURL names:
//
//	smtp://[user:pass@]host[:587]         STARTTLS, required: the mail is never sent in the clear
//	smtps://[user:pass@]host[:465]        implicit TLS
//	smtp+insecure://host:port             no TLS at all; only to a loopback address (a local relay or a test server)
//
// With a user and password the strongest mechanism the server offers is used (PLAIN only inside TLS). from is the
// sender, an address with an optional display name ("toncon <noreply@example.org>"). The URL is checked here, so a
// mistake stops the server at start rather than at the first sign-in.
func NewSMTPMailer(smtpURL, from string) (Mailer, error) {
	return newSMTPMailer(smtpURL, from, nil)
}

// newSMTPMailer is NewSMTPMailer with a TLS configuration to use instead of the system's (tests trust their own
// certificate authority this way). Its ServerName is set from the URL.
func newSMTPMailer(smtpURL, from string, tlsConfig *tls.Config) (Mailer, error) {
	u, err := url.Parse(smtpURL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", redactURLError(err))
	}
	where := u.Redacted()
	if u.Hostname() == "" {
		return nil, fmt.Errorf("--smtp-url %s: give a host, such as smtp://user:pass@mail.example.org:587", where)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--smtp-url %s: only scheme, user, password, host and port are used; remove the rest", where)
	}
	if _, err := mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("--smtp-from %q: give the sender's address, such as noreply@example.org", from)
	}
	host := u.Hostname()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	tlsConfig = tlsConfig.Clone()
	tlsConfig.ServerName = host
	tlsConfig.MinVersion = tls.VersionTLS12
	opts := []gomail.Option{gomail.WithTimeout(smtpTimeout), gomail.WithTLSConfig(tlsConfig)}
	var port int
	plaintext := false
	switch u.Scheme {
	case "smtp":
		port = 587
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	case "smtp+insecure":
		if !isLoopback(host) {
			return nil, fmt.Errorf("--smtp-url %s: smtp+insecure sends mail and passwords unencrypted, so it is only "+
				"allowed to a loopback address (127.0.0.1, ::1, localhost); use smtp:// (STARTTLS) or smtps://", where)
		}
		if u.Port() == "" {
			return nil, fmt.Errorf("--smtp-url %s: give the port, such as smtp+insecure://127.0.0.1:2525", where)
		}
		plaintext = true
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("--smtp-url %s: the scheme must be smtp (STARTTLS), smtps (implicit TLS) or "+
			"smtp+insecure (loopback only)", where)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("--smtp-url %s: port %q must be 1 to 65535", where, p)
		}
		port = n
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		auth := gomail.SMTPAuthAutoDiscover
		if plaintext {
			auth = gomail.SMTPAuthPlainNoEnc // loopback only, see above
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(u.User.Username()),
			gomail.WithPassword(pass))
	}
	m := &smtpMailer{host: net.JoinHostPort(host, strconv.Itoa(port)), from: from, opts: opts}
	// Build a client once so option errors show up now.
	if _, err := gomail.NewClient(host, opts...); err != nil {
		return nil, fmt.Errorf("--smtp-url %s: %w", where, err)
	}
	return m, nil
}

// redactURLError drops the URL (which may hold a password) from a url.Parse error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot parse the URL: %w", ue.Err)
	}
	return err
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send implements Mailer.
func (m *smtpMailer) Send(ctx context.Context, to, subject, textBody string) error {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return fmt.Errorf("send mail: sender %q: %w", m.from, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("send mail: recipient %q: %w", to, err)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, textBody)
	host, _, _ := net.SplitHostPort(m.host)
	client, err := gomail.NewClient(host, m.opts...)
	if err != nil {
		return fmt.Errorf("send mail via %s: %w", m.host, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send mail to %s via %s: %w", to, m.host, err)
	}
	return nil
}

// logMailer writes mail to the log instead of sending it.
type logMailer struct{ log *slog.Logger }

// NewLogMailer returns the Mailer used when no SMTP server is configured: each message, sign-in link included, is
// written to the server log at level warn (so it shows at every usual log level), as Reticulum does in
// development. Anyone who can read the log can sign in as anyone who asks for a link, so configure --smtp-url for
// a server other people use.
func NewLogMailer(log *slog.Logger) Mailer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return logMailer{log: log}
}

// Send implements Mailer.
func (m logMailer) Send(_ context.Context, to, subject, textBody string) error {
	m.log.Warn("no SMTP server is configured (--smtp-url), so this mail was written here instead of being sent",
		"to", to, "subject", subject, "body", textBody)
	return nil
}
