package store

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// AccountID is the internal id of an account. It appears in account tokens (as the subject) and in perms tokens,
// and 0 means "no account" wherever a field may name one.
type AccountID int64

// AccountState says whether an account may be used. A disabled account can do nothing: its tokens are refused and
// it cannot sign in again until an admin enables it.
type AccountState string

// The account states, as Reticulum names them.
const (
	AccountEnabled  AccountState = "enabled"
	AccountDisabled AccountState = "disabled"
)

// Valid reports whether s is one of the known states.
func (s AccountState) Valid() bool { return s == AccountEnabled || s == AccountDisabled }

// MaxEmailLen is the longest address an account may have: the limit of a path in SMTP (RFC 5321 §4.5.3.1.3).
const MaxEmailLen = 254

// Account is someone who signed in with an email address. Timestamps are kept to the millisecond, in UTC.
type Account struct {
	ID      AccountID
	Email   string // normalised (NormalizeEmail); unique
	IsAdmin bool
	State   AccountState
	// MinTokenIssuedAt revokes account tokens: one issued before it is refused ("sign out everywhere").
	// The zero time means no token was ever revoked.
	MinTokenIssuedAt time.Time
	CreatedAt        time.Time
}

// AccountUpdate changes some fields of an account; nil fields are left alone.
type AccountUpdate struct {
	IsAdmin *bool
	State   *AccountState
	// MinTokenIssuedAt never moves backwards: the later of the stored time and this one is kept, so two racing
	// "sign out everywhere" calls cannot undo each other and a stale clock cannot bring revoked tokens back.
	MinTokenIssuedAt *time.Time
}

// NormalizeEmail returns the form of an email address that accounts are keyed by: trimmed and lowercased, so
// "Ada@Example.org " and "ada@example.org" are one account (as Reticulum lowercases before hashing). It accepts a
// bare address only (no display name, no quoted local part, no comments), at most MaxEmailLen bytes; anything else
// is an error wrapping ErrInvalid that says what is expected.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", invalid("give an email address")
	}
	if len(e) > MaxEmailLen {
		return "", invalid("an email address is at most %d characters, got %d", MaxEmailLen, len(e))
	}
	// net/mail knows the RFC 5322 grammar; requiring its result to be the input itself rules out display names,
	// comments and angle brackets, and refusing quotes rules out local parts that need them (and hold an '@').
	a, err := mail.ParseAddress(e)
	local, domain, _ := strings.Cut(e, "@")
	if err != nil || a.Address != e || strings.ContainsAny(e, "\"[]\\") || local == "" || domain == "" ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", invalid("%q is not an email address such as name@example.org", strings.TrimSpace(s))
	}
	return e, nil
}

// Accounts stores accounts. All methods are safe for concurrent use and atomic on their own. Emails are normalised
// with NormalizeEmail before they are looked up or stored.
type Accounts interface {
	// FindOrCreateAccount returns the account for email, creating it (enabled, not admin) when missing. When it
	// creates one and no admin exists yet, the new account is made admin in the same transaction (madeAdmin), so of
	// many first sign-ins at once exactly one becomes admin. A disabled admin still counts as an admin: disabling
	// the admin must not hand admin rights to whoever signs up next. Errors: ErrInvalid for a bad address.
	FindOrCreateAccount(ctx context.Context, email string) (a Account, created, madeAdmin bool, err error)
	// GetAccount returns the account with this id, or ErrNotFound.
	GetAccount(ctx context.Context, id AccountID) (Account, error)
	// AccountByEmail returns the account for email, or ErrNotFound (ErrInvalid for a bad address).
	AccountByEmail(ctx context.Context, email string) (Account, error)
	// UpdateAccount applies u atomically and returns the account as stored. Errors: ErrNotFound, or ErrInvalid
	// (and nothing changes) for an unknown state.
	UpdateAccount(ctx context.Context, id AccountID, u AccountUpdate) (Account, error)
	// AdminCount returns how many accounts are admins, disabled ones included.
	AdminCount(ctx context.Context) (int, error)
}

// LoginTokens stores the one-time tokens of sign-in links. Only a hash of each token is stored, so a copy of the
// database does not let anyone sign in.
type LoginTokens interface {
	// SaveLoginToken stores tokenHash for email (normalised), valid until expires. Errors: ErrInvalid for an empty
	// hash or a bad address, ErrConflict when the hash is already stored.
	SaveLoginToken(ctx context.Context, tokenHash []byte, email string, expires time.Time) error
	// TakeLoginToken returns the email of a token valid at now and deletes it, so a link works once; unknown or
	// expired → ErrNotFound. It also deletes every token expired at now.
	TakeLoginToken(ctx context.Context, tokenHash []byte, now time.Time) (email string, err error)
}

// HubRoles stores who owns a room besides its creator (Reticulum's hub_role_memberships: membership means owner).
type HubRoles interface {
	// AddHubOwner makes account a an owner of the hub; adding an owner twice is not an error. Errors: ErrNotFound
	// when the hub or the account does not exist.
	AddHubOwner(ctx context.Context, sid HubSID, a AccountID) error
	// RemoveHubOwner takes the owner role away; removing a non-owner is not an error. ErrNotFound for no such hub.
	RemoveHubOwner(ctx context.Context, sid HubSID, a AccountID) error
	// HubOwners lists the hub's owners in ascending id order (the creator only if also added). ErrNotFound for no
	// such hub.
	HubOwners(ctx context.Context, sid HubSID) ([]AccountID, error)
}

// Invites stores the invite of each invite-only room. A room has at most one active invite at a time; revoking it
// makes a new one, and the old id stops working.
type Invites interface {
	// HubInvite returns the hub's active invite id, creating one (a 7-character id like a hub SID) when there is
	// none. ErrNotFound for no such hub.
	HubInvite(ctx context.Context, sid HubSID) (inviteID string, err error)
	// RevokeHubInvite revokes inviteID and returns the hub's new active invite. ErrNotFound when the hub does not
	// exist or inviteID is not its active invite (so two owners revoking at once make one new invite, not two).
	RevokeHubInvite(ctx context.Context, sid HubSID, inviteID string) (newID string, err error)
	// ValidHubInvite reports whether inviteID is the hub's active invite. ErrNotFound for no such hub.
	ValidHubInvite(ctx context.Context, sid HubSID, inviteID string) (bool, error)
}
