package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gobwas/ws"

	"toncon/internal/auth"
	"toncon/internal/phx"
	"toncon/internal/store"
)

// Accounts in rooms: signing in and out on the hub channel, the creator assignment token, owners, and invites.

// authenticate checks an account token and works out the session's roles in the hub.
func (s *Service) authenticate(ctx context.Context, h store.Hub, token string) (store.Account, Roles, error) {
	a, err := auth.Authenticate(ctx, s.cfg.Keys, s.cfg.Store, token, s.cfg.Now())
	if err != nil {
		return a, Roles{}, err
	}
	roles, err := s.rolesFor(ctx, h, a)
	return a, roles, err
}

func (s *Service) rolesFor(ctx context.Context, h store.Hub, a store.Account) (Roles, error) {
	owners, err := s.cfg.Store.HubOwners(ctx, h.SID)
	if err != nil {
		return Roles{}, fmt.Errorf("load owners of %s: %w", h.SID, err)
	}
	creator := h.CreatedBy != 0 && h.CreatedBy == a.ID
	return Roles{SignedIn: true, Creator: creator, Owner: creator || slices.Contains(owners, a.ID), Admin: a.IsAdmin}, nil
}

// signInRefusal turns an authentication error into what the client is told.
func signInRefusal(err error) (reason, message string) {
	switch {
	case errors.Is(err, auth.ErrAccountDisabled):
		return "account_disabled", "this account is disabled; ask the site's admin"
	case errors.Is(err, auth.ErrTokenInvalid):
		return "invalid_token", "your sign-in has expired or is not valid here; sign in again"
	}
	return "internal_error", "the server could not check your sign-in; try again"
}

func (c *channel) handleSignIn(m *phx.Message) {
	var p struct {
		Token                  string `json:"token"`
		CreatorAssignmentToken string `json:"creator_assignment_token"`
	}
	if json.Unmarshal(m.Payload, &p) != nil || p.Token == "" {
		badRequest(c.ch, m, `sign_in takes {"token": "...", "creator_assignment_token": "..."}`)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := c.room.hubRecord()
	a, err := auth.Authenticate(ctx, c.svc.cfg.Keys, c.svc.cfg.Store, p.Token, c.svc.cfg.Now())
	if err != nil {
		reason, message := signInRefusal(err)
		c.ch.Reply(m, false, map[string]string{"reason": reason, "message": "Sign in failed: " + message})
		return
	}
	// The creator assignment token from room creation makes the signed-in account the room's creator, once.
	if p.CreatorAssignmentToken != "" && h.CreatorAssignmentToken != "" && p.CreatorAssignmentToken == h.CreatorAssignmentToken {
		empty := ""
		if h, err = c.svc.cfg.Store.UpdateHub(ctx, c.sid, store.HubUpdate{CreatedBy: &a.ID, CreatorAssignmentToken: &empty}); err != nil {
			c.internalError(m, "claim room", err)
			return
		}
		c.svc.refreshHub(ctx, c.sid)
		c.svc.cfg.Log.Info("room claimed by its creator", "hub", c.sid, "account", a.ID)
	}
	roles, err := c.svc.rolesFor(ctx, h, a)
	if err != nil {
		c.internalError(m, "sign in", err)
		return
	}
	c.setPresence(func() { c.account, c.roles = a.ID, roles })
	tok, err := c.permsToken(c.room.hubRecord())
	if err != nil {
		c.internalError(m, "sign in", err)
		return
	}
	c.ch.Reply(m, true, map[string]string{"perms_token": tok})
}

func (c *channel) handleSignOut(m *phx.Message) {
	c.setPresence(func() { c.account, c.roles = 0, Roles{} })
	tok, err := c.permsToken(c.room.hubRecord())
	if err != nil {
		c.internalError(m, "sign out", err)
		return
	}
	c.ch.Reply(m, true, map[string]string{"perms_token": tok})
}

// handleOwner makes a signed-in member an owner of the room, or stops them being one. Only the creator (or an
// admin) may; the creator cannot be removed.
func (c *channel) handleOwner(m *phx.Message, add bool) {
	if !c.privileged(m, "update_roles") {
		return
	}
	target, ok := c.targetSession(m)
	if !ok {
		return
	}
	members := c.room.membersOf(target)
	var account store.AccountID
	for _, t := range members {
		t.pmu.Lock()
		if t.account != 0 {
			account = t.account
		}
		t.pmu.Unlock()
	}
	if account == 0 {
		c.ch.Reply(m, false, map[string]string{"reason": "not_signed_in", "message": "only people who are signed in can be owners"})
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := c.room.hubRecord()
	var err error
	if add {
		err = c.svc.cfg.Store.AddHubOwner(ctx, c.sid, account)
	} else if h.CreatedBy == account {
		c.ch.Reply(m, false, map[string]string{"reason": "invalid", "message": "the room's creator is always an owner"})
		return
	} else {
		err = c.svc.cfg.Store.RemoveHubOwner(ctx, c.sid, account)
	}
	if err != nil {
		c.internalError(m, "change owners", err)
		return
	}
	for _, t := range members {
		t.pmu.Lock()
		a := store.Account{ID: t.account}
		t.pmu.Unlock()
		roles, err := c.svc.rolesFor(ctx, h, a)
		if err != nil {
			c.internalError(m, "change owners", err)
			return
		}
		t.pmu.Lock()
		roles.Admin = t.roles.Admin
		t.pmu.Unlock()
		t.setPresence(func() { t.roles = roles })
		t.ch.PushRaw("permissions_updated", []byte(`{}`), false)
	}
	c.ch.Reply(m, true, nil)
}

func (c *channel) handleFetchInvite(m *phx.Message) {
	if !c.privileged(m, "update_hub") {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := c.svc.cfg.Store.HubInvite(ctx, c.sid)
	if err != nil {
		c.internalError(m, "fetch invite", err)
		return
	}
	c.ch.Reply(m, true, map[string]string{"hub_invite_id": id})
}

func (c *channel) handleRevokeInvite(m *phx.Message) {
	if !c.privileged(m, "update_hub") {
		return
	}
	var p struct {
		HubInviteID string `json:"hub_invite_id"`
	}
	if json.Unmarshal(m.Payload, &p) != nil || p.HubInviteID == "" {
		badRequest(c.ch, m, `revoke_invite takes {"hub_invite_id": "..."}`)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := c.svc.cfg.Store.RevokeHubInvite(ctx, c.sid, p.HubInviteID)
	if errors.Is(err, store.ErrNotFound) {
		c.ch.Reply(m, false, map[string]string{"reason": "not_found", "message": "that is not this room's current invite"})
		return
	}
	if err != nil {
		c.internalError(m, "revoke invite", err)
		return
	}
	c.ch.Reply(m, true, map[string]string{"hub_invite_id": id})
}

// privileged checks that the sender may use perm. For a signed-in session it also reloads the account: an admin
// may have disabled it from another process since it signed in, and a disabled account can do nothing, so its
// socket is closed.
func (c *channel) privileged(m *phx.Message, perm string) bool {
	if c.account != 0 && !c.accountStillEnabled() {
		c.ch.Reply(m, false, map[string]string{"reason": "account_disabled", "message": "this account is disabled; ask the site's admin"})
		return false
	}
	if !c.can(perm) {
		forbidden(c.ch, m, perm)
		return false
	}
	return true
}

// accountStillEnabled reloads the session's account; when it was disabled, the session's sockets are closed.
func (c *channel) accountStillEnabled() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := c.svc.cfg.Store.GetAccount(ctx, c.account)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.svc.cfg.Log.Warn("reload account", "account", c.account, "err", err)
		return true // a database hiccup is not a reason to throw someone out
	}
	if err == nil && a.State == store.AccountEnabled {
		return true
	}
	c.svc.cfg.Log.Info("closing the sessions of a disabled account", "account", c.account, "session", c.sessionID)
	c.ch.Server().CloseSession(c.sessionID, ws.StatusPolicyViolation, ReasonAccountDisabled)
	return false
}

// ReasonAccountDisabled is the close reason of a session whose account an admin disabled.
const ReasonAccountDisabled = "account disabled: ask the site's admin"
