package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token audiences, lifetimes and the allowed clock drift, as in Reticulum (Ret.PermsToken, Ret.SessionToken).
const (
	PermsAudience   = "ret_perms"
	SessionAudience = "ret_session"
	PermsTTL        = 5 * time.Minute
	SessionTTL      = 24 * time.Hour
	TokenLeeway     = 60 * time.Second
	tokenIssuer     = "toncon"
)

// Errors returned by VerifyPerms and VerifySession. Every one of them matches ErrTokenInvalid with errors.Is; the
// others say why, so that a server can tell the client (and its log) what to fix.
var (
	ErrTokenInvalid       = errors.New("invalid token")
	ErrTokenMalformed     = fmt.Errorf("%w: malformed", ErrTokenInvalid)
	ErrTokenBadSignature  = fmt.Errorf("%w: bad signature or algorithm", ErrTokenInvalid)
	ErrTokenWrongAudience = fmt.Errorf("%w: wrong audience", ErrTokenInvalid)
	ErrTokenExpired       = fmt.Errorf("%w: expired", ErrTokenInvalid)
	ErrTokenNotYetValid   = fmt.Errorf("%w: not valid yet", ErrTokenInvalid)
)

// PermsClaims is what a perms token says: who may do what in which hub.
type PermsClaims struct {
	HubID     string // the hub_sid; "" for global perms
	AccountID string // "" when anonymous
	// SessionID is the hub session the token was issued to, so a media node can tell who is joining; "" for
	// global perms.
	SessionID string
	// Perms maps permission names (join_hub, update_hub, kick_users, voice_chat, ...) to whether they are granted.
	// In the token each is a top-level boolean claim, as Hubs clients expect.
	Perms map[string]bool
}

// reservedClaims are the perms token claims that are not permissions.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true, "typ": true,
	"hub_id": true, "account_id": true, "session_id": true,
}

// MintPerms signs a perms token (RS512) for c, issued at now and valid for PermsTTL. The claims match
// Reticulum's: aud "ret_perms", typ "access", nbf one second before iat, a random jti, sub
// "<account_id>_<hub_id>" ("<account_id>_global" without a hub, "anon" without an account), hub_id, account_id
// and each permission as a top-level boolean.
func (k *Keys) MintPerms(c PermsClaims, now time.Time) (string, error) {
	claims := jwt.MapClaims{}
	for name, granted := range c.Perms {
		if name == "" || reservedClaims[name] {
			return "", fmt.Errorf("mint perms token: %q cannot be a permission name", name)
		}
		claims[name] = granted
	}
	sub := "anon"
	if c.AccountID != "" {
		hub := c.HubID
		if hub == "" {
			hub = "global"
		}
		sub = c.AccountID + "_" + hub
	}
	addStandardClaims(claims, PermsAudience, sub, now, PermsTTL)
	claims["hub_id"] = c.HubID
	claims["account_id"] = c.AccountID
	if c.SessionID != "" {
		claims["session_id"] = c.SessionID
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS512, claims).SignedString(k.perms)
	if err != nil {
		return "", fmt.Errorf("mint perms token: %w", err)
	}
	return tok, nil
}

// VerifyPerms checks a perms token against the perms public key at time now and returns its claims. Only RS512 is
// accepted, the audience must be "ret_perms", and exp and nbf are checked with TokenLeeway of drift either way.
// Errors match ErrTokenInvalid and one of ErrTokenMalformed, ErrTokenBadSignature, ErrTokenWrongAudience,
// ErrTokenExpired or ErrTokenNotYetValid. It does not check any permission: the caller decides which it needs
// (the SFU needs join_hub and a matching HubID).
func VerifyPerms(pub *rsa.PublicKey, token string, now time.Time) (PermsClaims, error) {
	if pub == nil {
		return PermsClaims{}, errors.New("verify perms token: no public key")
	}
	claims, err := verify(token, jwt.SigningMethodRS512, pub, PermsAudience, now)
	if err != nil {
		return PermsClaims{}, err
	}
	var c PermsClaims
	if c.HubID, err = optionalString(claims, "hub_id"); err != nil {
		return PermsClaims{}, err
	}
	if c.AccountID, err = optionalString(claims, "account_id"); err != nil {
		return PermsClaims{}, err
	}
	if c.SessionID, err = optionalString(claims, "session_id"); err != nil {
		return PermsClaims{}, err
	}
	c.Perms = map[string]bool{}
	for name, v := range claims {
		if granted, ok := v.(bool); ok && !reservedClaims[name] {
			c.Perms[name] = granted
		}
	}
	return c, nil
}

// MintSession signs a session token (HS512, aud "ret_session") carrying sessionID, issued at now and valid for
// SessionTTL. A socket that presents it on reconnect keeps its session id.
func (k *Keys) MintSession(sessionID string, now time.Time) (string, error) {
	if sessionID == "" {
		return "", errors.New("mint session token: empty session id")
	}
	claims := jwt.MapClaims{"session_id": sessionID}
	addStandardClaims(claims, SessionAudience, sessionID, now, SessionTTL)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(k.session)
	if err != nil {
		return "", fmt.Errorf("mint session token: %w", err)
	}
	return tok, nil
}

// VerifySession checks a session token at time now and returns its session id. Only HS512 with this server's
// session key is accepted; the errors are those of VerifyPerms.
func (k *Keys) VerifySession(token string, now time.Time) (sessionID string, err error) {
	claims, err := verify(token, jwt.SigningMethodHS512, k.session, SessionAudience, now)
	if err != nil {
		return "", err
	}
	sessionID, err = optionalString(claims, "session_id")
	if err != nil {
		return "", err
	}
	if sessionID == "" {
		return "", fmt.Errorf("%w: no session_id", ErrTokenMalformed)
	}
	return sessionID, nil
}

// addStandardClaims sets the registered claims the way Guardian does: nbf one second before iat, so that a token
// used at once on a node whose clock is a little behind still passes.
func addStandardClaims(claims jwt.MapClaims, aud, sub string, now time.Time, ttl time.Duration) {
	iat := now.Unix()
	claims["iss"] = tokenIssuer
	claims["typ"] = "access"
	claims["aud"] = aud
	claims["sub"] = sub
	claims["iat"] = iat
	claims["nbf"] = iat - 1
	claims["exp"] = iat + int64(ttl/time.Second)
	claims["jti"] = rand.Text()
}

// verify parses token, accepting only method signed with key and canonical base64, and checks audience, exp
// (required) and nbf at now.
func verify(token string, method jwt.SigningMethod, key any, aud string, now time.Time) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{method.Alg()}),
		jwt.WithAudience(aud),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(TokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		// One token, one spelling: otherwise the unused low bits of the last base64 character could be changed
		// without breaking the signature.
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return nil, classify(err)
	}
	return claims, nil
}

// classify maps a jwt error to one of ours. A token can fail several claim checks at once; the wrong audience
// wins because it means the token was never meant for this use, then expired before not-yet-valid.
func classify(err error) error {
	var kind error
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		kind = ErrTokenMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		kind = ErrTokenBadSignature
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		kind = ErrTokenWrongAudience
	case errors.Is(err, jwt.ErrTokenExpired):
		kind = ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		kind = ErrTokenNotYetValid
	default:
		// A missing exp or aud, or a claim of the wrong type.
		kind = ErrTokenMalformed
	}
	return fmt.Errorf("%w (%v)", kind, err)
}

// optionalString returns claim name as a string, "" when absent.
func optionalString(claims jwt.MapClaims, name string) (string, error) {
	v, ok := claims[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s is %T, want a string", ErrTokenMalformed, name, v)
	}
	return s, nil
}
