package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"toncon/internal/store"
)

// The account token, Reticulum's Guardian JWT: audience "ret" and a 12-week lifetime, so Hubs clients that keep it
// in localStorage stay signed in as long as they would with Reticulum.
const (
	AccountAudience = "ret"
	AccountTTL      = 12 * 7 * 24 * time.Hour
)

var (
	// ErrAccountDisabled means the token is fine but its account was disabled by an admin: it can do nothing.
	// It does not match ErrTokenInvalid, so a client can say "your account is disabled" rather than "sign in again".
	ErrAccountDisabled = errors.New("account disabled")
	// ErrTokenRevoked means the token was issued before its account signed out everywhere (or was disabled).
	ErrTokenRevoked = fmt.Errorf("%w: revoked by signing out everywhere", ErrTokenInvalid)
	// ErrAccountGone means the token names an account that does not exist (any more).
	ErrAccountGone = fmt.Errorf("%w: no such account", ErrTokenInvalid)
)

// MintAccountToken signs an account token (HS512 with the account key) for account id, issued at now and valid
// for AccountTTL: aud "ret", sub the id in decimal, typ "access", and iat with millisecond precision (a fractional
// NumericDate, which RFC 7519 allows) because revocation compares it with the account's MinTokenIssuedAt, which the
// store keeps to the millisecond. A token minted in the same second as a "sign out everywhere", but after it, must
// keep working.
func (k *Keys) MintAccountToken(id store.AccountID, now time.Time) (string, error) {
	if id <= 0 {
		return "", fmt.Errorf("mint account token: account id must be positive, got %d", id)
	}
	claims := jwt.MapClaims{}
	addStandardClaims(claims, AccountAudience, strconv.FormatInt(int64(id), 10), now, AccountTTL)
	claims["iat"] = float64(now.UnixMilli()) / 1000
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(k.account)
	if err != nil {
		return "", fmt.Errorf("mint account token: %w", err)
	}
	return tok, nil
}

// VerifyAccountToken checks an account token at time now and returns its account id and when it was issued (to
// the millisecond). Only HS512 with this server's account key and audience "ret" is accepted, with TokenLeeway of
// clock drift; the errors are those of VerifyPerms. It does not look at the account: use Authenticate for that.
func (k *Keys) VerifyAccountToken(token string, now time.Time) (id store.AccountID, issuedAt time.Time, err error) {
	claims, err := verify(token, jwt.SigningMethodHS512, k.account, AccountAudience, now)
	if err != nil {
		return 0, time.Time{}, err
	}
	sub, err := optionalString(claims, "sub")
	if err != nil {
		return 0, time.Time{}, err
	}
	n, perr := strconv.ParseInt(sub, 10, 64)
	if perr != nil || n <= 0 {
		return 0, time.Time{}, fmt.Errorf("%w: sub %q is not an account id", ErrTokenMalformed, sub)
	}
	iat, ok := claims["iat"].(float64)
	if !ok || math.IsNaN(iat) || math.IsInf(iat, 0) {
		return 0, time.Time{}, fmt.Errorf("%w: no issued-at time", ErrTokenMalformed)
	}
	return store.AccountID(n), time.UnixMilli(int64(math.Round(iat * 1000))).UTC(), nil
}

// BearerToken finds "Authorization: Bearer <account token>" (any case of "bearer", as Hubs sends it). ok says
// whether the request sent a bearer token at all; the token may still be empty.
func BearerToken(r *http.Request) (token string, ok bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// Authenticate verifies an account token at now and loads its account. Errors: those of VerifyAccountToken;
// ErrAccountGone when the account does not exist; ErrAccountDisabled for a disabled account; ErrTokenRevoked for a
// token issued before the account's MinTokenIssuedAt. All but ErrAccountDisabled match ErrTokenInvalid. A store
// failure is returned as such (not as an invalid token), so callers can tell "try again" from "sign in again".
func Authenticate(ctx context.Context, keys *Keys, accounts store.Accounts, token string, now time.Time) (store.Account, error) {
	id, issuedAt, err := keys.VerifyAccountToken(token, now)
	if err != nil {
		return store.Account{}, err
	}
	a, err := accounts.GetAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, fmt.Errorf("%w (account %d)", ErrAccountGone, id)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("authenticate: %w", err)
	}
	if a.State != store.AccountEnabled {
		return store.Account{}, fmt.Errorf("%w: account %d (%s)", ErrAccountDisabled, a.ID, a.Email)
	}
	if issuedAt.Before(a.MinTokenIssuedAt) {
		return store.Account{}, fmt.Errorf("%w: issued %s, account %d signed out everywhere at %s", ErrTokenRevoked,
			issuedAt.Format(time.RFC3339Nano), a.ID, a.MinTokenIssuedAt.Format(time.RFC3339Nano))
	}
	return a, nil
}

// SignOutEverywhere revokes every account token of id issued at or before now; tokens minted later work.
func SignOutEverywhere(ctx context.Context, accounts store.Accounts, id store.AccountID, now time.Time) error {
	// Tokens carry milliseconds; one minted in this very millisecond counts as "so far", hence the +1 ms.
	after := store.Millis(now).Add(time.Millisecond)
	if _, err := accounts.UpdateAccount(ctx, id, store.AccountUpdate{MinTokenIssuedAt: &after}); err != nil {
		return fmt.Errorf("sign account %d out everywhere: %w", id, err)
	}
	return nil
}
