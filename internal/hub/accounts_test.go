package hub

import (
	"strings"
	"testing"

	"toncon/internal/auth"
	"toncon/internal/store"
)

func (e *env) account(t *testing.T, email string) (store.Account, string) {
	t.Helper()
	a, _, _, err := e.store.FindOrCreateAccount(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := testKeys(t).MintAccountToken(a.ID, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	return a, tok
}

func TestSignInWithTheCreatorTokenGivesOwnerPowers(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(func(h *store.Hub) { h.CreatorAssignmentToken = "creator-secret" })
	e.account(t, "first@example.org") // the first account is the admin; the creator below is not
	creator, creatorTok := e.account(t, "Creator@Example.org")
	_, otherTok := e.account(t, "other@example.org")
	c, o := e.peer("c"), e.peer("o")
	c.mustJoin(h.SID, "Cleo")
	o.mustJoin(h.SID, "Oz")

	if status, resp := c.request("kick", map[string]any{"session_id": "o"}); status != "error" || resp["reason"] != "forbidden" {
		t.Fatalf("kick before sign-in: %s %v", status, resp)
	}
	status, resp := c.request("sign_in", map[string]any{"token": creatorTok, "creator_assignment_token": "creator-secret"})
	if status != "ok" {
		t.Fatalf("sign_in: %v", resp)
	}
	claims, err := auth.VerifyPerms(testKeys(t).PermsPublicKey(), resp["perms_token"].(string), e.clock())
	if err != nil || !claims.Perms["kick_users"] || !claims.Perms["update_roles"] || claims.AccountID == "" {
		t.Fatalf("perms token after sign-in: %+v %v", claims, err)
	}
	if got, _ := e.store.GetHub(t.Context(), h.SID); got.CreatedBy != creator.ID || got.CreatorAssignmentToken != "" {
		t.Fatalf("room not claimed: %+v", got)
	}
	if meta := lastMeta(t, o, "c"); meta["roles"].(map[string]any)["creator"] != true || meta["roles"].(map[string]any)["owner"] != true {
		t.Fatalf("presence roles %v", meta["roles"])
	}
	// The token works once: another account presenting it gets no powers.
	if status, _ := o.request("sign_in", map[string]any{"token": otherTok, "creator_assignment_token": "creator-secret"}); status != "ok" {
		t.Fatal("second sign_in refused")
	}
	if status, resp := o.request("kick", map[string]any{"session_id": "c"}); status != "error" || resp["reason"] != "forbidden" {
		t.Fatalf("the reused creator token gave powers: %s %v", status, resp)
	}
	// The creator makes the other signed-in person an owner, who can then moderate; and takes it back.
	if status, resp := c.request("add_owner", map[string]any{"session_id": "o"}); status != "ok" {
		t.Fatalf("add_owner: %v", resp)
	}
	if n := len(o.take("permissions_updated")); n != 1 {
		t.Fatalf("%d permissions_updated", n)
	}
	if status, resp := o.request("update_hub", map[string]any{"name": "Owned"}); status != "ok" {
		t.Fatalf("new owner update_hub: %v", resp)
	}
	if status, resp := o.request("add_owner", map[string]any{"session_id": "c"}); status != "error" || resp["reason"] != "forbidden" {
		t.Fatalf("an owner who is not the creator changed roles: %s %v", status, resp)
	}
	if status, resp := c.request("remove_owner", map[string]any{"session_id": "o"}); status != "ok" {
		t.Fatalf("remove_owner: %v", resp)
	}
	if status, _ := o.request("update_hub", map[string]any{"name": "Again"}); status != "error" {
		t.Fatal("removed owner still updates the hub")
	}
	// Signing out drops the powers.
	if status, _ := c.request("sign_out", map[string]any{}); status != "ok" {
		t.Fatal("sign_out refused")
	}
	if status, _ := c.request("close_hub", map[string]any{}); status != "error" {
		t.Fatal("signed-out creator still closes the hub")
	}
}

func TestSignInRefusals(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	e.account(t, "admin@example.org")
	anon, _ := e.account(t, "anon@example.org")
	dis, disTok := e.account(t, "disabled@example.org")
	disabled := store.AccountDisabled
	if _, err := e.store.UpdateAccount(t.Context(), dis.ID, store.AccountUpdate{State: &disabled}); err != nil {
		t.Fatal(err)
	}
	p := e.peer("p")
	p.mustJoin(h.SID, "Pat")
	for _, tc := range []struct{ token, reason string }{{"garbage", "invalid_token"}, {disTok, "account_disabled"}} {
		status, resp := p.request("sign_in", map[string]any{"token": tc.token})
		if status != "error" || resp["reason"] != tc.reason || !strings.HasPrefix(resp["message"].(string), "Sign in failed") {
			t.Errorf("%s: %s %v", tc.reason, status, resp)
		}
	}
	// A disabled account cannot even join with its token.
	payload := profile("Dee")
	payload["auth_token"] = disTok
	if status, resp := e.peer("d").join(h.SID, payload); status != "error" || resp["reason"] != "account_disabled" {
		t.Fatalf("disabled join: %s %v", status, resp)
	}
	// Sign out everywhere revokes older tokens.
	_, anonTok := e.account(t, "anon@example.org")
	e.advance(10)
	if err := auth.SignOutEverywhere(t.Context(), e.store, anon.ID, e.clock()); err != nil {
		t.Fatal(err)
	}
	if status, resp := p.request("sign_in", map[string]any{"token": anonTok}); status != "error" || resp["reason"] != "invalid_token" {
		t.Fatalf("revoked token: %s %v", status, resp)
	}
}

func TestInviteOnlyRooms(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(func(h *store.Hub) { h.EntryMode = store.EntryInvite })
	e.account(t, "admin@example.org")
	owner, ownerTok := e.account(t, "owner@example.org")
	if _, err := e.store.UpdateHub(t.Context(), h.SID, store.HubUpdate{CreatedBy: &owner.ID}); err != nil {
		t.Fatal(err)
	}
	payload := profile("Olive")
	payload["auth_token"] = ownerTok
	o := e.peer("o")
	if status, resp := o.join(h.SID, payload); status != "ok" {
		t.Fatalf("the creator joins an invite-only room: %v", resp)
	}
	if status, resp := e.peer("g").join(h.SID, profile("Gus")); status != "error" || resp["reason"] != "join_denied" {
		t.Fatalf("join without invite: %s %v", status, resp)
	}
	status, resp := o.request("fetch_invite", map[string]any{})
	if status != "ok" {
		t.Fatalf("fetch_invite: %v", resp)
	}
	invite := resp["hub_invite_id"].(string)
	withInvite := func(id string) map[string]any {
		p := profile("Gus")
		p["hub_invite_id"] = id
		return p
	}
	if status, resp := e.peer("g1").join(h.SID, withInvite(invite)); status != "ok" {
		t.Fatalf("join with invite: %v", resp)
	}
	if status, _ := e.peer("g2").join(h.SID, withInvite("wrong12")); status != "error" {
		t.Fatal("join with a wrong invite")
	}
	// A guest cannot fetch or revoke invites; revoking makes the old invite stop working.
	guest := e.peer("g4")
	guest.join(h.SID, withInvite(invite))
	if status, resp := guest.request("fetch_invite", map[string]any{}); status != "error" || resp["reason"] != "forbidden" {
		t.Fatalf("guest fetch_invite: %s %v", status, resp)
	}
	status, resp = o.request("revoke_invite", map[string]any{"hub_invite_id": invite})
	if status != "ok" || resp["hub_invite_id"] == invite {
		t.Fatalf("revoke_invite: %s %v", status, resp)
	}
	if status, _ := e.peer("g5").join(h.SID, withInvite(invite)); status != "error" {
		t.Fatal("a revoked invite still works")
	}
	if status, resp := e.peer("g6").join(h.SID, withInvite(resp["hub_invite_id"].(string))); status != "ok" {
		t.Fatalf("the new invite: %v", resp)
	}
}

func TestAccountDisabledMidSessionLosesItsPowers(t *testing.T) {
	e := newEnv(t, nil)
	e.account(t, "admin@example.org")
	owner, ownerTok := e.account(t, "owner@example.org")
	h := e.createHub(func(h *store.Hub) { h.CreatedBy = owner.ID })
	payload := profile("Olive")
	payload["auth_token"] = ownerTok
	o := e.peer("o")
	if status, resp := o.join(h.SID, payload); status != "ok" {
		t.Fatalf("join: %v", resp)
	}
	if status, _ := o.request("update_hub", map[string]any{"name": "Mine"}); status != "ok" {
		t.Fatal("owner refused while enabled")
	}
	disabled := store.AccountDisabled
	if _, err := e.store.UpdateAccount(t.Context(), owner.ID, store.AccountUpdate{State: &disabled}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"update_hub", "close_hub", "refresh_perms_token"} {
		if status, resp := o.request(ev, map[string]any{"name": "Still mine"}); status != "error" || resp["reason"] != "account_disabled" {
			t.Errorf("%s after disabling: %s %v", ev, status, resp)
		}
	}
	if got, _ := e.store.GetHub(t.Context(), h.SID); got.Name != "Mine" || got.EntryMode != store.EntryAllow {
		t.Fatalf("a disabled account changed the hub: %+v", got)
	}
}
