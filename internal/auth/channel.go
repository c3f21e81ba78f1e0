package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"toncon/internal/phx"
	"toncon/internal/store"
)

// AuthTopicPrefix starts the topics of the sign-in channel: auth:<uuid>, a random UUID the page that asks to sign
// in makes up. The same topic travels in the link, so the page that opens the link can reach the first one.
const AuthTopicPrefix = "auth:"

// Route is the phx.Router for auth:<uuid> topics; other topics get nil, so it composes with other routers.
//
// The auth channel (protocol.md "Topics"):
//
//   - join → ok {session_id}. The channel lives ChannelTTL (5 minutes): then the server pushes phx_close, and any
//     later push on it is answered with error {reason: "expired"}. Join again to start over.
//   - auth_request {email, origin} → a one-time link is mailed to email (or written to the server log when no SMTP
//     server is configured), then ok {delivery: "email"|"log"}. Errors {reason, message}: invalid_email,
//     bad_request, rate_limited, already_sent (one request per channel), mail_failed (a retry is allowed).
//     A disabled account gets the same ok but no mail.
//   - auth_verified {token}, pushed by the link's /verify page on the same topic → the server broadcasts
//     auth_credentials {credentials: <account token>, payload: {email}} to everyone on the topic, so the page
//     that asked receives it, and replies ok {}. Errors: invalid_token (unknown, used or expired),
//     account_disabled, bad_request.
func (s *SignIn) Route(sock *phx.Socket, topic string) phx.Handler {
	if !strings.HasPrefix(topic, AuthTopicPrefix) {
		return nil
	}
	return &authChannel{svc: s}
}

// authChannel is one socket's join of an auth topic. Its fields are touched by the socket's reader goroutine,
// except where noted.
type authChannel struct {
	svc      *SignIn
	joinedAt time.Time
	timer    *time.Timer // pushes phx_close when the channel's time is up

	mu     sync.Mutex // guards state: the mail goroutine finishes what HandleIn started
	state  requestState
	closed bool // Terminate ran; guarded by mu
}

type requestState int

const (
	notRequested requestState = iota
	sending
	sent
)

func reason(code, message string) map[string]string {
	return map[string]string{"reason": code, "message": message}
}

// Join implements phx.Handler.
func (a *authChannel) Join(c *phx.Channel, payload []byte) (any, error) {
	id := strings.TrimPrefix(c.Topic(), AuthTopicPrefix)
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return nil, &phx.Refusal{Response: reason("invalid_topic",
			"join auth:<uuid> with a random UUID such as auth:"+uuid.NewString())}
	}
	a.joinedAt = a.svc.cfg.Now()
	a.timer = time.AfterFunc(a.svc.cfg.ChannelTTL, func() {
		a.mu.Lock()
		closed := a.closed
		a.mu.Unlock()
		if !closed {
			c.PushRaw("phx_close", []byte("{}"), false)
		}
	})
	return map[string]string{"session_id": c.Socket().ID()}, nil
}

// Terminate implements phx.Handler.
func (a *authChannel) Terminate(*phx.Channel, string) {
	if a.timer != nil {
		a.timer.Stop()
	}
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
}

// HandleIn implements phx.Handler.
func (a *authChannel) HandleIn(c *phx.Channel, m *phx.Message) {
	if !a.svc.cfg.Now().Before(a.joinedAt.Add(a.svc.cfg.ChannelTTL)) {
		c.Reply(m, false, reason("expired", "this sign-in page waited too long; start again"))
		return
	}
	switch m.Event {
	case "auth_request":
		a.request(c, m)
	case "auth_verified":
		a.verified(c, m)
	default:
		c.Reply(m, false, reason("unknown_event", "the auth channel knows auth_request and auth_verified"))
	}
}

// replyTo keeps what a later reply needs from m, which the socket reuses once HandleIn returns.
func replyTo(m *phx.Message) *phx.Message {
	return &phx.Message{JoinRef: bytes.Clone(m.JoinRef), Ref: bytes.Clone(m.Ref), Topic: m.Topic, Event: m.Event}
}

func (a *authChannel) request(c *phx.Channel, m *phx.Message) {
	var req struct {
		Email  string `json:"email"`
		Origin string `json:"origin"`
	}
	if err := json.Unmarshal(m.Payload, &req); err != nil {
		c.Reply(m, false, reason("bad_request", `expected {"email": "...", "origin": "..."}`))
		return
	}
	a.mu.Lock()
	st := a.state
	if st == notRequested {
		a.state = sending
	}
	a.mu.Unlock()
	if st != notRequested {
		c.Reply(m, false, reason("already_sent", "a sign-in link was already sent from this page; check your inbox"))
		return
	}
	fail := func(code, message string) {
		a.mu.Lock()
		a.state = notRequested
		a.mu.Unlock()
		c.Reply(m, false, reason(code, message))
	}
	ctx, cancel := context.WithTimeout(a.svc.ctx, a.svc.cfg.OperationTimeout)
	mail, err := a.svc.prepareLink(ctx, req.Email, req.Origin, c.Topic(), c.Socket().RemoteAddr())
	cancel()
	var limited *rateLimitedError
	switch {
	case errors.Is(err, store.ErrInvalid):
		fail("invalid_email", "give an email address such as name@example.org")
		return
	case errors.Is(err, errBadOrigin):
		fail("bad_request", err.Error())
		return
	case errors.As(err, &limited):
		fail("rate_limited", limited.Error())
		return
	case err != nil:
		a.svc.cfg.Log.Error("sign-in request failed", "err", err)
		fail("internal_error", "the server could not prepare a sign-in link; try again later")
		return
	}
	delivery := "email"
	if _, ok := a.svc.cfg.Mailer.(logMailer); ok {
		delivery = "log"
	}
	if !mail.send {
		a.finish(c, replyTo(m), delivery, nil)
		return
	}
	// SMTP can take seconds: send on another goroutine so the socket (which may also carry a room) keeps reading.
	ref := replyTo(m)
	a.svc.wg.Add(1)
	go func() {
		defer a.svc.wg.Done()
		ctx, cancel := context.WithTimeout(a.svc.ctx, a.svc.cfg.MailTimeout)
		defer cancel()
		err := a.svc.cfg.Mailer.Send(ctx, mail.to, mail.subject, mail.body)
		if err != nil {
			a.svc.cfg.Log.Error("could not send a sign-in link", "to", mail.to, "err", err)
		}
		a.finish(c, ref, delivery, err)
	}()
}

// finish answers an auth_request once its mail went out (or failed). Safe from any goroutine.
func (a *authChannel) finish(c *phx.Channel, ref *phx.Message, delivery string, err error) {
	a.mu.Lock()
	if err != nil {
		a.state = notRequested // the person may try again on this page
	} else {
		a.state = sent
	}
	a.mu.Unlock()
	if err != nil {
		c.Reply(ref, false, reason("mail_failed", "the server could not send the email; try again in a moment"))
		return
	}
	resp := map[string]string{"delivery": delivery}
	if delivery == "log" {
		resp["message"] = "no mail server is configured, so the sign-in link was written to the server's log; " +
			"ask whoever runs this server for it"
	}
	c.Reply(ref, true, resp)
}

func (a *authChannel) verified(c *phx.Channel, m *phx.Message) {
	var req struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(m.Payload, &req); err != nil || req.Token == "" {
		c.Reply(m, false, reason("bad_request", `expected {"token": "..."} from the sign-in link`))
		return
	}
	ctx, cancel := context.WithTimeout(a.svc.ctx, a.svc.cfg.OperationTimeout)
	defer cancel()
	in, err := a.svc.verifyLink(ctx, req.Token)
	switch {
	case errors.Is(err, errInvalidToken):
		c.Reply(m, false, reason("invalid_token", err.Error()))
		return
	case errors.Is(err, ErrAccountDisabled):
		c.Reply(m, false, reason("account_disabled", "this account is disabled; ask the site's administrator"))
		return
	case err != nil:
		a.svc.cfg.Log.Error("sign-in verification failed", "err", err)
		c.Reply(m, false, reason("internal_error", "the server could not complete the sign-in; try the link again"))
		return
	}
	payload, err := json.Marshal(map[string]any{
		"credentials": in.Credentials,
		"payload":     map[string]string{"email": in.Account.Email},
	})
	if err != nil {
		c.Reply(m, false, reason("internal_error", "could not encode the credentials"))
		return
	}
	c.Server().Broadcast(c.Topic(), phx.EncodeBroadcast(c.Topic(), "auth_credentials", payload, false), nil)
	c.Reply(m, true, nil)
}
