package hub

import (
	"encoding/json"
	"testing"

	"toncon/internal/store"
)

func update(id, owner string, lastOwnerTime float64) map[string]any {
	return map[string]any{"dataType": "u", "data": map[string]any{"networkId": id, "owner": owner,
		"lastOwnerTime": lastOwnerTime, "components": map[string]any{"0": map[string]any{"x": 1}}}}
}

func nafr(t *testing.T, msg map[string]any) map[string]any {
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"naf": string(b)}
}

// relayed reports whether the message reached the other peer (as naf or nafr).
func relayed(p *peer) bool { return len(p.take("naf"))+len(p.take("nafr")) > 0 }

// Check 3: updates and removals come only from an entity's owner; taking an entity over needs the
// template's permission (and pin_objects when pinned); avatars belong to their creator alone.
func TestOwnershipChecks(t *testing.T) {
	e := newEnv(t, nil)
	// Members may move media but not drawings.
	h := e.createHub(func(h *store.Hub) {
		h.MemberPermissions = store.PermSpawnAndMoveMedia | store.PermVoiceChat | store.PermTextChat
	})
	a, b := e.peer("a"), e.peer("b")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	for _, id := range []string{"av-a"} {
		a.push("naf", avatarFirstSync(id, "#remote-avatar"))
	}
	a.push("naf", avatarFirstSync("media-1", "#interactable-media"))
	b.take("naf")
	drop := func(name string, from *peer, msg map[string]any, asNAFR bool) {
		t.Helper()
		to := a
		if from == a {
			to = b
		}
		if asNAFR {
			from.push("nafr", nafr(t, msg))
		} else {
			from.push("naf", msg)
		}
		if relayed(to) {
			t.Errorf("%s: relayed, want dropped", name)
		}
	}
	pass := func(name string, from *peer, msg map[string]any, asNAFR bool) {
		t.Helper()
		to := a
		if from == a {
			to = b
		}
		if asNAFR {
			from.push("nafr", nafr(t, msg))
		} else {
			from.push("naf", msg)
		}
		if !relayed(to) {
			t.Errorf("%s: dropped, want relayed", name)
		}
	}
	for _, asNAFR := range []bool{false, true} {
		pass("owner updates own avatar", a, update("av-a", "a", 1), asNAFR)
		drop("someone else updates the avatar, naming the owner", b, update("av-a", "a", 1), asNAFR)
		drop("someone else takes the avatar over", b, update("av-a", "b", 99), asNAFR)
		drop("update of an unknown entity", a, update("ghost", "a", 1), asNAFR)
		drop("um with one item that is not the sender's", a, map[string]any{"dataType": "um", "data": map[string]any{"d": []any{
			update("av-a", "a", 1)["data"], update("media-1", "b", 1)["data"]}}}, asNAFR)
		drop("removal by someone else", b, map[string]any{"dataType": "r", "data": map[string]any{"networkId": "av-a"}}, asNAFR)
	}
	// Taking media over: needs a newer lastOwnerTime; then the old owner's updates stop counting.
	drop("takeover with an old lastOwnerTime", b, update("media-1", "b", 0), false)
	pass("takeover with permission", b, update("media-1", "b", 5), false)
	drop("old owner updates after the takeover", a, update("media-1", "a", 5), false)
	pass("new owner updates", b, update("media-1", "b", 5), true)
	pass("old owner takes it back later", a, update("media-1", "a", 6), false)

	// A drawing: only spawnable with spawn_drawing; as an owner, b is refused the takeover of a's media
	// once the room forbids moving media.
	if _, err := e.store.UpdateHub(t.Context(), h.SID, store.HubUpdate{MemberPermissions: ptr(store.PermVoiceChat | store.PermTextChat)}); err != nil {
		t.Fatal(err)
	}
	e.svc.refreshHub(t.Context(), h.SID)
	drop("takeover without spawn_and_move_media", b, update("media-1", "b", 10), false)

	// Removal by the owner works, and the entity is forgotten.
	pass("owner removes", a, map[string]any{"dataType": "r", "data": map[string]any{"networkId": "media-1"}}, false)
	drop("update after removal", a, update("media-1", "a", 11), false)
	st := e.svc.Stats()
	if st.NAFDroppedNotOwner.Load() == 0 || st.NAFDroppedUnknownEntity.Load() == 0 {
		t.Fatalf("drops not counted by reason: not owner %d, unknown %d", st.NAFDroppedNotOwner.Load(), st.NAFDroppedUnknownEntity.Load())
	}
}

func ptr[T any](v T) *T { return &v }

func TestBlockStopsNAFAndChatBothWays(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	a, b, c := e.peer("a"), e.peer("b"), e.peer("c")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	c.mustJoin(h.SID, "Cy")
	a.push("naf", avatarFirstSync("av-a", "#remote-avatar"))
	b.push("naf", avatarFirstSync("av-b", "#remote-avatar"))
	for _, p := range []*peer{a, b, c} {
		p.take("naf")
	}
	if status, _ := a.request("block", map[string]any{"session_id": "b"}); status != "ok" {
		t.Fatal("block refused")
	}
	a.push("naf", update("av-a", "a", 1))
	b.push("naf", update("av-b", "b", 1))
	a.request("message", map[string]any{"body": "hi"})
	b.request("message", map[string]any{"body": "hey"})
	if n := len(b.take("naf")); n != 0 {
		t.Errorf("b got %d naf from the one who blocked it", n)
	}
	if n := len(a.take("naf")); n != 0 {
		t.Errorf("a got %d naf from the one it blocked", n)
	}
	if got := a.take("message"); len(got) != 1 || decode(t, got[0].Payload)["session_id"] != "a" {
		t.Errorf("a's messages: %v", got)
	}
	if got := b.take("message"); len(got) != 1 || decode(t, got[0].Payload)["session_id"] != "b" {
		t.Errorf("b's messages: %v", got)
	}
	if n := len(c.take("naf")); n != 2 {
		t.Errorf("an uninvolved member got %d of 2 naf", n)
	}
	if n := len(c.take("message")); n != 2 {
		t.Errorf("an uninvolved member got %d of 2 messages", n)
	}
	a.request("unblock", map[string]any{"session_id": "b"})
	b.push("naf", update("av-b", "b", 2))
	if n := len(a.take("naf")); n != 1 {
		t.Errorf("after unblock a got %d naf", n)
	}
}
