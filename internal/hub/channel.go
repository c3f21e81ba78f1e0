package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"toncon/internal/auth"
	"toncon/internal/phx"
	"toncon/internal/store"
)

const (
	presenceLobby = "lobby"
	presenceRoom  = "room"
)

// Limits on what a client may put in its profile.
const (
	maxDisplayName = 64
	maxAvatarID    = 256
	maxAvatarURL   = 2048
	maxProfileJSON = 4096
)

// channel is one session's membership of one hub, driven by its socket's reader goroutine.
type channel struct {
	svc       *Service
	sid       store.HubSID
	room      *room
	ch        *phx.Channel
	sessionID string

	// pmu guards the presence fields below. The channel's own reader goroutine writes them under pmu and may
	// read them without it; other goroutines (a moderator's, a hub update's) read and write them under pmu.
	// Lock order: the room's mu before pmu.
	pmu        sync.Mutex
	presence   string
	profile    json.RawMessage
	context    map[string]any
	roles      Roles
	account    store.AccountID // 0 when anonymous
	typing     bool
	handRaised bool
	muted      bool

	nafLimit, chatLimit bucket
	scratch             []byte // reused to unescape nafr messages; only the reader goroutine touches it

	upd      updateInfo    // what check learnt of the message being relayed; reader goroutine only
	pos      interestPos   // where this session's avatar stands (interest management)
	interest interestState // this session's updates held back for people far away
	gone     atomic.Bool   // set when the channel terminates, so held-back updates for it are forgotten
}

// joinParams is the hub join payload (protocol.md).
type joinParams struct {
	Profile     json.RawMessage `json:"profile"`
	Context     json.RawMessage `json:"context"`
	AuthToken   *string         `json:"auth_token"`
	PermsToken  *string         `json:"perms_token"`
	HubInviteID *string         `json:"hub_invite_id"`
}

func refuse(reason, message string) error {
	return &phx.Refusal{Response: map[string]string{"reason": reason, "message": message}}
}

// Join implements phx.Handler.
func (c *channel) Join(pc *phx.Channel, payload []byte) (any, error) {
	s := c.svc
	start := time.Now() // real time, not cfg.Now: this measures the server, not the room's clock
	c.ch = pc
	c.sessionID = pc.Socket().ID()
	err := c.prepareJoin(payload)
	if err != nil {
		s.stats.JoinsRefused.Add(1)
		return nil, err
	}
	now := s.cfg.Now()
	c.nafLimit = newBucket(s.cfg.NAFRate, 2*s.cfg.NAFRate, now)
	c.chatLimit = newBucket(s.cfg.ChatRate, 2*s.cfg.ChatRate, now)
	c.pmu.Lock()
	c.presence = presenceLobby
	c.pmu.Unlock()
	h := c.room.hubRecord()
	sessionToken, err := s.cfg.Keys.MintSession(c.sessionID, now)
	if err != nil {
		return nil, fmt.Errorf("mint session token: %w", err)
	}
	permsToken, err := c.permsToken(h)
	if err != nil {
		return nil, err
	}
	s.stats.Joins.Add(1)
	reply := map[string]any{
		"hubs":          []HubView{s.View(h)},
		"session_id":    c.sessionID,
		"session_token": sessionToken,
		"perms_token":   permsToken,
	}
	s.stats.JoinLatency.Observe(time.Since(start))
	return reply, nil
}

// prepareJoin validates the payload and the hub, and on success makes c a member of the live room.
func (c *channel) prepareJoin(payload []byte) error {
	var p joinParams
	if err := json.Unmarshal(payload, &p); err != nil {
		return refuse("bad_request", "the join payload must be a JSON object")
	}
	if len(p.Profile) == 0 || string(p.Profile) == "null" || len(p.Context) == 0 || string(p.Context) == "null" {
		return refuse("bad_request", "the join payload needs profile and context")
	}
	profile, err := validateProfile(p.Profile)
	if err != nil {
		return refuse("invalid_profile", err.Error())
	}
	var ctxMap map[string]any
	if err := json.Unmarshal(p.Context, &ctxMap); err != nil {
		return refuse("bad_request", "context must be an object such as {\"mobile\":false,\"hmd\":false,\"embed\":false}")
	}
	c.pmu.Lock()
	c.profile, c.context = profile, cleanContext(ctxMap)
	c.pmu.Unlock()

	if !c.sid.Valid() {
		return refuse("not_found", "No such Hub")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if g := c.svc.cfg.Gate; g != nil {
		if offline, reason, redirect := g(ctx); offline {
			return &phx.Refusal{Response: map[string]string{"reason": "offline", "offline_reason": reason,
				"redirect_url": redirect, "message": "This server is offline for now; please come back later"}}
		}
	}
	h, err := c.svc.cfg.Store.GetHub(ctx, c.sid)
	if errors.Is(err, store.ErrNotFound) {
		return refuse("not_found", "No such Hub")
	}
	if err != nil {
		return fmt.Errorf("load hub %s: %w", c.sid, err)
	}
	settings, err := c.svc.cfg.Store.SiteSettings(ctx)
	if err != nil {
		return fmt.Errorf("load site settings: %w", err)
	}
	if left := c.svc.banned(c.sid, c.sessionID); left > 0 {
		return refuse("join_denied", fmt.Sprintf("a moderator removed you from this room; you can come back in %d minutes", int(math.Ceil(left.Minutes()))))
	}
	if p.AuthToken != nil && *p.AuthToken != "" {
		a, roles, err := c.svc.authenticate(ctx, h, *p.AuthToken)
		if err != nil {
			reason, message := signInRefusal(err)
			if reason == "internal_error" {
				return fmt.Errorf("authenticate join: %w", err)
			}
			return refuse(reason, message)
		}
		c.account, c.roles = a.ID, roles
	}
	switch {
	case h.EntryMode == store.EntryDeny && !c.roles.Admin:
		return refuse("closed", "Hub no longer accessible")
	case settings.RequireAccountForJoin && !c.roles.SignedIn:
		return refuse("join_denied", "this server requires an account to join rooms: sign in first")
	case h.EntryMode == store.EntryInvite && !Permissions(h, c.roles)["update_hub"]:
		valid := false
		if p.HubInviteID != nil && *p.HubInviteID != "" {
			if valid, err = c.svc.cfg.Store.ValidHubInvite(ctx, c.sid, *p.HubInviteID); err != nil {
				return fmt.Errorf("check invite: %w", err)
			}
		}
		if !valid {
			return refuse("join_denied", "this room is invite only: ask an owner for an invite link")
		}
	}
	c.room = c.svc.acquire(h, c)
	c.svc.loadPins(c.room)
	return nil
}

// validateProfile checks what the server relies on and shows to others: a display name, an avatar id, and the
// avatar's glb URL, which every other client fetches, so only a path on this server or an http(s) URL.
func validateProfile(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) > maxProfileJSON {
		return nil, fmt.Errorf("profile is larger than %d bytes", maxProfileJSON)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, errors.New("profile must be an object such as {\"displayName\":\"Ada\",\"avatarId\":\"…\"}")
	}
	name, ok := p["displayName"].(string)
	if !ok {
		return nil, errors.New("profile.displayName must be a string")
	}
	if err := validDisplayName(name); err != nil {
		return nil, err
	}
	if a, present := p["avatarId"]; present && a != nil {
		if s, ok := a.(string); !ok || len(s) > maxAvatarID {
			return nil, fmt.Errorf("profile.avatarId must be a string of at most %d bytes", maxAvatarID)
		}
	}
	if u, present := p["avatarUrl"]; present && u != nil {
		s, ok := u.(string)
		if !ok || len(s) > maxAvatarURL {
			return nil, fmt.Errorf("profile.avatarUrl must be a string of at most %d bytes", maxAvatarURL)
		}
		if s != "" && !avatarURLAllowed(s) {
			return nil, errors.New("profile.avatarUrl must be a path on this server (/files/…) or an http(s) URL")
		}
	}
	return raw, nil
}

// avatarURLAllowed: a path on this server (not a //host reference) or an absolute http(s) URL with a host.
func avatarURLAllowed(s string) bool {
	if strings.ContainsAny(s, " \t\r\n\\") {
		return false
	}
	if strings.HasPrefix(s, "/") {
		return !strings.HasPrefix(s, "//")
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validDisplayName allows any script (unlike Hubs' ASCII-only client pattern) but no control characters,
// no leading or trailing space, and 1 to 64 characters.
func validDisplayName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0 || strings.TrimSpace(name) == "":
		return errors.New("display name is empty")
	case n > maxDisplayName:
		return fmt.Errorf("display name is longer than %d characters", maxDisplayName)
	case strings.TrimSpace(name) != name:
		return errors.New("display name starts or ends with a space")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return errors.New("display name contains a control or invalid character")
		}
	}
	return nil
}

// cleanContext keeps the client's context flags and drops the one the server sets.
func cleanContext(m map[string]any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	delete(m, "entering")
	return m
}

func (c *channel) permsToken(h store.Hub) (string, error) {
	c.pmu.Lock()
	claims := auth.PermsClaims{HubID: string(h.SID), SessionID: c.sessionID, Perms: Permissions(h, c.roles)}
	if c.account != 0 {
		claims.AccountID = strconv.FormatInt(int64(c.account), 10)
	}
	c.pmu.Unlock()
	tok, err := c.svc.cfg.Keys.MintPerms(claims, c.svc.cfg.Now())
	if err != nil {
		return "", fmt.Errorf("mint perms token: %w", err)
	}
	return tok, nil
}

// AfterJoin tracks the session in presence, then sends the presence state, as Reticulum does after its join reply.
func (c *channel) AfterJoin(pc *phx.Channel) {
	if err := pc.Server().Presence().Track(pc, c.sessionID, c.meta()); err != nil {
		panic(err) // the meta is ours; failing to encode it is a bug, and a crash gives the client phx_error
	}
	pc.PushRaw("presence_state", pc.Server().Presence().State(pc.Topic()), false)
}

// presenceMeta is one session's presence (protocol.md).
type presenceMeta struct {
	Presence    string          `json:"presence"`
	Profile     json.RawMessage `json:"profile"`
	Context     map[string]any  `json:"context"`
	Roles       Roles           `json:"roles"`
	Permissions map[string]bool `json:"permissions"`
	Muted       bool            `json:"muted"`
	Typing      bool            `json:"typing"`
	HandRaised  bool            `json:"hand_raised"`
}

func (c *channel) meta() presenceMeta {
	h := c.room.hubRecord() // before pmu: the room's lock comes first
	c.pmu.Lock()
	defer c.pmu.Unlock()
	ctx := make(map[string]any, len(c.context)) // a copy: the encoder runs after pmu is released
	for k, v := range c.context {
		ctx[k] = v
	}
	return presenceMeta{
		Presence: c.presence, Profile: c.profile, Context: ctx, Roles: c.roles,
		Permissions: Permissions(h, c.roles), Muted: c.muted, Typing: c.typing, HandRaised: c.handRaised,
	}
}

// setPresence changes presence fields under pmu and tells everyone in the room.
func (c *channel) setPresence(change func()) {
	c.pmu.Lock()
	change()
	c.pmu.Unlock()
	c.updatePresence()
}

func (c *channel) updatePresence() {
	if err := c.ch.Server().Presence().Update(c.ch, c.sessionID, c.meta()); err != nil {
		c.svc.cfg.Log.Warn("presence update", "hub", c.sid, "session", c.sessionID, "err", err)
	}
}

func (c *channel) can(perm string) bool {
	return Permissions(c.room.hubRecord(), c.roles)[perm]
}

// HandleIn implements phx.Handler.
func (c *channel) HandleIn(pc *phx.Channel, m *phx.Message) {
	switch m.Event {
	case "naf":
		c.handleNAF(m.Payload)
	case "nafr":
		c.handleNAFR(m.Payload)
	case "message":
		c.handleMessage(m)
	case "events:entering":
		c.setPresence(func() { c.context["entering"] = true })
	case "events:entering_cancelled":
		c.setPresence(func() { delete(c.context, "entering") })
	case "events:entered":
		c.handleEntered(m)
	case "events:profile_updated":
		c.handleProfileUpdated(m)
	case "events:begin_typing", "events:end_typing":
		c.setPresence(func() { c.typing = m.Event == "events:begin_typing" })
	case "events:raise_hand", "events:lower_hand":
		c.setPresence(func() { c.handRaised = m.Event == "events:raise_hand" })
	case "refresh_perms_token":
		if c.account != 0 && !c.accountStillEnabled() {
			pc.Reply(m, false, map[string]string{"reason": "account_disabled", "message": "this account is disabled"})
			return
		}
		tok, err := c.permsToken(c.room.hubRecord())
		if err != nil {
			pc.Reply(m, false, map[string]string{"reason": "internal_error", "message": "could not sign a token"})
			return
		}
		pc.Reply(m, true, map[string]string{"perms_token": tok})
	case "get_host":
		host, port := hostPort(c.svc.cfg.PublicURL)
		if md := c.svc.cfg.Media; md != nil {
			host, port = md.Host(c.sid)
		}
		pc.Reply(m, true, map[string]any{"host": host, "port": port})
	case "block", "unblock":
		c.handleBlock(m, m.Event == "block")
	case "mute":
		c.handleMute(m)
	case "unmute":
		c.handleUnmute(m)
	case "kick":
		c.handleKick(m)
	case "update_hub":
		c.handleUpdateHub(m)
	case "close_hub":
		c.handleCloseHub(m)
	case "sign_in":
		c.handleSignIn(m)
	case "sign_out":
		c.handleSignOut(m)
	case "add_owner", "remove_owner":
		c.handleOwner(m, m.Event == "add_owner")
	case "fetch_invite":
		c.handleFetchInvite(m)
	case "revoke_invite":
		c.handleRevokeInvite(m)
	case "update_scene":
		c.handleUpdateScene(m)
	case "pin":
		c.handlePin(m)
	case "unpin":
		c.handleUnpin(m)
	default:
		pc.Reply(m, false, map[string]string{"reason": "unknown_event", "message": fmt.Sprintf("the hub channel has no event %q", m.Event)})
	}
}

func (c *channel) handleEntered(m *phx.Message) {
	if err := c.room.tryEnter(c, c.can("update_hub")); err != nil {
		c.ch.Reply(m, false, map[string]string{"reason": "room_full", "message": err.Error() + "; wait in the lobby and try again"})
		return
	}
	c.setPresence(func() { delete(c.context, "entering") })
	c.ch.Reply(m, true, nil)
	c.svc.touch(c.sid)
}

func (c *channel) handleProfileUpdated(m *phx.Message) {
	var p struct {
		Profile json.RawMessage `json:"profile"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Profile) == 0 {
		c.ch.Reply(m, false, map[string]string{"reason": "bad_request", "message": "expected {\"profile\": {...}}"})
		return
	}
	profile, err := validateProfile(p.Profile)
	if err != nil {
		c.ch.Reply(m, false, map[string]string{"reason": "invalid_profile", "message": err.Error()})
		return
	}
	kept := append(json.RawMessage(nil), profile...) // the payload's buffer is reused after we return
	c.setPresence(func() { c.profile = kept })
	c.ch.Reply(m, true, nil)
}

// handleMessage relays chat to everyone in the room, the sender included, stamped with the sender's session.
func (c *channel) handleMessage(m *phx.Message) {
	if !c.chatLimit.allow(c.svc.cfg.Now()) {
		c.svc.stats.ChatDropped.Add(1)
		c.ch.Reply(m, false, map[string]string{"reason": "rate_limited", "message": "you are sending messages too fast"})
		return
	}
	var msg map[string]any
	if err := json.Unmarshal(m.Payload, &msg); err != nil {
		c.ch.Reply(m, false, map[string]string{"reason": "bad_request", "message": "expected {\"type\": \"chat\", \"body\": ...}"})
		return
	}
	typ, _ := msg["type"].(string)
	if typ == "" {
		typ = "chat"
		msg["type"] = typ
	}
	if !c.can("text_chat") {
		c.svc.stats.ChatDropped.Add(1)
		c.ch.Reply(m, false, map[string]string{"reason": "not_allowed", "message": "text chat is turned off in this room"})
		return
	}
	body, _ := json.Marshal(msg["body"])
	if len(body) > c.svc.cfg.MaxChatBytes {
		c.svc.stats.ChatDropped.Add(1)
		c.ch.Reply(m, false, map[string]string{"reason": "too_long", "message": fmt.Sprintf("messages are limited to %d bytes", c.svc.cfg.MaxChatBytes)})
		return
	}
	msg["session_id"] = c.sessionID
	delete(msg, "from_session_id")
	out, err := json.Marshal(msg)
	if err != nil {
		c.ch.Reply(m, false, map[string]string{"reason": "bad_request", "message": "the message cannot be encoded"})
		return
	}
	// Everyone gets it, the sender too, except those who blocked the sender or whom the sender blocked.
	o := phx.EncodeBroadcast(c.room.topic, "message", out, false)
	if c.room.blocks.Load() == 0 {
		c.ch.Server().Broadcast(c.room.topic, o, nil)
	} else {
		c.ch.Server().BroadcastFunc(c.room.topic, o, func(to *phx.Channel) bool {
			other, ok := to.Handler().(*channel)
			return ok && !c.room.blocked(c.sessionID, other.sessionID)
		})
	}
	c.svc.stats.ChatRelayed.Add(1)
	c.ch.Reply(m, true, nil)
}

// Terminate implements phx.Handler: the session leaves; its non-persistent entities go with it (check 4).
func (c *channel) Terminate(pc *phx.Channel, reason string) {
	c.gone.Store(true)
	if c.room == nil {
		return
	}
	removed := c.svc.release(c.room, c)
	for _, id := range removed {
		payload, _ := json.Marshal(map[string]any{"dataType": "r", "data": map[string]string{"networkId": id}, "from_session_id": c.sessionID})
		pc.Server().Broadcast(c.room.topic, phx.EncodeBroadcast(c.room.topic, "naf", payload, false), pc)
	}
	c.svc.stats.EntitiesRemovedOnLeave.Add(int64(len(removed)))
	if c.presence == presenceRoom {
		c.svc.touch(c.sid)
	}
}

func newSessionID() string { return uuid.NewString() }
