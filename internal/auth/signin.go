package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path"
	"regexp"
	"sync"
	"time"

	"toncon/internal/store"
)

// Sign-in by magic link, as Reticulum does it (reticulum.md §8), with our own checks: per-address and per-email
// rate limits, one-time tokens stored as hashes, and the first account made admin while none exists.

// Defaults for SignInConfig.
const (
	DefaultLinkTTL         = 30 * time.Minute // Reticulum's login token max age
	DefaultAuthChannelTTL  = 5 * time.Minute  // Reticulum closes the auth channel after 5 minutes
	DefaultSignInRequests  = 5                // per address and per email...
	DefaultSignInRateRange = 10 * time.Minute // ...in this window
)

// loginTokenBytes is the size of a sign-in token: 256 random bits, so guessing one is hopeless and the channel
// needs no limit on auth_verified attempts.
const loginTokenBytes = 32

// SignInStore is what sign-in needs from the store.
type SignInStore interface {
	store.Accounts
	store.LoginTokens
}

// SignInConfig configures a SignIn. Keys, Store, Mailer and PublicURL are required.
type SignInConfig struct {
	Keys      *Keys
	Store     SignInStore
	Mailer    Mailer
	PublicURL *url.URL // links point at <PublicURL>/verify
	Log       *slog.Logger
	Now       func() time.Time // injectable clock for tokens, expiry and rate limits; default time.Now

	LinkTTL          time.Duration // how long a link works; default 30 minutes
	ChannelTTL       time.Duration // how long an auth channel lives; default 5 minutes
	PerAddress       int           // sign-in requests allowed per client address (IPv6: per /64) in RateWindow; default 5
	PerEmail         int           // sign-in requests allowed per email address in RateWindow; default 5
	RateWindow       time.Duration // default 10 minutes
	MailTimeout      time.Duration // how long sending one mail may take; default 45 s
	OperationTimeout time.Duration // how long a store call may take; default 10 s
}

// SignIn runs sign-in by magic link: it is the phx.Router for auth:<uuid> topics (Route) and holds the rate
// limits. Create it with NewSignIn; Close it after the socket server has shut down.
type SignIn struct {
	cfg    SignInConfig
	limits *rateLimiter

	ctx    context.Context // ended by Close: mail still being sent is abandoned
	cancel context.CancelFunc
	wg     sync.WaitGroup // mails being sent
}

// NewSignIn checks cfg and fills in the defaults.
func NewSignIn(cfg SignInConfig) (*SignIn, error) {
	if cfg.Keys == nil || cfg.Store == nil || cfg.Mailer == nil || cfg.PublicURL == nil {
		return nil, errors.New("sign-in: Keys, Store, Mailer and PublicURL are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	setDefault := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDefault(&cfg.LinkTTL, DefaultLinkTTL)
	setDefault(&cfg.ChannelTTL, DefaultAuthChannelTTL)
	setDefault(&cfg.RateWindow, DefaultSignInRateRange)
	setDefault(&cfg.MailTimeout, smtpTimeout+15*time.Second)
	setDefault(&cfg.OperationTimeout, 10*time.Second)
	if cfg.PerAddress <= 0 {
		cfg.PerAddress = DefaultSignInRequests
	}
	if cfg.PerEmail <= 0 {
		cfg.PerEmail = DefaultSignInRequests
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &SignIn{cfg: cfg, limits: newRateLimiter(cfg.RateWindow), ctx: ctx, cancel: cancel}, nil
}

// Close abandons mail still being sent and waits for those sends to return.
func (s *SignIn) Close() {
	s.cancel()
	s.wg.Wait()
}

// Sign-in errors, each with the reason a client gets.
var (
	errBadOrigin    = errors.New("origin must be at most 32 letters, digits, '-' or '_'")
	errRateLimited  = errors.New("too many sign-in requests")
	errInvalidToken = errors.New("this sign-in link is not valid: it was already used, has expired (links work " +
		"for 30 minutes) or was copied incompletely; ask for a new one")
)

// rateLimitedError says how long to wait.
type rateLimitedError struct{ retryAfter time.Duration }

func (e *rateLimitedError) Error() string {
	mins := int((e.retryAfter + time.Minute - 1) / time.Minute)
	return fmt.Sprintf("too many sign-in requests from here or for this email address; try again in %d minute(s)", max(mins, 1))
}

func (e *rateLimitedError) Unwrap() error { return errRateLimited }

var originPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{0,32}$`)

// linkMail is a sign-in mail ready to send.
type linkMail struct {
	to, subject, body string
	send              bool // false for a disabled account: answer as if sent, send nothing
}

// prepareLink checks a sign-in request, counts it against the rate limits, stores a one-time token and writes the
// mail with the link. remoteAddr is the client's "host:port" (or bare host).
func (s *SignIn) prepareLink(ctx context.Context, email, origin, topic, remoteAddr string) (linkMail, error) {
	norm, err := store.NormalizeEmail(email)
	if err != nil {
		return linkMail{}, err
	}
	if !originPattern.MatchString(origin) {
		return linkMail{}, errBadOrigin
	}
	now := s.cfg.Now()
	if ok, wait := s.limits.allow(now, limitKey{"addr:" + AddressKey(remoteAddr), s.cfg.PerAddress},
		limitKey{"email:" + norm, s.cfg.PerEmail}); !ok {
		s.cfg.Log.Info("sign-in request refused: rate limited", "email", norm, "addr", remoteAddr, "retry_after", wait)
		return linkMail{}, &rateLimitedError{wait}
	}
	// A disabled account gets no link, but the answer is the same as for anyone else, so the form does not tell
	// strangers which addresses have accounts and which were disabled.
	if a, err := s.cfg.Store.AccountByEmail(ctx, norm); err == nil && a.State == store.AccountDisabled {
		s.cfg.Log.Info("sign-in request for a disabled account: no link sent", "email", norm, "account", a.ID)
		return linkMail{to: norm}, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return linkMail{}, err
	}
	raw := make([]byte, loginTokenBytes)
	rand.Read(raw) // never fails since Go 1.24
	hash := sha256.Sum256(raw)
	if err := s.cfg.Store.SaveLoginToken(ctx, hash[:], norm, now.Add(s.cfg.LinkTTL)); err != nil {
		return linkMail{}, err
	}
	link := *s.cfg.PublicURL
	link.Path = path.Join("/", link.Path, "verify")
	link.RawQuery = url.Values{"auth_topic": {topic}, "auth_token": {hex.EncodeToString(raw)},
		"auth_origin": {origin}}.Encode()
	link.Fragment = ""
	site := s.cfg.PublicURL.Host
	body := fmt.Sprintf("Hello,\n\n"+
		"Someone (we hope you) asked to sign in to %s with this email address. To sign in, open this link "+
		"within %d minutes:\n\n%s\n\n"+
		"The link works once. Keep the page where you asked for it open: that is where you will be signed in.\n\n"+
		"If you did not ask to sign in, ignore this email; nobody can sign in without the link.\n",
		site, int(s.cfg.LinkTTL/time.Minute), link.String())
	return linkMail{to: norm, subject: "Your sign-in link for " + site, body: body, send: true}, nil
}

// SignedIn is the outcome of a followed link.
type SignedIn struct {
	Account     store.Account
	Credentials string // the account token
	Created     bool   // the account was made by this sign-in
	MadeAdmin   bool   // ...and made admin because no admin existed
}

// verifyLink takes the one-time token of a followed link (hex, as in the link), finds or creates the account and
// mints its account token.
func (s *SignIn) verifyLink(ctx context.Context, token string) (SignedIn, error) {
	raw, err := hex.DecodeString(token)
	if err != nil || len(raw) != loginTokenBytes {
		return SignedIn{}, errInvalidToken
	}
	hash := sha256.Sum256(raw)
	now := s.cfg.Now()
	email, err := s.cfg.Store.TakeLoginToken(ctx, hash[:], now)
	if errors.Is(err, store.ErrNotFound) {
		return SignedIn{}, errInvalidToken
	}
	if err != nil {
		return SignedIn{}, err
	}
	a, created, madeAdmin, err := s.cfg.Store.FindOrCreateAccount(ctx, email)
	if err != nil {
		return SignedIn{}, err
	}
	if created {
		s.cfg.Log.Info("account created", "account", a.ID, "email", a.Email)
	}
	if madeAdmin {
		s.cfg.Log.Warn("no admin existed: "+a.Email+" is now the admin", "account", a.ID,
			"hint", "to choose the admin yourself, run toncon admin create-admin EMAIL before anyone signs in")
	}
	if a.State != store.AccountEnabled {
		s.cfg.Log.Info("sign-in refused: account disabled", "account", a.ID, "email", a.Email)
		return SignedIn{}, fmt.Errorf("%w: account %d", ErrAccountDisabled, a.ID)
	}
	tok, err := s.cfg.Keys.MintAccountToken(a.ID, now)
	if err != nil {
		return SignedIn{}, err
	}
	s.cfg.Log.Info("signed in", "account", a.ID, "email", a.Email)
	return SignedIn{Account: a, Credentials: tok, Created: created, MadeAdmin: madeAdmin}, nil
}

// AddressKey is the rate-limit key of a client address (sign-in, uploads): the IP without the port, and for IPv6 its /64, since one
// subscriber usually holds a whole /64 and could otherwise step through addresses.
func AddressKey(remoteAddr string) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		if host == "" {
			return "unknown"
		}
		return host
	case ip.To4() != nil:
		return ip.To4().String()
	default:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}

// rateLimiter counts events per key in a sliding window.
type rateLimiter struct {
	window time.Duration

	mu    sync.Mutex             // guards hits and calls
	hits  map[string][]time.Time // per key, oldest first, only times within the window of the last call
	calls int
}

type limitKey struct {
	key   string
	limit int
}

func newRateLimiter(window time.Duration) *rateLimiter {
	return &rateLimiter{window: window, hits: map[string][]time.Time{}}
}

// sweepEvery is how many calls pass between sweeps of keys whose hits have all left the window.
const sweepEvery = 256

// allow reports whether an event at now stays within every key's limit, and records it under all of them when it
// does (an event refused by one limit does not count against the others). When refused, retryAfter is how long
// until every limit would allow it again.
func (l *rateLimiter) allow(now time.Time, keys ...limitKey) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cutoff := now.Add(-l.window)
	l.calls++
	if l.calls%sweepEvery == 0 {
		for k, h := range l.hits {
			if len(h) == 0 || !h[len(h)-1].After(cutoff) {
				delete(l.hits, k)
			}
		}
	}
	ok = true
	for _, k := range keys {
		h := l.hits[k.key]
		i := 0
		for i < len(h) && !h[i].After(cutoff) {
			i++
		}
		h = h[i:]
		l.hits[k.key] = h
		if len(h) >= k.limit {
			ok = false
			// The oldest hit that must leave the window before another fits.
			if wait := h[len(h)-k.limit].Sub(cutoff); wait > retryAfter {
				retryAfter = wait
			}
		}
	}
	if !ok {
		return false, retryAfter
	}
	for _, k := range keys {
		l.hits[k.key] = append(l.hits[k.key], now)
	}
	return true, 0
}
