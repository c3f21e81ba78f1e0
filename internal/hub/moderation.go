package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"toncon/internal/phx"
	"toncon/internal/store"
)

// Owner actions and moderation, all checked on the server: Reticulum leaves several of them to the client.

// KickBan is how long a kicked person may not rejoin the room.
const KickBan = 5 * time.Minute

// Media is the SFU as the hub channel sees it: where a room's media lives, and the moderation it must carry out.
type Media interface {
	Host(hub store.HubSID) (host string, port int)
	Mute(hub store.HubSID, session string, muted bool)
	Kick(hub store.HubSID, session string)
}

func forbidden(pc *phx.Channel, m *phx.Message, perm string) {
	pc.Reply(m, false, map[string]string{"reason": "forbidden",
		"message": fmt.Sprintf("you need the %s permission in this room", perm)})
}

func badRequest(pc *phx.Channel, m *phx.Message, message string) {
	pc.Reply(m, false, map[string]string{"reason": "bad_request", "message": message})
}

// targetSession reads {session_id} and refuses the sender as its own target.
func (c *channel) targetSession(m *phx.Message) (string, bool) {
	var p struct {
		SessionID string `json:"session_id"`
	}
	if json.Unmarshal(m.Payload, &p) != nil || p.SessionID == "" {
		badRequest(c.ch, m, `expected {"session_id": "..."}`)
		return "", false
	}
	if p.SessionID == c.sessionID {
		badRequest(c.ch, m, "you cannot do that to yourself")
		return "", false
	}
	return p.SessionID, true
}

// membersOf returns the room's channels of a session (one per socket it has in the room).
func (r *room) membersOf(session string) []*channel {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*channel
	for m := range r.members {
		if m.sessionID == session {
			out = append(out, m)
		}
	}
	return out
}

func (r *room) allMembers() []*channel {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*channel, 0, len(r.members))
	for m := range r.members {
		out = append(out, m)
	}
	return out
}

func (c *channel) handleBlock(m *phx.Message, on bool) {
	target, ok := c.targetSession(m)
	if !ok {
		return
	}
	c.room.setBlock(c.sessionID, target, on)
	c.ch.Reply(m, true, nil)
}

func (c *channel) handleMute(m *phx.Message) {
	if !c.privileged(m, "mute_users") {
		return
	}
	target, ok := c.targetSession(m)
	if !ok {
		return
	}
	members := c.room.membersOf(target)
	if len(members) == 0 {
		c.ch.Reply(m, false, map[string]string{"reason": "not_found", "message": "that person is not in this room"})
		return
	}
	for _, t := range members {
		t.ch.PushRaw("mute", []byte(`{}`), false)
		t.setPresence(func() { t.muted = true })
	}
	if md := c.svc.cfg.Media; md != nil {
		md.Mute(c.sid, target, true)
	}
	c.ch.Reply(m, true, nil)
}

// handleUnmute lets a muted person speak again: only they can lift a moderator's mute, by unmuting themselves.
func (c *channel) handleUnmute(m *phx.Message) {
	c.setPresence(func() { c.muted = false })
	if md := c.svc.cfg.Media; md != nil {
		md.Mute(c.sid, c.sessionID, false)
	}
	c.ch.Reply(m, true, nil)
}

func (c *channel) handleKick(m *phx.Message) {
	if !c.privileged(m, "kick_users") {
		return
	}
	target, ok := c.targetSession(m)
	if !ok {
		return
	}
	c.svc.ban(c.sid, target, c.svc.cfg.Now().Add(KickBan))
	if md := c.svc.cfg.Media; md != nil {
		md.Kick(c.sid, target)
	}
	// Every socket of that session closes, as Reticulum's kick does; the reason tells the page what happened.
	n := c.ch.Server().CloseSession(target, ws.StatusPolicyViolation, ReasonKicked)
	c.svc.cfg.Log.Info("kicked", "hub", c.sid, "session", target, "by", c.sessionID, "sockets", n)
	c.ch.Reply(m, true, nil)
}

// ReasonKicked is the close reason a kicked person's socket gets.
const ReasonKicked = "kicked: a moderator removed you from the room"

// ban keeps a kicked session out of a room until the given time.
func (s *Service) ban(sid store.HubSID, session string, until time.Time) {
	s.bansMu.Lock()
	defer s.bansMu.Unlock()
	if s.bans == nil {
		s.bans = map[string]time.Time{}
	}
	now := s.cfg.Now()
	for k, t := range s.bans { // forget old bans as new ones come
		if now.After(t) {
			delete(s.bans, k)
		}
	}
	s.bans[string(sid)+"|"+session] = until
}

// banned returns how long the session must still wait to join the room.
func (s *Service) banned(sid store.HubSID, session string) time.Duration {
	s.bansMu.Lock()
	defer s.bansMu.Unlock()
	left := s.bans[string(sid)+"|"+session].Sub(s.cfg.Now())
	if left < 0 {
		return 0
	}
	return left
}

// hubUpdate is update_hub's payload; fields left out stay as they are.
type hubUpdate struct {
	Name              *string          `json:"name"`
	Description       *string          `json:"description"`
	MemberPermissions *map[string]bool `json:"member_permissions"`
	RoomSize          *int             `json:"room_size"`
	EntryMode         *store.EntryMode `json:"entry_mode"`
}

func (c *channel) handleUpdateHub(m *phx.Message) {
	if !c.privileged(m, "update_hub") {
		return
	}
	var p hubUpdate
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		badRequest(c.ch, m, "update_hub takes {name, description, member_permissions, room_size, entry_mode}")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	settings, err := c.svc.cfg.Store.SiteSettings(ctx)
	if err != nil {
		c.internalError(m, "load site settings", err)
		return
	}
	cur := c.room.hubRecord()
	u, stale, msg := buildUpdate(cur, p, settings.MaxRoomSize)
	if msg != "" {
		c.ch.Reply(m, false, map[string]string{"reason": "invalid", "message": msg})
		return
	}
	if len(stale) == 0 {
		c.ch.Reply(m, true, nil)
		return
	}
	if _, err := c.svc.cfg.Store.UpdateHub(ctx, c.sid, u); err != nil {
		c.ch.Reply(m, false, map[string]string{"reason": "invalid", "message": err.Error()})
		return
	}
	c.hubUpdated(ctx, m, stale)
}

// buildUpdate validates an update against the current hub and returns it with the fields that change.
func buildUpdate(cur store.Hub, p hubUpdate, maxRoomSize int) (store.HubUpdate, []string, string) {
	var u store.HubUpdate
	var stale []string
	if p.Name != nil && *p.Name != cur.Name {
		if n := utf8.RuneCountInString(*p.Name); n < 1 || n > store.MaxNameLen {
			return u, nil, fmt.Sprintf("the name must be 1 to %d characters", store.MaxNameLen)
		}
		u.Name, stale = p.Name, append(stale, "name")
	}
	if p.Description != nil && *p.Description != cur.Description {
		if utf8.RuneCountInString(*p.Description) > store.MaxDescriptionLen {
			return u, nil, fmt.Sprintf("the description must be at most %d characters", store.MaxDescriptionLen)
		}
		u.Description, stale = p.Description, append(stale, "description")
	}
	if p.RoomSize != nil && *p.RoomSize != cur.RoomSize {
		if *p.RoomSize < 1 || *p.RoomSize > maxRoomSize {
			return u, nil, fmt.Sprintf("the room size must be 1 to %d (this server's maximum)", maxRoomSize)
		}
		u.RoomSize, stale = p.RoomSize, append(stale, "room_size")
	}
	if p.EntryMode != nil && *p.EntryMode != cur.EntryMode {
		if !p.EntryMode.Valid() {
			return u, nil, "the entry mode must be allow, invite or deny"
		}
		u.EntryMode, stale = p.EntryMode, append(stale, "entry_mode")
	}
	if p.MemberPermissions != nil {
		bits, err := memberBits(cur.MemberPermissions, *p.MemberPermissions)
		if err != "" {
			return u, nil, err
		}
		if bits != cur.MemberPermissions {
			u.MemberPermissions, stale = &bits, append(stale, "member_permissions")
		}
	}
	return u, stale, ""
}

// memberBits applies named flags to the bitfield; unknown names are refused (Reticulum crashes on them).
func memberBits(cur store.MemberPermissions, flags map[string]bool) (store.MemberPermissions, string) {
	names := make([]string, 0, len(flags))
	for n := range flags {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		bit := -1
		for i, known := range store.PermissionNames {
			if known == n {
				bit = i
			}
		}
		if bit < 0 {
			return cur, fmt.Sprintf("unknown member permission %q", n)
		}
		if flags[n] {
			cur |= 1 << bit
		} else {
			cur &^= 1 << bit
		}
	}
	return cur, ""
}

func (c *channel) handleCloseHub(m *phx.Message) {
	if !c.privileged(m, "close_hub") {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	deny := store.EntryDeny
	if _, err := c.svc.cfg.Store.UpdateHub(ctx, c.sid, store.HubUpdate{EntryMode: &deny}); err != nil {
		c.internalError(m, "close hub", err)
		return
	}
	c.hubUpdated(ctx, m, []string{"entry_mode"})
}

// hubUpdated follows a change to the hub record: the room takes the new record, everyone hears which fields
// changed, and m is answered.
func (c *channel) hubUpdated(ctx context.Context, m *phx.Message, stale []string) {
	c.svc.refreshHub(ctx, c.sid)
	c.svc.hubRefresh(c.ch.Server(), c.room, c.sessionID, stale)
	c.ch.Reply(m, true, nil)
}

func (c *channel) internalError(m *phx.Message, what string, err error) {
	c.svc.cfg.Log.Error(what, "hub", c.sid, "err", err)
	c.ch.Reply(m, false, map[string]string{"reason": "internal_error", "message": "the server could not do that; its log says why"})
}

// refreshHub reloads a live room's hub record from the store.
func (s *Service) refreshHub(ctx context.Context, sid store.HubSID) {
	h, err := s.cfg.Store.GetHub(ctx, sid)
	if err != nil {
		s.cfg.Log.Warn("reload hub", "hub", sid, "err", err)
		return
	}
	s.mu.Lock()
	r := s.rooms[sid]
	s.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		r.hub = h
		r.mu.Unlock()
	}
}

// hubRefresh tells the room its hub changed. Permissions live in presence, so when they change every member
// republishes its presence.
func (s *Service) hubRefresh(srv *phx.Server, r *room, actor string, stale []string) {
	payload, err := json.Marshal(map[string]any{"hubs": []HubView{s.View(r.hubRecord())}, "session_id": actor, "stale_fields": stale})
	if err != nil {
		s.cfg.Log.Error("encode hub_refresh", "err", err)
		return
	}
	srv.Broadcast(r.topic, phx.EncodeBroadcast(r.topic, "hub_refresh", payload, false), nil)
	for _, f := range stale {
		if f == "member_permissions" {
			for _, m := range r.allMembers() {
				m.updatePresence()
			}
		}
	}
}
