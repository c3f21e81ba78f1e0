package auth

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testNow = time.Unix(1_800_000_000, 0)

var allSentinels = []error{ErrTokenMalformed, ErrTokenBadSignature, ErrTokenWrongAudience, ErrTokenExpired, ErrTokenNotYetValid}

// checkTokenErr fails unless err is exactly the sentinel want (and ErrTokenInvalid); want nil means success.
func checkTokenErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) || !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("error %v, want %v", err, want)
	}
	for _, other := range allSentinels {
		if other != want && errors.Is(err, other) {
			t.Errorf("error %v also matches %v", err, other)
		}
	}
}

// rawClaims decodes a token's payload without verifying it, as the Hubs client does.
func rawClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// permsClaims returns valid perms claims at testNow, changed by edit.
func permsClaims(edit func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{
		"aud": PermsAudience, "iat": testNow.Unix(), "nbf": testNow.Unix() - 1, "exp": testNow.Add(PermsTTL).Unix(),
		"hub_id": "abc1234", "account_id": "42", "join_hub": true, "kick_users": false,
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func TestPermsRoundTrip(t *testing.T) {
	k := testKeys(t, 0)
	tests := []struct {
		name    string
		claims  PermsClaims
		wantSub string
	}{
		{"signed in", PermsClaims{HubID: "abc1234", AccountID: "42", Perms: map[string]bool{
			"join_hub": true, "update_hub": true, "kick_users": true, "mute_users": true, "voice_chat": true,
			"text_chat": true, "fly": false, "spawn_camera": false, "pin_objects": true, "close_hub": false,
		}}, "42_abc1234"},
		{"anonymous", PermsClaims{HubID: "abc1234", Perms: map[string]bool{"join_hub": true, "voice_chat": true, "kick_users": false}}, "anon"},
		{"global", PermsClaims{AccountID: "7", Perms: map[string]bool{"create_hub": true, "tweet": false}}, "7_global"},
		{"no perms", PermsClaims{HubID: "h"}, "anon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := k.MintPerms(tc.claims, testNow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := VerifyPerms(k.PermsPublicKey(), tok, testNow)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.claims
			if want.Perms == nil {
				want.Perms = map[string]bool{}
			}
			if got.HubID != want.HubID || got.AccountID != want.AccountID || !maps.Equal(got.Perms, want.Perms) {
				t.Errorf("VerifyPerms = %+v, want %+v", got, want)
			}

			raw := rawClaims(t, tok)
			iat := float64(testNow.Unix())
			for name, want := range map[string]any{
				"aud": PermsAudience, "iss": "toncon", "typ": "access", "sub": tc.wantSub,
				"iat": iat, "nbf": iat - 1, "exp": iat + 300,
				"hub_id": tc.claims.HubID, "account_id": tc.claims.AccountID,
			} {
				if raw[name] != want {
					t.Errorf("claim %s = %#v, want %#v", name, raw[name], want)
				}
			}
			if jti, _ := raw["jti"].(string); len(jti) < 16 {
				t.Errorf("jti = %#v, want a random string", raw["jti"])
			}
			for name, granted := range tc.claims.Perms {
				if raw[name] != granted {
					t.Errorf("perm %s = %#v, want top-level %v", name, raw[name], granted)
				}
			}
			if len(raw) != 10+len(tc.claims.Perms) {
				t.Errorf("token has %d claims, want %d: %v", len(raw), 10+len(tc.claims.Perms), raw)
			}
		})
	}
}

func TestPermsHeader(t *testing.T) {
	tok, err := testKeys(t, 0).MintPerms(PermsClaims{HubID: "h"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h["alg"] != "RS512" || h["typ"] != "JWT" {
		t.Errorf("header %v, want alg RS512, typ JWT", h)
	}
}

func TestMintPermsRandomJTI(t *testing.T) {
	k := testKeys(t, 0)
	a, err := k.MintPerms(PermsClaims{HubID: "h"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.MintPerms(PermsClaims{HubID: "h"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if rawClaims(t, a)["jti"] == rawClaims(t, b)["jti"] {
		t.Error("two tokens share a jti")
	}
}

func TestMintPermsRefusesReservedNames(t *testing.T) {
	k := testKeys(t, 0)
	for _, name := range []string{"", "exp", "aud", "sub", "hub_id", "account_id", "typ", "jti", "iss", "iat", "nbf"} {
		if _, err := k.MintPerms(PermsClaims{HubID: "h", Perms: map[string]bool{name: true}}, testNow); err == nil {
			t.Errorf("MintPerms accepted permission name %q", name)
		}
	}
}

func TestVerifyPerms(t *testing.T) {
	k := testKeys(t, 0)
	priv := testRSAKey(t, 0)
	good, err := k.MintPerms(PermsClaims{HubID: "abc1234", AccountID: "42", Perms: map[string]bool{"join_hub": true, "kick_users": false}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	otherPair, err := testKeys(t, 1).MintPerms(PermsClaims{HubID: "abc1234", Perms: map[string]bool{"join_hub": true}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(k.PermsPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	session, err := k.MintSession("s", testNow)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	escalated := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(
		string(must(base64.RawURLEncoding.DecodeString(parts[1]))), `"kick_users":false`, `"kick_users":true`, 1)))
	if escalated == parts[1] {
		t.Fatal("tampering did not change the payload")
	}
	sig := []byte(parts[2])
	if sig[10] == 'A' {
		sig[10] = 'B'
	} else {
		sig[10] = 'A'
	}
	// The last character of a 512-byte signature carries 2 bits; setting one of its 4 unused bits changes the
	// text but not the decoded bytes.
	loose := []byte(parts[2])
	loose[len(loose)-1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[strings.IndexByte(
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", loose[len(loose)-1])|1]

	tests := []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"fresh", good, testNow, nil},
		{"just before expiry plus leeway", good, testNow.Add(PermsTTL + TokenLeeway - time.Second), nil},
		{"expired", good, testNow.Add(PermsTTL + TokenLeeway), ErrTokenExpired},
		{"long expired", good, testNow.Add(24 * time.Hour), ErrTokenExpired},
		{"clock behind within leeway", good, testNow.Add(-time.Second - TokenLeeway), nil},
		{"not yet valid", good, testNow.Add(-2*time.Second - TokenLeeway), ErrTokenNotYetValid},
		{"another key pair", otherPair, testNow, ErrTokenBadSignature},
		{"tampered payload", parts[0] + "." + escalated + "." + parts[2], testNow, ErrTokenBadSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + string(sig), testNow, ErrTokenBadSignature},
		{"non-canonical base64", parts[0] + "." + parts[1] + "." + string(loose), testNow, ErrTokenMalformed},
		{"signature removed", parts[0] + "." + parts[1] + ".", testNow, ErrTokenBadSignature},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, permsClaims(nil)), testNow, ErrTokenBadSignature},
		{"HS512 keyed with the public key PEM", sign(t, jwt.SigningMethodHS512, k.PermsPublicKeyPEM(), permsClaims(nil)), testNow, ErrTokenBadSignature},
		{"HS512 keyed with the public key DER", sign(t, jwt.SigningMethodHS512, pubDER, permsClaims(nil)), testNow, ErrTokenBadSignature},
		{"HS256 keyed with the public key PEM", sign(t, jwt.SigningMethodHS256, k.PermsPublicKeyPEM(), permsClaims(nil)), testNow, ErrTokenBadSignature},
		{"RS256 with the right key", sign(t, jwt.SigningMethodRS256, priv, permsClaims(nil)), testNow, ErrTokenBadSignature},
		{"PS512 with the right key", sign(t, jwt.SigningMethodPS512, priv, permsClaims(nil)), testNow, ErrTokenBadSignature},
		{"session token", session, testNow, ErrTokenBadSignature},
		{"wrong audience", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { c["aud"] = "ret" })), testNow, ErrTokenWrongAudience},
		{"wrong audience and expired", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { c["aud"] = "ret" })), testNow.Add(time.Hour), ErrTokenWrongAudience},
		{"audience list", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { c["aud"] = []string{"x", PermsAudience} })), testNow, nil},
		{"no audience", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { delete(c, "aud") })), testNow, ErrTokenMalformed},
		{"no exp", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { delete(c, "exp") })), testNow, ErrTokenMalformed},
		{"exp not a number", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { c["exp"] = "soon" })), testNow, ErrTokenMalformed},
		{"hub_id not a string", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { c["hub_id"] = 5 })), testNow, ErrTokenMalformed},
		{"account_id not a string", sign(t, jwt.SigningMethodRS512, priv, permsClaims(func(c jwt.MapClaims) { c["account_id"] = 42 })), testNow, ErrTokenMalformed},
		{"garbage", "not a token", testNow, ErrTokenMalformed},
		{"empty", "", testNow, ErrTokenMalformed},
		{"three garbage parts", "a.b.c", testNow, ErrTokenMalformed},
		{"four parts", good + ".x", testNow, ErrTokenMalformed},
		{"payload not JSON", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("[1")) + "." + parts[2], testNow, ErrTokenMalformed},
		{"no alg", base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT"}`)) + "." + parts[1] + "." + parts[2], testNow, ErrTokenBadSignature},
		{"unknown alg", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"XX512"}`)) + "." + parts[1] + "." + parts[2], testNow, ErrTokenBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := VerifyPerms(k.PermsPublicKey(), tc.token, tc.at)
			checkTokenErr(t, err, tc.want)
			if err != nil && (c.HubID != "" || c.AccountID != "" || c.Perms != nil) {
				t.Errorf("claims %+v returned with an error", c)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestVerifyPermsIgnoresNonBooleanClaims(t *testing.T) {
	tok := sign(t, jwt.SigningMethodRS512, testRSAKey(t, 0), permsClaims(func(c jwt.MapClaims) {
		c["postgrest_role"] = "ret_admin"
		c["oauth_source"] = "discord"
		c["typ"] = "access"
	}))
	c, err := VerifyPerms(&testRSAKey(t, 0).PublicKey, tok, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"join_hub": true, "kick_users": false}
	if !maps.Equal(c.Perms, want) {
		t.Errorf("perms %v, want %v", c.Perms, want)
	}
}

func TestVerifyPermsNilKey(t *testing.T) {
	tok, err := testKeys(t, 0).MintPerms(PermsClaims{HubID: "h"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyPerms(nil, tok, testNow); err == nil {
		t.Error("VerifyPerms with a nil key succeeded")
	}
}

func TestSessionRoundTrip(t *testing.T) {
	k := testKeys(t, 0)
	tok, err := k.MintSession("0f8fad5b-d9cb-469f-a165-70867728950e", testNow)
	if err != nil {
		t.Fatal(err)
	}
	id, err := k.VerifySession(tok, testNow.Add(23*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if id != "0f8fad5b-d9cb-469f-a165-70867728950e" {
		t.Errorf("session id %q", id)
	}
	raw := rawClaims(t, tok)
	iat := float64(testNow.Unix())
	for name, want := range map[string]any{
		"aud": SessionAudience, "session_id": id, "iat": iat, "nbf": iat - 1, "exp": iat + 86400, "typ": "access",
	} {
		if raw[name] != want {
			t.Errorf("claim %s = %#v, want %#v", name, raw[name], want)
		}
	}
	if _, err := k.MintSession("", testNow); err == nil {
		t.Error("MintSession accepted an empty session id")
	}
}

func TestVerifySession(t *testing.T) {
	k := testKeys(t, 0)
	good, err := k.MintSession("s1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := testKeys(t, 1).MintSession("s1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	perms, err := k.MintPerms(PermsClaims{HubID: "h"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	sessionClaims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"aud": SessionAudience, "session_id": "s1", "iat": testNow.Unix(), "exp": testNow.Add(SessionTTL).Unix()}
		edit(c)
		return c
	}

	tests := []struct {
		name  string
		token string
		at    time.Time
		want  error
	}{
		{"fresh", good, testNow, nil},
		{"expired", good, testNow.Add(SessionTTL + TokenLeeway), ErrTokenExpired},
		{"not yet valid", good, testNow.Add(-time.Hour), ErrTokenNotYetValid},
		{"another server's key", otherKey, testNow, ErrTokenBadSignature},
		{"perms token", perms, testNow, ErrTokenBadSignature},
		{"HS256", sign(t, jwt.SigningMethodHS256, k.session, sessionClaims(func(jwt.MapClaims) {})), testNow, ErrTokenBadSignature},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, sessionClaims(func(jwt.MapClaims) {})), testNow, ErrTokenBadSignature},
		{"wrong audience", sign(t, jwt.SigningMethodHS512, k.session, sessionClaims(func(c jwt.MapClaims) { c["aud"] = PermsAudience })), testNow, ErrTokenWrongAudience},
		{"no session_id", sign(t, jwt.SigningMethodHS512, k.session, sessionClaims(func(c jwt.MapClaims) { delete(c, "session_id") })), testNow, ErrTokenMalformed},
		{"session_id not a string", sign(t, jwt.SigningMethodHS512, k.session, sessionClaims(func(c jwt.MapClaims) { c["session_id"] = 1 })), testNow, ErrTokenMalformed},
		{"garbage", "x.y", testNow, ErrTokenMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := k.VerifySession(tc.token, tc.at)
			checkTokenErr(t, err, tc.want)
			if err == nil && id != "s1" {
				t.Errorf("session id %q, want s1", id)
			}
			if err != nil && id != "" {
				t.Errorf("session id %q returned with an error", id)
			}
		})
	}
}

func FuzzVerifyPerms(f *testing.F) {
	k := testKeys(f, 0)
	good, err := k.MintPerms(PermsClaims{HubID: "h", AccountID: "1", Perms: map[string]bool{"join_hub": true}}, testNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Fuzz(func(t *testing.T, token string) {
		_, err := VerifyPerms(k.PermsPublicKey(), token, testNow)
		if err != nil && !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("error %v does not match ErrTokenInvalid", err)
		}
		if err == nil && token != good {
			t.Errorf("accepted a token that was not minted: %q", token)
		}
	})
}

func BenchmarkMintPerms(b *testing.B) {
	k := testKeys(b, 0)
	c := PermsClaims{HubID: "abc1234", AccountID: "42", Perms: map[string]bool{"join_hub": true, "voice_chat": true, "kick_users": false}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.MintPerms(c, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPerms(b *testing.B) {
	k := testKeys(b, 0)
	tok, err := k.MintPerms(PermsClaims{HubID: "abc1234", AccountID: "42", Perms: map[string]bool{"join_hub": true}}, testNow)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyPerms(k.PermsPublicKey(), tok, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
