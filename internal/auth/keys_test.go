package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/testenv"
)

// RSA generation is slow, especially under -race, so the test binary makes two keys once and hands them out.
var testRSA struct {
	once sync.Once
	keys [2]*rsa.PrivateKey
	err  error
}

func testRSAKeyErr(i int) (*rsa.PrivateKey, error) {
	testRSA.once.Do(func() {
		for j := range testRSA.keys {
			if testRSA.keys[j], testRSA.err = rsa.GenerateKey(rand.Reader, permsKeyBits); testRSA.err != nil {
				return
			}
		}
	})
	if testRSA.err != nil {
		return nil, testRSA.err
	}
	return testRSA.keys[i], nil
}

// testRSAKey returns shared test key i (0 or 1). Key 0 is also what LoadOrCreateKeys "generates" in tests.
func testRSAKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	k, err := testRSAKeyErr(i)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testKeys returns Keys made from shared test key i and a fixed session secret derived from i.
func testKeys(t testing.TB, i int) *Keys {
	t.Helper()
	k, err := newKeys(testRSAKey(t, i), bytes.Repeat([]byte{byte('a' + i)}, sessionKeySize),
		bytes.Repeat([]byte{byte('A' + i)}, sessionKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestMain(m *testing.M) {
	generatePermsKey = func() (*rsa.PrivateKey, error) { return testRSAKeyErr(0) }
	os.Exit(m.Run())
}

func TestLoadOrCreateKeysCreatesThenReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k1, created, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("first LoadOrCreateKeys: created = false, want true")
	}

	for _, tc := range []struct {
		path string
		mode fs.FileMode
	}{
		{dir, fs.ModeDir | 0o700},
		{filepath.Join(dir, PermsKeyFile), 0o600},
		{filepath.Join(dir, PermsPublicKeyFile), 0o644},
		{filepath.Join(dir, SessionKeyFile), 0o600},
		{filepath.Join(dir, AccountKeyFile), 0o600},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode(), tc.mode)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, SessionKeyFile)); fi.Size() != sessionKeySize {
		t.Errorf("session.key is %d bytes, want %d", fi.Size(), sessionKeySize)
	}
	if n := k1.PermsPublicKey().N.BitLen(); n != 2048 {
		t.Errorf("perms key is %d bits, want 2048", n)
	}
	if fi, _ := os.Stat(filepath.Join(dir, AccountKeyFile)); fi.Size() != sessionKeySize {
		t.Errorf("account.key is %d bytes, want %d", fi.Size(), sessionKeySize)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("keys folder holds %d entries, want 4 (no temporary files left)", len(entries))
	}

	pemFile, err := os.ReadFile(filepath.Join(dir, PermsPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pemFile, k1.PermsPublicKeyPEM()) {
		t.Error("perms.pub.pem differs from PermsPublicKeyPEM()")
	}
	pub, err := LoadPermsPublicKey(filepath.Join(dir, PermsPublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(k1.PermsPublicKey()) {
		t.Error("LoadPermsPublicKey(perms.pub.pem) differs from PermsPublicKey()")
	}

	k2, created, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("second LoadOrCreateKeys: created = true, want false")
	}
	if !k2.PermsPublicKey().Equal(k1.PermsPublicKey()) {
		t.Error("second LoadOrCreateKeys returned a different perms key")
	}
	now := time.Unix(1_800_000_000, 0)
	tok, err := k1.MintSession("s1", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.VerifySession(tok, now); err != nil {
		t.Errorf("session token from the first load does not verify with the second: %v", err)
	}
	acct, err := k1.MintAccountToken(7, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := k2.VerifyAccountToken(acct, now); err != nil {
		t.Errorf("account token from the first load does not verify with the second: %v", err)
	}
	perms, err := k1.MintPerms(PermsClaims{HubID: "h", Perms: map[string]bool{"join_hub": true}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyPerms(k2.PermsPublicKey(), perms, now); err != nil {
		t.Errorf("perms token from the first load does not verify with the second: %v", err)
	}
}

func TestPermsPublicKeyPEMIsACopy(t *testing.T) {
	k := testKeys(t, 0)
	b := k.PermsPublicKeyPEM()
	b[0] = 'X'
	if k.PermsPublicKeyPEM()[0] == 'X' {
		t.Error("PermsPublicKeyPEM returned the internal slice")
	}
}

func TestLoadOrCreateKeysRewritesMissingPublicKey(t *testing.T) {
	dir := t.TempDir()
	k1, _, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, PermsPublicKeyFile)); err != nil {
		t.Fatal(err)
	}
	k2, created, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false after rewriting perms.pub.pem")
	}
	if !k2.PermsPublicKey().Equal(k1.PermsPublicKey()) {
		t.Error("perms key changed")
	}
	if _, err := LoadPermsPublicKey(filepath.Join(dir, PermsPublicKeyFile)); err != nil {
		t.Error(err)
	}
}

func TestLoadOrCreateKeysAcceptsPKCS1(t *testing.T) {
	dir := t.TempDir()
	priv := testRSAKey(t, 1)
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}
	if err := os.WriteFile(filepath.Join(dir, PermsKeyFile), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	k, created, err := LoadOrCreateKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false, want true (session.key and perms.pub.pem were written)")
	}
	if !k.PermsPublicKey().Equal(&priv.PublicKey) {
		t.Error("PKCS#1 key was not the one loaded")
	}
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestLoadOrCreateKeysRefusesDamagedFiles(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	ecPubDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, err := x509.MarshalPKIXPublicKey(&testRSAKey(t, 1).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	validPriv := pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(testRSAKey(t, 0)))

	tests := []struct {
		name    string
		file    string
		content []byte
		want    string // in the error besides the file name
	}{
		{"private key not PEM", PermsKeyFile, []byte("hello"), "no PEM block"},
		{"private key empty", PermsKeyFile, nil, "no PEM block"},
		{"private key truncated", PermsKeyFile, validPriv[:len(validPriv)/2], "no PEM block"},
		{"private key wrong block", PermsKeyFile, pemBytes("CERTIFICATE", []byte{1, 2}), "CERTIFICATE"},
		{"private key bad DER", PermsKeyFile, pemBytes("PRIVATE KEY", []byte{1, 2, 3}), "parse private key"},
		{"private key bad PKCS1", PermsKeyFile, pemBytes("RSA PRIVATE KEY", []byte{1, 2, 3}), "parse private key"},
		{"private key not RSA", PermsKeyFile, pemBytes("PRIVATE KEY", ecDER), "want an RSA private key"},
		{"private key too small", PermsKeyFile, pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), "1024 bits"},
		{"private key trailing junk", PermsKeyFile, append(bytes.Clone(validPriv), "junk"...), "after the PEM block"},
		{"public key not PEM", PermsPublicKeyFile, []byte("hello"), "no PEM block"},
		{"public key bad DER", PermsPublicKeyFile, pemBytes("PUBLIC KEY", []byte{1, 2, 3}), "parse public key"},
		{"public key not RSA", PermsPublicKeyFile, pemBytes("PUBLIC KEY", ecPubDER), "want an RSA public key"},
		{"public key of another pair", PermsPublicKeyFile, pemBytes("PUBLIC KEY", otherPub), "does not match"},
		{"session key short", SessionKeyFile, make([]byte, 31), "want 32 bytes, found 31"},
		{"session key long", SessionKeyFile, make([]byte, 64), "want 32 bytes, found 64"},
		{"session key empty", SessionKeyFile, nil, "want 32 bytes, found 0"},
		{"account key short", AccountKeyFile, make([]byte, 31), "sign every account out"},
		{"account key empty", AccountKeyFile, nil, "want 32 bytes, found 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := LoadOrCreateKeys(dir); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			k, _, err := LoadOrCreateKeys(dir)
			if err == nil {
				t.Fatal("LoadOrCreateKeys accepted a damaged file")
			}
			if k != nil {
				t.Error("LoadOrCreateKeys returned keys with an error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one naming %s and saying %q", err, path, tc.want)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.content) {
				t.Error("the damaged file was overwritten")
			}
		})
	}
}

func TestLoadOrCreateKeysRefusesPublicKeyWithoutPrivateKey(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreateKeys(dir); err != nil {
		t.Fatal(err)
	}
	privPath := filepath.Join(dir, PermsKeyFile)
	if err := os.Remove(privPath); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadOrCreateKeys(dir)
	if err == nil || !strings.Contains(err.Error(), privPath) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("error %v, want one saying %s is missing", err, privPath)
	}
	if _, err := os.Stat(privPath); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a new private key was written")
	}
}

func TestLoadOrCreateKeysUnreadableFile(t *testing.T) {
	if !testenv.RunUnprivileged(t) {
		return
	}
	dir := t.TempDir()
	if _, _, err := LoadOrCreateKeys(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{PermsKeyFile, PermsPublicKeyFile, SessionKeyFile, AccountKeyFile} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.Chmod(path, 0); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(path, 0o600)
			_, _, err := LoadOrCreateKeys(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrPermission) {
				t.Errorf("error %v, want a permission error naming %s", err, path)
			}
		})
	}
}

func TestLoadOrCreateKeysFolderIsAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeys(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming %s", err, path)
	}
}

func TestLoadPermsPublicKey(t *testing.T) {
	pub := &testRSAKey(t, 0).PublicKey
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		content []byte // nil: no file
		wantErr string // "" for success
	}{
		{"PKIX", pemBytes("PUBLIC KEY", pkix), ""},
		{"PKCS1", pemBytes("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(pub)), ""},
		{"PKIX with trailing newlines", append(pemBytes("PUBLIC KEY", pkix), "\n\n"...), ""},
		{"missing", nil, "no such file"},
		{"garbage", []byte("not a key"), "no PEM block"},
		{"private key instead", pemBytes("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(testRSAKey(t, 0))), "RSA PRIVATE KEY"},
		{"EC key", pemBytes("PUBLIC KEY", ecPub), "want an RSA public key"},
		{"bad PKCS1", pemBytes("RSA PUBLIC KEY", []byte{1}), "parse public key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "perms.pub.pem")
			if tc.content != nil {
				if err := os.WriteFile(path, tc.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadPermsPublicKey(path)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(pub) {
					t.Error("loaded a different key")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, tc.wantErr)
			}
		})
	}
}
