package selfsigned

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/testenv"
)

var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

const day = 24 * time.Hour

func mustCreate(t *testing.T, dir string, hosts []string, now time.Time) (tls.Certificate, string) {
	t.Helper()
	cert, certPath, created, err := LoadOrCreate(dir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false for a new folder")
	}
	return cert, certPath
}

func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, name := range []string{CertFile, KeyFile, CAFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = b
	}
	return m
}

func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	cert, certPath := mustCreate(t, dir, defaultHosts, now)

	if certPath != filepath.Join(dir, CAFile) {
		t.Errorf("certPath %s, want %s", certPath, filepath.Join(dir, CAFile))
	}
	leaf := cert.Leaf
	if leaf == nil {
		t.Fatal("Leaf is nil")
	}
	if len(cert.Certificate) != 2 {
		t.Errorf("chain has %d certificates, want 2 (server and root)", len(cert.Certificate))
	}
	if k, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("private key %T, want ECDSA P-256", cert.PrivateKey)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("key usage %v, want digitalSignature", leaf.KeyUsage)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("ext key usage %v, want serverAuth", leaf.ExtKeyUsage)
	}
	if leaf.IsCA || !leaf.BasicConstraintsValid {
		t.Error("server certificate must say it is not a CA (Firefox refuses CA certificates as servers)")
	}
	if !slices.Equal(leaf.DNSNames, []string{"localhost"}) {
		t.Errorf("DNS names %v", leaf.DNSNames)
	}
	if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || !leaf.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("IP addresses %v", leaf.IPAddresses)
	}
	if !leaf.NotBefore.Before(now) || now.Sub(leaf.NotBefore) > 2*time.Hour {
		t.Errorf("not before %v, want a little before %v", leaf.NotBefore, now)
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life < 364*day || life > 398*day {
		t.Errorf("valid for %v, want about a year and at most 398 days", life)
	}
	if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %v, want a large positive random number", leaf.SerialNumber)
	}

	root, err := x509.ParseCertificate(cert.Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	if !root.IsCA || root.KeyUsage&x509.KeyUsageCertSign == 0 || !root.MaxPathLenZero {
		t.Errorf("root: IsCA %v, key usage %v, MaxPathLenZero %v", root.IsCA, root.KeyUsage, root.MaxPathLenZero)
	}
	if err := root.CheckSignatureFrom(root); err != nil {
		t.Errorf("root is not self-signed: %v", err)
	}
	if err := leaf.CheckSignatureFrom(root); err != nil {
		t.Errorf("server certificate is not signed by the root: %v", err)
	}
	caFile := readFiles(t, dir)[CAFile]
	if roots, err := parseCertificates(certPath, caFile); err != nil || len(roots) != 1 || !roots[0].Equal(root) {
		t.Errorf("ca.pem does not hold the root of the chain (err %v)", err)
	}

	for _, tc := range []struct {
		path string
		mode fs.FileMode
	}{
		{dir, fs.ModeDir | 0o700},
		{filepath.Join(dir, KeyFile), 0o600},
		{filepath.Join(dir, CertFile), 0o644},
		{filepath.Join(dir, CAFile), 0o644},
	} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode(), tc.mode)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("tls folder holds %d entries, want 3", len(entries))
	}
}

func TestRepeatedHosts(t *testing.T) {
	cert, _ := mustCreate(t, t.TempDir(), []string{"localhost", "127.0.0.1", "LOCALHOST", "::1", "[::1]", "127.0.0.1", "toncon.test"}, time.Now())
	if !slices.Equal(cert.Leaf.DNSNames, []string{"localhost", "toncon.test"}) || len(cert.Leaf.IPAddresses) != 2 {
		t.Errorf("SANs %v %v, want each host once", cert.Leaf.DNSNames, cert.Leaf.IPAddresses)
	}
}

func TestReuse(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first, firstPath := mustCreate(t, dir, defaultHosts, now)
	files := readFiles(t, dir)

	tests := []struct {
		name  string
		hosts []string
		at    time.Time
	}{
		{"same hosts", defaultHosts, now},
		{"later, with more than 30 days left", defaultHosts, now.Add(Validity - RenewBefore - day)},
		{"fewer hosts", []string{"localhost"}, now},
		{"other order", []string{"::1", "127.0.0.1", "localhost"}, now},
		{"upper case", []string{"LocalHost"}, now},
		{"bracketed IPv6", []string{"[::1]"}, now},
		{"clock a little behind", defaultHosts, now.Add(-30 * time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, certPath, created, err := LoadOrCreate(dir, tc.hosts, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if created {
				t.Fatal("created = true, want the certificate reused")
			}
			if certPath != firstPath {
				t.Errorf("certPath %s, want %s", certPath, firstPath)
			}
			if cert.Leaf == nil || cert.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
				t.Error("a different certificate was returned")
			}
			for name, b := range readFiles(t, dir) {
				if !bytes.Equal(b, files[name]) {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
}

func TestReplace(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		hosts []string
		at    time.Time
	}{
		{"expires in less than 30 days", defaultHosts, now.Add(Validity - RenewBefore + day)},
		{"expired", defaultHosts, now.Add(Validity + day)},
		{"DNS name missing", append(slices.Clone(defaultHosts), "toncon.test"), now},
		{"IP address missing", append(slices.Clone(defaultHosts), "192.168.1.5"), now},
		{"clock went back", defaultHosts, now.Add(-2 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first, _ := mustCreate(t, dir, defaultHosts, now)
			old := readFiles(t, dir)

			cert, certPath, created, err := LoadOrCreate(dir, tc.hosts, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if !created {
				t.Fatal("created = false, want a new certificate")
			}
			if cert.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
				t.Error("same serial number after replacing")
			}
			for name, b := range old {
				kept, err := os.ReadFile(filepath.Join(dir, name+".old"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(kept, b) {
					t.Errorf("%s.old does not hold the old file", name)
				}
			}
			// The new one is good for the new hosts and time, so it is now reused.
			if !good(cert.Leaf, mustRoot(t, certPath), tc.hosts, tc.at) {
				t.Error("the new certificate does not cover the hosts at that time")
			}
			if _, _, created, err := LoadOrCreate(dir, tc.hosts, tc.at); err != nil || created {
				t.Errorf("second call: created %v, err %v; want it reused", created, err)
			}
		})
	}
}

func mustRoot(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := parseCertificates(path, b)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func TestMissingFileStartsOver(t *testing.T) {
	for _, name := range []string{CertFile, KeyFile, CAFile} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			first, _ := mustCreate(t, dir, defaultHosts, time.Now())
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			cert, _, created, err := LoadOrCreate(dir, defaultHosts, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !created || cert.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
				t.Error("want a new certificate")
			}
		})
	}
}

// serve runs a TLS server with cert on 127.0.0.1 that completes handshakes until the test ends.
func serve(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

func TestHandshake(t *testing.T) {
	dir := t.TempDir()
	cert, certPath, _, err := LoadOrCreate(dir, defaultHosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, cert)

	caPEM, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	trusting := x509.NewCertPool()
	if !trusting.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem has no certificate")
	}
	_, otherPath, _, err := LoadOrCreate(t.TempDir(), defaultHosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, err := os.ReadFile(otherPath)
	if err != nil {
		t.Fatal(err)
	}
	other := x509.NewCertPool()
	other.AppendCertsFromPEM(otherPEM)

	tests := []struct {
		name       string
		serverName string
		roots      *x509.CertPool
		wantErr    string
	}{
		{"localhost", "localhost", trusting, ""},
		{"IPv4 address", "127.0.0.1", trusting, ""},
		{"IPv6 address", "::1", trusting, ""},
		{"another name", "example.com", trusting, "not example.com"},
		{"another run's root", "localhost", other, "unknown authority"},
		{"no roots", "localhost", x509.NewCertPool(), "unknown authority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &net.Dialer{Timeout: 10 * time.Second}
			conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: tc.roots, ServerName: tc.serverName})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				state := conn.ConnectionState()
				if len(state.VerifiedChains) == 0 {
					t.Error("no verified chain")
				}
				conn.Close()
				return
			}
			if err == nil {
				conn.Close()
				t.Fatal("handshake succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDamagedFiles(t *testing.T) {
	other := t.TempDir()
	mustCreate(t, other, defaultHosts, time.Now())
	otherFiles := readFiles(t, other)

	tests := []struct {
		name    string
		file    string
		content func(valid []byte) []byte
		want    string
	}{
		{"cert garbage", CertFile, func([]byte) []byte { return []byte("garbage") }, "no PEM certificate"},
		{"cert empty", CertFile, func([]byte) []byte { return nil }, "no PEM certificate"},
		{"cert truncated", CertFile, func(v []byte) []byte { return v[:len(v)/3] }, ""},
		{"cert wrong block", CertFile, func([]byte) []byte { return []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }, "PRIVATE KEY"},
		{"cert bad DER", CertFile, func([]byte) []byte { return []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }, "damaged"},
		{"cert trailing junk", CertFile, func(v []byte) []byte { return append(slices.Clone(v), "junk"...) }, "unexpected data"},
		{"key garbage", KeyFile, func([]byte) []byte { return []byte("garbage") }, "no PEM private key"},
		{"key from another certificate", KeyFile, func([]byte) []byte { return otherFiles[KeyFile] }, "do not go together"},
		{"key bad DER", KeyFile, func([]byte) []byte { return []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }, "do not go together"},
		{"ca garbage", CAFile, func([]byte) []byte { return []byte("garbage") }, "no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustCreate(t, dir, defaultHosts, time.Now())
			path := filepath.Join(dir, tc.file)
			damaged := tc.content(readFiles(t, dir)[tc.file])
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			before := readFiles(t, dir)

			_, _, _, err := LoadOrCreate(dir, defaultHosts, time.Now())
			if err == nil {
				t.Fatal("LoadOrCreate accepted a damaged file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one naming %s and saying %q", err, path, tc.want)
			}
			for name, b := range readFiles(t, dir) {
				if !bytes.Equal(b, before[name]) {
					t.Errorf("%s was changed", name)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, tc.file+".old")); !errors.Is(err, fs.ErrNotExist) {
				t.Error("the damaged file was moved aside")
			}
		})
	}
}

func TestUnreadableFile(t *testing.T) {
	if !testenv.RunUnprivileged(t) {
		return
	}
	dir := t.TempDir()
	mustCreate(t, dir, defaultHosts, time.Now())
	path := filepath.Join(dir, KeyFile)
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := LoadOrCreate(dir, defaultHosts, time.Now())
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error %v, want a permission error naming %s", err, path)
	}
}

func TestBadArguments(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tls")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		dir   string
		hosts []string
		want  string
	}{
		{"no hosts", t.TempDir(), nil, "no host names"},
		{"empty host", t.TempDir(), []string{"localhost", ""}, `""`},
		{"host with port", t.TempDir(), []string{"localhost:4000"}, "localhost:4000"},
		{"URL", t.TempDir(), []string{"https://localhost"}, "https://localhost"},
		{"space", t.TempDir(), []string{"my host"}, "my host"},
		{"folder is a file", file, defaultHosts, file},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := LoadOrCreate(tc.dir, tc.hosts, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestTrustInstructions(t *testing.T) {
	dir := t.TempDir()
	cert, certPath := mustCreate(t, dir, defaultHosts, time.Now())
	root, err := x509.ParseCertificate(cert.Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	got := TrustInstructions(certPath)
	for _, want := range []string{
		certPath,
		"sudo update-ca-certificates",
		"/usr/local/share/ca-certificates/toncon.crt",
		"trust anchor --store",
		"certutil -A -t C,, -n '" + root.Subject.CommonName + "'",
		".pki/nssdb",
		".mozilla/firefox",
		"security add-trusted-cert -d -r trustRoot",
		"certutil -addstore -user Root",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("instructions lack %q:\n%s", want, got)
		}
	}

	// A relative path becomes absolute, so the commands work from any folder.
	t.Chdir(dir)
	if rel := TrustInstructions(CAFile); !strings.Contains(rel, certPath) {
		t.Errorf("relative path not made absolute:\n%s", rel)
	}
	// Without a readable file the nickname falls back to toncon.
	if missing := TrustInstructions(filepath.Join(dir, "nope.pem")); !strings.Contains(missing, "-n 'toncon'") {
		t.Errorf("fallback nickname missing:\n%s", missing)
	}
}

func TestShQuote(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, s := range []string{"/plain/path.pem", "/with space/ca.pem", "/it's/ca.pem", `/$HOME/"q"/\n/*.pem`} {
		out, err := exec.Command(sh, "-c", "printf %s "+shQuote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("sh read %q back as %q", s, out)
		}
	}
}
