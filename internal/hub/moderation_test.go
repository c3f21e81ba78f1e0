package hub

import (
	"strings"
	"testing"
	"time"

	"toncon/internal/store"
)

// makeOwner gives a session owner powers directly, as signing in with the creator token will.
func (e *env) makeOwner(t *testing.T, sid store.HubSID, session string) {
	t.Helper()
	e.svc.mu.Lock()
	r := e.svc.rooms[sid]
	e.svc.mu.Unlock()
	for _, c := range r.membersOf(session) {
		c.setPresence(func() { c.roles = Roles{Owner: true, SignedIn: true} })
	}
}

type fakeMedia struct {
	muted  map[string]bool
	kicked []string
}

func (f *fakeMedia) Host(store.HubSID) (string, int) { return "media.example.org", 4443 }
func (f *fakeMedia) Mute(_ store.HubSID, s string, m bool) {
	if f.muted == nil {
		f.muted = map[string]bool{}
	}
	f.muted[s] = m
}
func (f *fakeMedia) Kick(_ store.HubSID, s string) { f.kicked = append(f.kicked, s) }

// Every owner action is refused to members, with a reason, and changes nothing for anyone.
func TestOwnerActionsNeedOwnerPowers(t *testing.T) {
	media := &fakeMedia{}
	e := newEnv(t, func(c *Config) { c.Media = media })
	h := e.createHub(nil)
	owner, guest, other := e.peer("owner"), e.peer("guest"), e.peer("other")
	owner.mustJoin(h.SID, "Olive")
	guest.mustJoin(h.SID, "Gus")
	other.mustJoin(h.SID, "Otto")
	e.makeOwner(t, h.SID, "owner")
	for _, p := range []*peer{owner, guest, other} {
		p.receive()
		p.inbox = nil
	}
	for _, tc := range []struct {
		event   string
		payload map[string]any
		perm    string
	}{
		{"kick", map[string]any{"session_id": "other"}, "kick_users"},
		{"mute", map[string]any{"session_id": "other"}, "mute_users"},
		{"update_hub", map[string]any{"name": "Taken over"}, "update_hub"},
		{"close_hub", map[string]any{}, "close_hub"},
	} {
		status, resp := guest.request(tc.event, tc.payload)
		if status != "error" || resp["reason"] != "forbidden" || !strings.Contains(resp["message"].(string), tc.perm) {
			t.Errorf("guest %s: %s %v", tc.event, status, resp)
		}
	}
	if got := other.take("mute"); len(got) != 0 || len(media.muted) != 0 || len(media.kicked) != 0 {
		t.Fatalf("a refused action had effects: %v %v %v", got, media.muted, media.kicked)
	}
	if hub, _ := e.store.GetHub(t.Context(), h.SID); hub.Name != "Test room" || hub.EntryMode != store.EntryAllow {
		t.Fatalf("a refused update changed the hub: %+v", hub)
	}
	if n := len(other.take("hub_refresh")); n != 0 {
		t.Fatal("a refused update was broadcast")
	}
	// get_host names the media node.
	if status, resp := guest.request("get_host", map[string]any{}); status != "ok" || resp["host"] != "media.example.org" || resp["port"] != 4443.0 {
		t.Fatalf("get_host: %s %v", status, resp)
	}
}

func TestMuteAndUnmute(t *testing.T) {
	media := &fakeMedia{}
	e := newEnv(t, func(c *Config) { c.Media = media })
	h := e.createHub(nil)
	owner, guest := e.peer("owner"), e.peer("guest")
	owner.mustJoin(h.SID, "Olive")
	guest.mustJoin(h.SID, "Gus")
	e.makeOwner(t, h.SID, "owner")
	owner.take("presence_diff")
	if status, resp := owner.request("mute", map[string]any{"session_id": "guest"}); status != "ok" {
		t.Fatalf("mute: %v", resp)
	}
	if n := len(guest.take("mute")); n != 1 || !media.muted["guest"] {
		t.Fatalf("mute not delivered: %d pushes, media %v", n, media.muted)
	}
	if meta := lastMeta(t, owner, "guest"); meta["muted"] != true {
		t.Fatalf("presence does not show the mute: %v", meta)
	}
	if status, _ := guest.request("unmute", map[string]any{}); status != "ok" || media.muted["guest"] {
		t.Fatal("the muted person could not unmute")
	}
	if meta := lastMeta(t, owner, "guest"); meta["muted"] != false {
		t.Fatalf("presence still muted: %v", meta)
	}
	if status, resp := owner.request("mute", map[string]any{"session_id": "nobody"}); status != "error" || resp["reason"] != "not_found" {
		t.Fatalf("mute of someone absent: %s %v", status, resp)
	}
	if status, resp := owner.request("mute", map[string]any{"session_id": "owner"}); status != "error" || resp["reason"] != "bad_request" {
		t.Fatalf("self mute: %s %v", status, resp)
	}
}

func TestKickKeepsThePersonOutForFiveMinutes(t *testing.T) {
	media := &fakeMedia{}
	e := newEnv(t, func(c *Config) { c.Media = media })
	h := e.createHub(nil)
	owner, guest := e.peer("owner"), e.peer("guest")
	owner.mustJoin(h.SID, "Olive")
	guest.mustJoin(h.SID, "Gus")
	e.makeOwner(t, h.SID, "owner")
	if status, resp := owner.request("kick", map[string]any{"session_id": "guest"}); status != "ok" {
		t.Fatalf("kick: %v", resp)
	}
	if len(media.kicked) != 1 || media.kicked[0] != "guest" {
		t.Fatalf("media not told: %v", media.kicked)
	}
	// The same session (a reconnect with its session token) is refused for 5 minutes.
	again := e.peer("guest")
	status, resp := again.join(h.SID, profile("Gus"))
	if status != "error" || resp["reason"] != "join_denied" || !strings.Contains(resp["message"].(string), "5 minutes") {
		t.Fatalf("rejoin after kick: %s %v", status, resp)
	}
	e.advance(KickBan - time.Second)
	if status, _ := e.peer("guest").join(h.SID, profile("Gus")); status != "error" {
		t.Fatal("rejoined before the ban ended")
	}
	e.advance(2 * time.Second)
	if status, resp := e.peer("guest").join(h.SID, profile("Gus")); status != "ok" {
		t.Fatalf("still refused after 5 minutes: %v", resp)
	}
}

func TestUpdateHubAndCloseHub(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	owner, guest := e.peer("owner"), e.peer("guest")
	owner.mustJoin(h.SID, "Olive")
	guest.mustJoin(h.SID, "Gus")
	e.makeOwner(t, h.SID, "owner")
	guest.take("presence_diff")
	status, resp := owner.request("update_hub", map[string]any{"name": "Renamed", "room_size": 30,
		"member_permissions": map[string]bool{"spawn_and_move_media": true, "text_chat": false}})
	if status != "ok" {
		t.Fatalf("update_hub: %v", resp)
	}
	refresh := guest.take("hub_refresh")
	if len(refresh) != 1 {
		t.Fatalf("%d hub_refresh", len(refresh))
	}
	r := decode(t, refresh[0].Payload)
	stale := r["stale_fields"].([]any)
	view := r["hubs"].([]any)[0].(map[string]any)
	if len(stale) != 3 || view["name"] != "Renamed" || view["room_size"] != 30.0 || r["session_id"] != "owner" ||
		view["member_permissions"].(map[string]any)["text_chat"] != false {
		t.Fatalf("hub_refresh %v", r)
	}
	// Permissions live in presence: every member republishes.
	if meta := lastMeta(t, guest, "guest"); meta["permissions"].(map[string]any)["spawn_and_move_media"] != true {
		t.Fatalf("guest's presence permissions not refreshed: %v", meta)
	}
	// Text chat is now off for members.
	if status, resp := guest.request("message", map[string]any{"body": "hi"}); status != "error" || resp["reason"] != "not_allowed" {
		t.Fatalf("chat after text_chat off: %s %v", status, resp)
	}
	for _, bad := range []map[string]any{
		{"room_size": 51}, {"room_size": 0}, {"name": ""}, {"name": strings.Repeat("n", 65)},
		{"entry_mode": "sometimes"}, {"member_permissions": map[string]bool{"teleport": true}},
	} {
		if status, resp := owner.request("update_hub", bad); status != "error" || resp["reason"] != "invalid" {
			t.Errorf("%v: %s %v", bad, status, resp)
		}
	}
	if got, _ := e.store.GetHub(t.Context(), h.SID); got.Name != "Renamed" || got.RoomSize != 30 {
		t.Fatalf("invalid updates changed the hub: %+v", got)
	}
	if status, _ := owner.request("close_hub", map[string]any{}); status != "ok" {
		t.Fatal("close_hub refused")
	}
	if got, _ := e.store.GetHub(t.Context(), h.SID); got.EntryMode != store.EntryDeny {
		t.Fatalf("entry mode %s", got.EntryMode)
	}
	if status, resp := e.peer("late").join(h.SID, profile("Late")); status != "error" || resp["reason"] != "closed" {
		t.Fatalf("join after close: %s %v", status, resp)
	}
}
