package hub

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"toncon/internal/auth"
	"toncon/internal/store"
)

func TestJoinErrors(t *testing.T) {
	e := newEnv(t, nil)
	open := e.createHub(nil)
	denied := e.createHub(func(h *store.Hub) { h.EntryMode = store.EntryDeny })
	invite := e.createHub(func(h *store.Hub) { h.EntryMode = store.EntryInvite })
	cases := []struct {
		name    string
		sid     store.HubSID
		payload any
		reason  string
	}{
		{"unknown hub", store.NewSID(), profile("Ada"), "not_found"},
		{"malformed sid", "../../x", profile("Ada"), "not_found"},
		{"closed hub", denied.SID, profile("Ada"), "closed"},
		{"invite only", invite.SID, profile("Ada"), "join_denied"},
		{"no profile", open.SID, map[string]any{"context": map[string]any{}}, "bad_request"},
		{"no context", open.SID, map[string]any{"profile": map[string]any{"displayName": "Ada"}}, "bad_request"},
		{"null profile", open.SID, map[string]any{"profile": nil, "context": map[string]any{}}, "bad_request"},
		{"profile not an object", open.SID, map[string]any{"profile": "Ada", "context": map[string]any{}}, "invalid_profile"},
		{"context not an object", open.SID, map[string]any{"profile": map[string]any{"displayName": "Ada"}, "context": 5}, "bad_request"},
		{"no display name", open.SID, map[string]any{"profile": map[string]any{}, "context": map[string]any{}}, "invalid_profile"},
		{"empty display name", open.SID, profile(""), "invalid_profile"},
		{"overlong display name", open.SID, profile(strings.Repeat("x", 65)), "invalid_profile"},
		{"control character", open.SID, profile("Ada\u0007"), "invalid_profile"},
		{"padded name", open.SID, profile(" Ada"), "invalid_profile"},
		{"avatar id not a string", open.SID, map[string]any{"profile": map[string]any{"displayName": "Ada", "avatarId": 7}, "context": map[string]any{}}, "invalid_profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := e.peer("")
			status, resp := p.join(tc.sid, tc.payload)
			if status != "error" || resp["reason"] != tc.reason || resp["message"] == "" {
				t.Fatalf("got %s %v, want error %s with a message", status, resp, tc.reason)
			}
		})
	}
	if m, l := e.svc.Occupancy(open.SID); m != 0 || l != 0 {
		t.Fatalf("refused joins left occupants: %d %d", m, l)
	}
	p := e.peer("")
	p.mustJoin(open.SID, "Ada Lovelace-Ω") // any script is fine
}

func TestJoinRequiresAccountWhenTheSiteSaysSo(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	if err := e.store.SetSiteSetting(context.Background(), "require_account_for_join", "true"); err != nil {
		t.Fatal(err)
	}
	status, resp := e.peer("").join(h.SID, profile("Ada"))
	if status != "error" || resp["reason"] != "join_denied" {
		t.Fatalf("%s %v", status, resp)
	}
}

func TestJoinReply(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	p := e.peer("sess-a")
	resp := p.mustJoin(h.SID, "Ada")
	hubs := resp["hubs"].([]any)
	view := hubs[0].(map[string]any)
	if view["hub_id"] != string(h.SID) || view["name"] != "Test room" || view["entry_mode"] != "allow" ||
		view["url"] != "https://localhost:4000/"+string(h.SID)+"/"+h.Slug || view["room_size"] != 24.0 {
		t.Fatalf("hub view %v", view)
	}
	if perms := view["member_permissions"].(map[string]any); perms["text_chat"] != true || perms["spawn_and_move_media"] != false || len(perms) != 8 {
		t.Fatalf("member_permissions %v", perms)
	}
	if resp["session_id"] != "sess-a" {
		t.Fatalf("session_id %v", resp["session_id"])
	}
	if id, err := testKeys(t).VerifySession(resp["session_token"].(string), e.clock()); err != nil || id != "sess-a" {
		t.Fatalf("session token: %q %v", id, err)
	}
	claims, err := auth.VerifyPerms(testKeys(t).PermsPublicKey(), resp["perms_token"].(string), e.clock())
	if err != nil || claims.HubID != string(h.SID) || !claims.Perms["join_hub"] || !claims.Perms["voice_chat"] || claims.Perms["kick_users"] {
		t.Fatalf("perms token: %+v %v", claims, err)
	}
	// presence_state follows the reply and holds the joiner in the lobby.
	states := p.take("presence_state")
	if len(states) != 1 {
		t.Fatalf("%d presence_state frames", len(states))
	}
	state := decode(t, states[0].Payload)
	meta := state["sess-a"].(map[string]any)["metas"].([]any)[0].(map[string]any)
	if meta["presence"] != "lobby" || meta["profile"].(map[string]any)["displayName"] != "Ada" ||
		meta["roles"].(map[string]any)["owner"] != false || meta["permissions"].(map[string]any)["text_chat"] != true {
		t.Fatalf("meta %v", meta)
	}
}

func TestPresenceLobbyToRoom(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	if m, l := e.svc.Occupancy(h.SID); m != 0 || l != 2 {
		t.Fatalf("occupancy %d/%d, want 0 in room, 2 in lobby", m, l)
	}
	a.take("presence_diff")
	b.push("events:entering", map[string]any{})
	if got := lastMeta(t, a, "b"); got["context"].(map[string]any)["entering"] != true {
		t.Fatalf("entering not shown: %v", got)
	}
	if status, _ := b.request("events:entered", map[string]any{"entryDisplayType": "Screen"}); status != "ok" {
		t.Fatalf("entered: %s", status)
	}
	got := lastMeta(t, a, "b")
	if got["presence"] != "room" || got["context"].(map[string]any)["entering"] != nil {
		t.Fatalf("after entered: %v", got)
	}
	if m, l := e.svc.Occupancy(h.SID); m != 1 || l != 1 {
		t.Fatalf("occupancy %d/%d, want 1/1", m, l)
	}
	for _, ev := range []struct {
		event, flag string
		want        bool
	}{{"events:begin_typing", "typing", true}, {"events:end_typing", "typing", false}, {"events:raise_hand", "hand_raised", true}, {"events:lower_hand", "hand_raised", false}} {
		b.push(ev.event, map[string]any{})
		if got := lastMeta(t, a, "b"); got[ev.flag] != ev.want {
			t.Fatalf("%s: %s = %v", ev.event, ev.flag, got[ev.flag])
		}
	}
	if status, _ := b.request("events:profile_updated", map[string]any{"profile": map[string]any{"displayName": "Robert"}}); status != "ok" {
		t.Fatal("profile update refused")
	}
	if got := lastMeta(t, a, "b"); got["profile"].(map[string]any)["displayName"] != "Robert" {
		t.Fatalf("profile not updated: %v", got)
	}
	if status, resp := b.request("events:profile_updated", map[string]any{"profile": map[string]any{"displayName": ""}}); status != "error" || resp["reason"] != "invalid_profile" {
		t.Fatalf("bad profile update: %s %v", status, resp)
	}
	// Leaving is a presence leave and frees the room place.
	b.sock.EndLocal()
	diffs := a.take("presence_diff")
	if len(diffs) != 1 || !strings.Contains(string(diffs[0].Payload), `"leaves":{"b"`) {
		t.Fatalf("leave diff: %v", diffs)
	}
	if m, l := e.svc.Occupancy(h.SID); m != 0 || l != 1 {
		t.Fatalf("occupancy %d/%d after leave", m, l)
	}
}

// lastMeta returns the newest presence meta of key seen in peer's presence diffs.
func lastMeta(t *testing.T, p *peer, key string) map[string]any {
	t.Helper()
	diffs := p.take("presence_diff")
	for i := len(diffs) - 1; i >= 0; i-- {
		d := decode(t, diffs[i].Payload)
		if j, ok := d["joins"].(map[string]any)[key]; ok {
			metas := j.(map[string]any)["metas"].([]any)
			return metas[len(metas)-1].(map[string]any)
		}
	}
	t.Fatalf("no presence join for %s", key)
	return nil
}

func TestRoomFull(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(func(h *store.Hub) { h.RoomSize = 1 })
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	if status, _ := a.request("events:entered", map[string]any{}); status != "ok" {
		t.Fatal("first entry refused")
	}
	status, resp := b.request("events:entered", map[string]any{})
	if status != "error" || resp["reason"] != "room_full" || !strings.Contains(resp["message"].(string), "full") {
		t.Fatalf("second entry: %s %v", status, resp)
	}
	if m, l := e.svc.Occupancy(h.SID); m != 1 || l != 1 {
		t.Fatalf("occupancy %d/%d: the refused person must stay in the lobby", m, l)
	}
	// When the room frees up, the person waiting in the lobby can enter.
	a.sock.EndLocal()
	if status, _ := b.request("events:entered", map[string]any{}); status != "ok" {
		t.Fatal("entry refused after the room emptied")
	}
}

func avatarFirstSync(networkID, template string) map[string]any {
	return map[string]any{"dataType": "u", "data": map[string]any{
		"networkId": networkID, "owner": "someone-else", "creator": "someone-else", "lastOwnerTime": 1,
		"template": template, "persistent": false, "parent": nil,
		"components": map[string]any{"0": map[string]any{"x": 1, "y": 2, "z": 3}}, "isFirstSync": true}}
}

func TestNAFRelayAndSpawnChecks(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil) // restrictive default: voice and text only
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")

	a.push("naf", avatarFirstSync("av-a", "#remote-avatar"))
	got := b.take("naf")
	if len(got) != 1 {
		t.Fatalf("b got %d naf", len(got))
	}
	msg := decode(t, got[0].Payload)
	data := msg["data"].(map[string]any)
	if msg["from_session_id"] != "a" || data["owner"] != "a" || data["creator"] != "a" || data["networkId"] != "av-a" {
		t.Fatalf("relayed first sync %v", msg)
	}
	if n := len(a.take("naf")); n != 0 {
		t.Fatalf("the sender got its own naf back %d times", n)
	}

	for _, tc := range []struct {
		template string
		relayed  bool
	}{{"#interactable-media", false}, {"#interactable-camera", false}, {"#interactable-pen", false}, {"#interactable-emoji", false}, {"#something-else", false}, {"#remote-avatar", true}} {
		a.push("naf", avatarFirstSync("x"+tc.template, tc.template))
		if n := len(b.take("naf")); (n == 1) != tc.relayed {
			t.Errorf("%s: relayed %d, want relayed=%v", tc.template, n, tc.relayed)
		}
	}

	// An update (not a first sync) passes through, stamped; a forged from_session_id is overridden.
	a.push("naf", map[string]any{"dataType": "u", "data": map[string]any{"networkId": "av-a", "owner": "a", "components": map[string]any{"0": map[string]any{"x": 5}}}, "from_session_id": "forged"})
	got = b.take("naf")
	if len(got) != 1 || !strings.HasSuffix(string(got[0].Payload), `"from_session_id":"a"}`) {
		t.Fatalf("update relay: %v", got)
	}
	var last struct {
		From string `json:"from_session_id"`
	}
	_ = json.Unmarshal(got[0].Payload, &last)
	if last.From != "a" {
		t.Fatalf("forged from_session_id survived: %s", got[0].Payload)
	}

	// Check 2: a um holding a first sync is dropped whole.
	a.push("naf", map[string]any{"dataType": "um", "data": map[string]any{"d": []any{avatarFirstSync("av-z", "#remote-avatar")["data"]}}})
	if n := len(b.take("naf")); n != 0 {
		t.Fatal("um with a first sync was relayed")
	}
	a.push("naf", map[string]any{"dataType": "um", "data": map[string]any{"d": []any{map[string]any{"networkId": "av-a", "owner": "a", "components": map[string]any{}}}}})
	if n := len(b.take("naf")); n != 1 {
		t.Fatal("plain um was not relayed")
	}
	st := e.svc.Stats()
	if st.NAFDroppedSpawn.Load() != 5 || st.NAFDroppedFirstSyncInUM.Load() != 1 {
		t.Fatalf("drops counted: spawn %d um %d", st.NAFDroppedSpawn.Load(), st.NAFDroppedFirstSyncInUM.Load())
	}
}

func TestSpawnAllowedByMemberPermissions(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(func(h *store.Hub) { h.MemberPermissions = store.PermAll })
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	for _, tpl := range []string{"#interactable-media", "#interactable-camera", "#interactable-drawing", "#interactable-emoji"} {
		a.push("naf", avatarFirstSync("id"+tpl, tpl))
		if n := len(b.take("naf")); n != 1 {
			t.Errorf("%s not relayed with every permission granted", tpl)
		}
	}
	// Someone else's entity id cannot be taken over with a first sync of one's own.
	b.push("naf", avatarFirstSync("id#interactable-media", "#interactable-media"))
	if n := len(a.take("naf")); n != 0 {
		t.Fatal("a first sync took over another session's entity")
	}
}

func TestNAFRRelay(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	a.push("naf", avatarFirstSync("av-a", "#remote-avatar"))
	b.take("naf")
	inner := `{"dataType":"um","data":{"d":[{"networkId":"av-a","owner":"a","components":{"0":{"x":1}}}]}}`
	a.push("nafr", map[string]any{"naf": inner})
	got := b.take("nafr")
	if len(got) != 1 {
		t.Fatalf("nafr relayed %d times", len(got))
	}
	var out struct {
		NAF  string `json:"naf"`
		From string `json:"from_session_id"`
	}
	if err := json.Unmarshal(got[0].Payload, &out); err != nil || out.NAF != inner || out.From != "a" {
		t.Fatalf("nafr out %s %v", got[0].Payload, err)
	}
	// A first sync inside nafr is checked like a naf, and goes out as naf.
	fs, _ := json.Marshal(avatarFirstSync("m1", "#interactable-media"))
	a.push("nafr", map[string]any{"naf": string(fs)})
	if n := len(b.take("naf")) + len(b.take("nafr")); n != 0 {
		t.Fatal("forbidden first sync inside nafr was relayed")
	}
	fs, _ = json.Marshal(avatarFirstSync("av-a", "#remote-avatar"))
	a.push("nafr", map[string]any{"naf": string(fs)})
	if got := b.take("naf"); len(got) != 1 || decode(t, got[0].Payload)["data"].(map[string]any)["owner"] != "a" {
		t.Fatalf("allowed first sync inside nafr: %v", got)
	}
	// Malformed nafr payloads are dropped, not relayed.
	for _, bad := range []any{map[string]any{"naf": 5}, map[string]any{}, map[string]any{"naf": `{"isFirstSync":` + "\x01"}} {
		a.push("nafr", bad)
	}
	if n := len(b.take("nafr")) + len(b.take("naf")); n != 0 {
		t.Fatalf("%d malformed nafr relayed", n)
	}
	if e.svc.Stats().NAFDroppedInvalid.Load() != 3 {
		t.Fatalf("invalid drops counted %d", e.svc.Stats().NAFDroppedInvalid.Load())
	}
}

func TestLeaverEntitiesAreRemoved(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	a.push("naf", avatarFirstSync("av-a", "#remote-avatar"))
	b.take("naf")
	a.sock.EndLocal()
	got := b.take("naf")
	if len(got) != 1 {
		t.Fatalf("%d naf after leave", len(got))
	}
	m := decode(t, got[0].Payload)
	if m["dataType"] != "r" || m["data"].(map[string]any)["networkId"] != "av-a" || m["from_session_id"] != "a" {
		t.Fatalf("removal %v", m)
	}
}

func TestChat(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxChatBytes = 50 })
	h := e.createHub(nil)
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	if status, _ := a.request("message", map[string]any{"type": "chat", "body": "hello", "session_id": "forged"}); status != "ok" {
		t.Fatal("chat refused")
	}
	for _, p := range []*peer{a, b} {
		got := p.take("message")
		if len(got) != 1 {
			t.Fatalf("%d messages", len(got))
		}
		m := decode(t, got[0].Payload)
		if m["body"] != "hello" || m["session_id"] != "a" || m["type"] != "chat" {
			t.Fatalf("message %v", m)
		}
	}
	status, resp := a.request("message", map[string]any{"type": "chat", "body": strings.Repeat("x", 60)})
	if status != "error" || resp["reason"] != "too_long" {
		t.Fatalf("long chat: %s %v", status, resp)
	}
	if n := len(b.take("message")); n != 0 {
		t.Fatal("overlong chat was relayed")
	}
	noText := e.createHub(func(h *store.Hub) { h.MemberPermissions = store.PermVoiceChat })
	c := e.peer("c")
	c.mustJoin(noText.SID, "Cy")
	if status, resp := c.request("message", map[string]any{"type": "chat", "body": "hi"}); status != "error" || resp["reason"] != "not_allowed" {
		t.Fatalf("chat without text_chat: %s %v", status, resp)
	}
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.NAFRate, c.ChatRate = 10, 1 })
	h := e.createHub(nil)
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	a.push("naf", avatarFirstSync("n", "#remote-avatar"))
	e.advance(time.Second) // refill what the first sync took
	b.take("naf")
	update := map[string]any{"dataType": "u", "data": map[string]any{"networkId": "n", "owner": "a", "components": map[string]any{}}}
	for range 30 {
		a.push("naf", update)
	}
	if n := len(b.take("naf")); n != 20 { // burst is twice the rate; the clock does not move
		t.Fatalf("relayed %d of 30, want the burst of 20", n)
	}
	e.advance(time.Second)
	for range 30 {
		a.push("naf", update)
	}
	if n := len(b.take("naf")); n != 10 {
		t.Fatalf("relayed %d after a second, want 10", n)
	}
	if got := e.svc.Stats().NAFDroppedRate.Load(); got != 30 {
		t.Fatalf("counted %d rate drops, want 30", got)
	}
	for range 3 {
		a.request("message", map[string]any{"body": "x"})
	}
	if status, resp := a.request("message", map[string]any{"body": "x"}); status != "error" || resp["reason"] != "rate_limited" {
		t.Fatalf("chat flood: %s %v", status, resp)
	}
}

func TestOtherEvents(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	a := e.peer("a")
	a.mustJoin(h.SID, "Ada")
	if status, resp := a.request("no_such_event", map[string]any{}); status != "error" || resp["reason"] != "unknown_event" {
		t.Fatalf("unknown event: %s %v", status, resp)
	}
	if status, resp := a.request("kick", map[string]any{"session_id": "b"}); status != "error" || resp["reason"] != "forbidden" {
		t.Fatalf("kick: %s %v", status, resp)
	}
	status, resp := a.request("refresh_perms_token", map[string]any{})
	if status != "ok" {
		t.Fatal("refresh_perms_token refused")
	}
	if _, err := auth.VerifyPerms(testKeys(t).PermsPublicKey(), resp["perms_token"].(string), e.clock()); err != nil {
		t.Fatal(err)
	}
	status, resp = a.request("get_host", map[string]any{})
	if status != "ok" || resp["host"] != "localhost" || resp["port"] != 4000.0 {
		t.Fatalf("get_host: %s %v", status, resp)
	}
}

func TestSessionTokenKeepsSessionID(t *testing.T) {
	e := newEnv(t, nil)
	tok, err := testKeys(t).MintSession("kept-id", e.clock())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, want string }{{"session_token=" + tok, "kept-id"}, {"session_token=garbage", ""}, {"", ""}} {
		r, _ := http.NewRequest("GET", "/socket/websocket?vsn=2.0.0&"+tc.query, nil)
		id, _, err := e.svc.Connect(r)
		if err != nil || (tc.want != "" && id != tc.want) || (tc.want == "" && (id == "kept-id" || len(id) != 36)) {
			t.Errorf("%q: id %q err %v", tc.query, id, err)
		}
	}
}
