package hub

import (
	"fmt"
	"testing"

	"toncon/internal/auth"
	"toncon/internal/store"
)

// TestEveryMemberPermissionAndRole walks every member permission flag with it granted and withheld, for a guest
// and for an owner: the allowed action works; the forbidden one is refused (or dropped) and reaches nobody.
// Owners may do every object action whatever the bits say.
func TestEveryMemberPermissionAndRole(t *testing.T) {
	// How each flag shows: an action whose effect another member can observe, or the perms token's claim for
	// the flags the SFU (voice_chat) and the client (fly, pin_objects until pinning lands) enforce.
	type check func(t *testing.T, e *env, actor, other *peer) bool
	spawn := func(template string) check {
		return func(t *testing.T, e *env, actor, other *peer) bool {
			actor.push("naf", avatarFirstSync(fmt.Sprintf("%s-%d", template, e.clock().UnixNano()), template))
			return len(other.take("naf")) == 1
		}
	}
	claim := func(name string) check {
		return func(t *testing.T, e *env, actor, other *peer) bool {
			status, resp := actor.request("refresh_perms_token", map[string]any{})
			if status != "ok" {
				t.Fatalf("refresh_perms_token: %v", resp)
			}
			c, err := auth.VerifyPerms(testKeys(t).PermsPublicKey(), resp["perms_token"].(string), e.clock())
			if err != nil {
				t.Fatal(err)
			}
			return c.Perms[name]
		}
	}
	chat := func(t *testing.T, e *env, actor, other *peer) bool {
		status, _ := actor.request("message", map[string]any{"type": "chat", "body": "hello"})
		return status == "ok" && len(other.take("message")) == 1
	}
	flags := []struct {
		bit   store.MemberPermissions
		check check
	}{
		{store.PermSpawnAndMoveMedia, spawn("#interactable-media")},
		{store.PermSpawnCamera, spawn("#interactable-camera")},
		{store.PermSpawnDrawing, spawn("#interactable-drawing")},
		{store.PermPinObjects, claim("pin_objects")},
		{store.PermSpawnEmoji, spawn("#interactable-emoji")},
		{store.PermFly, claim("fly")},
		{store.PermVoiceChat, claim("voice_chat")},
		{store.PermTextChat, chat},
	}
	for i, f := range flags {
		for _, granted := range []bool{true, false} {
			for _, owner := range []bool{false, true} {
				name := fmt.Sprintf("%s granted=%v owner=%v", store.PermissionNames[i], granted, owner)
				t.Run(name, func(t *testing.T) {
					e := newEnv(t, nil)
					bits := store.PermAll &^ f.bit
					if granted {
						bits = store.PermAll
					}
					h := e.createHub(func(h *store.Hub) { h.MemberPermissions = bits })
					actor, other := e.peer("actor"), e.peer("other")
					actor.mustJoin(h.SID, "Actor")
					other.mustJoin(h.SID, "Other")
					if owner {
						e.makeOwner(t, h.SID, "actor")
					}
					other.receive()
					other.inbox = nil
					want := granted || owner
					if got := f.check(t, e, actor, other); got != want {
						t.Fatalf("allowed=%v, want %v", got, want)
					}
					// Presence tells everyone what the actor may do, as the client needs it.
					state := decode(t, e.srv.Presence().State("hub:"+string(h.SID)))
					metas := state["actor"].(map[string]any)["metas"].([]any)
					perms := metas[len(metas)-1].(map[string]any)["permissions"].(map[string]any)
					if got := perms[store.PermissionNames[i]]; got != want {
						t.Fatalf("presence permissions[%s] = %v, want %v", store.PermissionNames[i], got, want)
					}
				})
			}
		}
	}
}
