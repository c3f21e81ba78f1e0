package auth

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

func testDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAccountTokenRoundTrip(t *testing.T) {
	k := testKeys(t, 0)
	now := time.Date(2030, 3, 4, 5, 6, 7, 891_234_567, time.UTC)
	tok, err := k.MintAccountToken(42, now)
	if err != nil {
		t.Fatal(err)
	}
	id, iat, err := k.VerifyAccountToken(tok, now.Add(AccountTTL-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if id != 42 {
		t.Errorf("id = %d, want 42", id)
	}
	if want := time.Date(2030, 3, 4, 5, 6, 7, 891_000_000, time.UTC); !iat.Equal(want) {
		t.Errorf("issued at %v, want %v (to the millisecond)", iat, want)
	}
	// Reticulum's claims, so a Hubs client reads it as it reads a Guardian token.
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		t.Fatal(err)
	}
	if claims["aud"] != "ret" || claims["sub"] != "42" || claims["typ"] != "access" {
		t.Errorf("claims %v: want aud ret, sub 42, typ access", claims)
	}
	if exp, _ := claims["exp"].(float64); int64(exp) != now.Add(AccountTTL).Unix() {
		t.Errorf("exp %v, want 12 weeks after issue", claims["exp"])
	}
	if _, err := k.MintAccountToken(0, now); err == nil {
		t.Error("minted a token for account 0")
	}
}

func TestAccountTokenRefused(t *testing.T) {
	k := testKeys(t, 0)
	other := testKeys(t, 1)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	good, err := k.MintAccountToken(7, now)
	if err != nil {
		t.Fatal(err)
	}
	fromOther, _ := other.MintAccountToken(7, now)
	session, _ := k.MintSession("7", now)
	// Right key, wrong audience: a token for another use must not pass as an account token.
	wrongAud := signHS512(t, k.account, jwt.MapClaims{"aud": "ret_perms", "sub": "7", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	noIat := signHS512(t, k.account, jwt.MapClaims{"aud": "ret", "sub": "7", "exp": now.Add(time.Hour).Unix()})
	badSub := signHS512(t, k.account, jwt.MapClaims{"aud": "ret", "sub": "7_global", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	tests := []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"expired", good, now.Add(AccountTTL + TokenLeeway + time.Second), ErrTokenExpired},
		{"not yet valid", good, now.Add(-TokenLeeway - 2*time.Second), ErrTokenNotYetValid},
		{"another server's key", fromOther, now, ErrTokenBadSignature},
		{"session token", session, now, ErrTokenBadSignature},
		{"wrong audience", wrongAud, now, ErrTokenWrongAudience},
		{"no issued-at", noIat, now, ErrTokenMalformed},
		{"sub not an account id", badSub, now, ErrTokenMalformed},
		{"garbage", "not.a.token", now, ErrTokenMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := k.VerifyAccountToken(tc.token, tc.at)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// And an account token is no session token.
	if _, err := k.VerifySession(good, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("account token accepted as a session token: %v", err)
	}
}

func signHS512(t *testing.T, key []byte, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	k := testKeys(t, 0)
	db := testDB(t)
	a, _, _, err := db.FindOrCreateAccount(ctx, "Ada@Example.org")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 12, 0, 0, 500_000_000, time.UTC)
	tok, _ := k.MintAccountToken(a.ID, now)

	got, err := Authenticate(ctx, k, db, tok, now.Add(time.Minute))
	if err != nil || got.ID != a.ID || got.Email != "ada@example.org" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}

	missing, _ := k.MintAccountToken(a.ID+100, now)
	if _, err := Authenticate(ctx, k, db, missing, now); !errors.Is(err, ErrAccountGone) || !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("token of a missing account: %v, want ErrAccountGone", err)
	}
	if _, err := Authenticate(ctx, k, db, tok, now.Add(AccountTTL+time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("expired: %v", err)
	}

	disabled := store.AccountDisabled
	if _, err := db.UpdateAccount(ctx, a.ID, store.AccountUpdate{State: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err = Authenticate(ctx, k, db, tok, now)
	if !errors.Is(err, ErrAccountDisabled) || errors.Is(err, ErrTokenInvalid) {
		t.Errorf("disabled account: %v, want ErrAccountDisabled (not an invalid token)", err)
	}
	enabled := store.AccountEnabled
	if _, err := db.UpdateAccount(ctx, a.ID, store.AccountUpdate{State: &enabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := Authenticate(ctx, k, db, tok, now); err != nil {
		t.Errorf("enabled again: %v", err)
	}
}

func TestSignOutEverywhere(t *testing.T) {
	ctx := context.Background()
	k := testKeys(t, 0)
	db := testDB(t)
	a, _, _, err := db.FindOrCreateAccount(ctx, "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	// All within one second, so a token that kept only whole seconds could not tell them apart.
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 100_000_000, time.UTC)
	before, _ := k.MintAccountToken(a.ID, t0)
	signOut := t0.Add(300 * time.Millisecond)
	sameMillisecond, _ := k.MintAccountToken(a.ID, signOut.Add(400*time.Microsecond))
	after, _ := k.MintAccountToken(a.ID, signOut.Add(time.Millisecond))
	if err := SignOutEverywhere(ctx, db, a.ID, signOut); err != nil {
		t.Fatal(err)
	}
	check := time.Date(2030, 1, 1, 12, 0, 1, 0, time.UTC)
	for name, tok := range map[string]string{"issued before": before, "issued in the same millisecond": sameMillisecond} {
		if _, err := Authenticate(ctx, k, db, tok, check); !errors.Is(err, ErrTokenRevoked) || !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s signing out: %v, want ErrTokenRevoked", name, err)
		}
	}
	if _, err := Authenticate(ctx, k, db, after, check); err != nil {
		t.Errorf("token issued after signing out: %v", err)
	}
	// A second sign-out with a stale clock does not bring the revoked tokens back.
	if err := SignOutEverywhere(ctx, db, a.ID, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := Authenticate(ctx, k, db, before, check); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("after a stale sign-out: %v, want still revoked", err)
	}
	if err := SignOutEverywhere(ctx, db, a.ID+100, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
}

// A data folder from before accounts existed gains account.key on the next start; the other keys stay.
func TestLoadOrCreateKeysAddsAccountKeyToOldFolder(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreateKeys(dir); err != nil {
		t.Fatal(err)
	}
	session, _ := os.ReadFile(filepath.Join(dir, SessionKeyFile))
	if err := os.Remove(filepath.Join(dir, AccountKeyFile)); err != nil {
		t.Fatal(err)
	}
	k, created, err := LoadOrCreateKeys(dir)
	if err != nil || !created {
		t.Fatalf("created=%v err=%v, want account.key written", created, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, SessionKeyFile)); !bytes.Equal(b, session) {
		t.Error("session.key changed")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, AccountKeyFile)); len(b) != sessionKeySize || bytes.Equal(b, session) {
		t.Errorf("account.key is %d bytes, equal to the session key: %v", len(b), bytes.Equal(b, session))
	}
	if !bytes.Equal(k.account, mustRead(t, filepath.Join(dir, AccountKeyFile))) {
		t.Error("the loaded account key is not the file's")
	}
	if _, created, err := LoadOrCreateKeys(dir); err != nil || created {
		t.Errorf("third load: created=%v err=%v, want nothing new", created, err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Account tokens come from browsers (sign_in, auth_token in joins): anything but a token this server minted must
// be refused with an error that matches ErrTokenInvalid.
func FuzzVerifyAccountToken(f *testing.F) {
	k := testKeys(f, 0)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	good, err := k.MintAccountToken(42, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good[:len(good)-2])
	f.Fuzz(func(t *testing.T, token string) {
		id, _, err := k.VerifyAccountToken(token, now)
		if err != nil && !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("error %v does not match ErrTokenInvalid", err)
		}
		// Only tokens signed with this key pass; the fuzzer cannot forge one, so an accepted token is a minted one
		// (possibly minted by the coordinating process, whose jti differs from this one's).
		if err == nil && id != 42 {
			t.Errorf("accepted a token that was not minted: %q (id %d)", token, id)
		}
		if err == nil && strings.Count(token, ".") != 2 {
			t.Errorf("accepted a token of an odd shape: %q", token)
		}
	})
}
