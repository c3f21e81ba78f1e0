package server

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"toncon/internal/auth"
)

// newMailer is what sends sign-in links: the SMTP server of --smtp-url, or the log when there is none.
func newMailer(cfg Config, public *url.URL, log *slog.Logger) (auth.Mailer, error) {
	if cfg.SMTPURL == "" {
		log.Warn("no mail server configured (--smtp-url): sign-in links will be written to this log; " +
			"anyone who reads it can sign in as whoever asked for a link")
		return auth.NewLogMailer(log), nil
	}
	from := cfg.SMTPFrom
	if from == "" {
		host := public.Hostname()
		if net.ParseIP(host) != nil {
			host = "localhost" // an address literal is no mail domain; --smtp-from sets a real one
		}
		from = "toncon <noreply@" + host + ">"
	}
	return auth.NewSMTPMailer(cfg.SMTPURL, from)
}

// forwardedFor serves h with the request's RemoteAddr set to the client address the proxy in front reports, for
// per-address limits (sign-in requests, anonymous uploads). It is used with --tls off, which means toncon runs
// behind a proxy that terminates TLS: every connection then comes from the proxy, and the proxy appends the
// address it saw as the last X-Forwarded-For entry (entries before it come from the client and prove nothing).
func forwardedFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values("X-Forwarded-For")
		if len(values) > 0 {
			entries := strings.Split(values[len(values)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(entries[len(entries)-1])); ip != nil {
				r = r.WithContext(r.Context())
				r.RemoteAddr = net.JoinHostPort(ip.String(), "0")
			}
		}
		h.ServeHTTP(w, r)
	})
}
