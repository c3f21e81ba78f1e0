// Package auth holds toncon's accounts, sign-in, sessions and the tokens that carry them: the RS512 perms token
// that the hub channel hands out and the SFU checks, and the HS512 session token that lets a reconnecting socket
// keep its session id. The token formats follow Reticulum's so that Hubs clients read them unchanged.
package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"toncon/internal/datadir"
)

// File names inside the keys directory.
const (
	PermsKeyFile       = "perms.key.pem"
	PermsPublicKeyFile = "perms.pub.pem"
	SessionKeyFile     = "session.key"
	AccountKeyFile     = "account.key"
)

const (
	permsKeyBits   = 2048
	sessionKeySize = 32
)

// generatePermsKey makes a new perms signing key. Tests replace it so that they do not pay for RSA generation in
// every temporary folder.
var generatePermsKey = func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, permsKeyBits)
}

// Keys holds the server's signing material, kept in the data folder's keys/ directory: the RSA private key that
// signs perms tokens (RS512), the HMAC secret that signs session tokens (HS512) and the HMAC secret that signs
// account tokens (HS512). Session and account tokens have separate secrets so that neither can ever pass for the
// other, whatever their claims say. A Keys is immutable and safe for concurrent use.
type Keys struct {
	perms       *rsa.PrivateKey
	permsPubPEM []byte
	session     []byte
	account     []byte
}

// newKeys builds Keys from loaded or generated material.
func newKeys(perms *rsa.PrivateKey, session, account []byte) (*Keys, error) {
	pubPEM, err := encodePublicKeyPEM(&perms.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Keys{perms: perms, permsPubPEM: pubPEM, session: bytes.Clone(session), account: bytes.Clone(account)}, nil
}

// LoadOrCreateKeys loads the keys kept in dir (the data folder's keys/ directory), creating dir (0700) and any
// missing key on first use:
//
//	perms.key.pem  RSA 2048 private key, PKCS#8 PEM (PKCS#1 is accepted too), 0600
//	perms.pub.pem  its public key, PKIX PEM, 0644: give this file to media nodes (--perms-public-key)
//	session.key    32 random bytes, 0600
//	account.key    32 random bytes, 0600 (deleting it signs every account out)
//
// created reports whether anything was written. A file that exists but cannot be read or parsed is an error that
// names the file: the keys are never silently regenerated, because that would invalidate every token already
// handed out and every media node's copy of the public key.
func LoadOrCreateKeys(dir string) (k *Keys, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create keys folder: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, false, fmt.Errorf("keys folder: %w", err)
	} else if !fi.IsDir() {
		return nil, false, fmt.Errorf("keys folder %s is not a folder", dir)
	}

	privPath := filepath.Join(dir, PermsKeyFile)
	pubPath := filepath.Join(dir, PermsPublicKeyFile)
	sessPath := filepath.Join(dir, SessionKeyFile)
	accountPath := filepath.Join(dir, AccountKeyFile)

	priv, err := loadPermsPrivateKey(privPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A public key without its private key means media nodes already trust a key we no longer have; a new
		// one would silently break them, so ask the person instead.
		if _, statErr := os.Lstat(pubPath); statErr == nil {
			return nil, false, fmt.Errorf("%s is missing but %s exists: restore the private key, or delete both "+
				"to generate a new pair (media nodes then need the new public key)", privPath, pubPath)
		}
		if priv, err = generatePermsKey(); err != nil {
			return nil, false, fmt.Errorf("generate perms key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, false, fmt.Errorf("encode perms key: %w", err)
		}
		if err := datadir.WriteFileAtomic(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, false, err
		}
		created = true
	case err != nil:
		return nil, false, err
	}

	session, made, err := loadOrCreateSecret(sessPath, "session key", "sign everyone's sessions out")
	if err != nil {
		return nil, false, err
	}
	created = created || made
	account, made, err := loadOrCreateSecret(accountPath, "account key", "sign every account out")
	if err != nil {
		return nil, false, err
	}
	created = created || made

	k, err = newKeys(priv, session, account)
	if err != nil {
		return nil, false, err
	}

	// The public key file is derived, so it can be rewritten when missing; but one that disagrees with the
	// private key means media nodes may hold the wrong key, which the person has to sort out.
	pub, err := LoadPermsPublicKey(pubPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := datadir.WriteFileAtomic(pubPath, k.permsPubPEM, 0o644); err != nil {
			return nil, false, err
		}
		created = true
	case err != nil:
		return nil, false, err
	case !pub.Equal(&priv.PublicKey):
		return nil, false, fmt.Errorf("%s does not match %s: delete %s to write it again from the private key",
			pubPath, privPath, pubPath)
	}
	return k, created, nil
}

// PermsPublicKey returns the public half of the perms signing key, for VerifyPerms.
func (k *Keys) PermsPublicKey() *rsa.PublicKey {
	return &k.perms.PublicKey
}

// PermsPublicKeyPEM returns the perms public key as PKIX PEM, the contents of perms.pub.pem.
func (k *Keys) PermsPublicKeyPEM() []byte {
	return bytes.Clone(k.permsPubPEM)
}

// LoadPermsPublicKey reads an RSA public key from a PEM file: PKIX ("PUBLIC KEY", as perms.pub.pem and
// `openssl rsa -pubout` write it) or PKCS#1 ("RSA PUBLIC KEY"). A media node started with --perms-public-key uses it
// to check perms tokens without the private key. Errors name the file.
func LoadPermsPublicKey(path string) (*rsa.PublicKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	var pub *rsa.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: parse public key: %w", path, err)
		}
		var ok bool
		if pub, ok = key.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("%s: want an RSA public key, found %T", path, key)
		}
	case "RSA PUBLIC KEY":
		if pub, err = x509.ParsePKCS1PublicKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("%s: parse public key: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("%s: want a PEM \"PUBLIC KEY\" block, found %q", path, block.Type)
	}
	if pub.N.BitLen() < permsKeyBits {
		return nil, fmt.Errorf("%s: RSA key is %d bits, want at least %d", path, pub.N.BitLen(), permsKeyBits)
	}
	return pub, nil
}

func loadPermsPrivateKey(path string) (*rsa.PrivateKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	var priv *rsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: parse private key: %w", path, err)
		}
		var ok bool
		if priv, ok = key.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("%s: want an RSA private key, found %T", path, key)
		}
	case "RSA PRIVATE KEY":
		if priv, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("%s: parse private key: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("%s: want a PEM \"PRIVATE KEY\" block, found %q", path, block.Type)
	}
	if priv.N.BitLen() < permsKeyBits {
		return nil, fmt.Errorf("%s: RSA key is %d bits, want at least %d", path, priv.N.BitLen(), permsKeyBits)
	}
	return priv, nil
}

// loadOrCreateSecret reads a 32-byte HMAC secret from path, or makes and writes one when the file is missing.
// what names the secret in errors; consequence says what deleting the file does.
func loadOrCreateSecret(path, what, consequence string) (secret []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b = make([]byte, sessionKeySize)
		if _, err := rand.Read(b); err != nil {
			return nil, false, fmt.Errorf("generate %s: %w", what, err)
		}
		if err := datadir.WriteFileAtomic(path, b, 0o600); err != nil {
			return nil, false, err
		}
		return b, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("read %s: %w", what, err)
	}
	if len(b) != sessionKeySize {
		return nil, false, fmt.Errorf("%s: want %d bytes, found %d: the file is damaged; restore it from a backup, or "+
			"delete it to %s", path, sessionKeySize, len(b), consequence)
	}
	return b, false, nil
}

// readPEM reads the single PEM block in path. A missing file is returned as is so that callers can test for
// fs.ErrNotExist; every other error names the file.
func readPEM(path string) (*pem.Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read key: %w", err)
	}
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block found: the file is damaged or not a PEM key", path)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%s: unexpected data after the PEM block", path)
	}
	return block, nil
}

func encodePublicKeyPEM(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode perms public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
