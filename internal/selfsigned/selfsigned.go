// Package selfsigned makes and keeps the HTTPS certificate that lets `toncon serve` speak TLS on a laptop before
// anyone has a domain: made on first run into the data folder's tls/ directory, reused while it stays good, and
// trusted by a person once with the commands TrustInstructions prints.
//
// It is two certificates, not one. Firefox refuses a server certificate that is marked as a CA
// (MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY) even when that certificate is itself trusted, and Chrome warns
// about it; while a self-signed certificate that is not a CA cannot be added as a root on several systems. So
// LoadOrCreate makes a root CA whose only use is to sign one server certificate, and throws the root's private key
// away at once: the root can be trusted without giving anyone on the machine the power to mint certificates for
// other sites.
package selfsigned

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"toncon/internal/datadir"
)

// File names inside the tls folder.
const (
	CertFile = "cert.pem" // the server certificate followed by the root: what the server presents
	KeyFile  = "key.pem"  // the server certificate's private key
	CAFile   = "ca.pem"   // the root: what a person trusts
)

const (
	// Validity is how long a new certificate lasts: a year, as browsers refuse much longer ones.
	Validity = 365 * 24 * time.Hour
	// RenewBefore is how long before expiry a certificate is replaced.
	RenewBefore = 30 * 24 * time.Hour
	// backdate covers clocks that are a little behind the one that made the certificate.
	backdate = time.Hour
)

// LoadOrCreate returns the certificate in dir (dir/cert.pem, dir/key.pem), creating a self-signed one for the
// given hosts (DNS names and IP addresses, e.g. "localhost", "127.0.0.1", "::1") on first use. It is reused while it
// is valid for at least 30 more days and covers all hosts; otherwise it is replaced and the old files are kept as
// *.old. certPath is the root certificate a person trusts (dir/ca.pem; see TrustInstructions), which changes
// whenever the certificate is replaced. A file that exists but cannot be read or parsed is an error naming it.
func LoadOrCreate(dir string, hosts []string, now time.Time) (cert tls.Certificate, certPath string, created bool, err error) {
	dns, ips, err := parseHosts(hosts)
	if err != nil {
		return tls.Certificate{}, "", false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, "", false, fmt.Errorf("create tls folder: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return tls.Certificate{}, "", false, fmt.Errorf("tls folder: %w", err)
	} else if !fi.IsDir() {
		return tls.Certificate{}, "", false, fmt.Errorf("tls folder %s is not a folder", dir)
	}
	certPath = filepath.Join(dir, CAFile)

	cert, root, err := load(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// First run, or a file was removed: start over.
	case err != nil:
		return tls.Certificate{}, "", false, err
	case good(cert.Leaf, root, hosts, now):
		return cert, certPath, false, nil
	}

	for _, name := range []string{CertFile, KeyFile, CAFile} {
		p := filepath.Join(dir, name)
		if err := os.Rename(p, p+".old"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return tls.Certificate{}, "", false, fmt.Errorf("keep the old certificate: %w", err)
		}
	}
	certPEM, keyPEM, caPEM, err := generate(dns, ips, now)
	if err != nil {
		return tls.Certificate{}, "", false, err
	}
	// The key first: a crash part way leaves files that do not match, which the next run reports.
	for _, f := range []struct {
		name string
		data []byte
		perm os.FileMode
	}{{KeyFile, keyPEM, 0o600}, {CertFile, certPEM, 0o644}, {CAFile, caPEM, 0o644}} {
		if err := datadir.WriteFileAtomic(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return tls.Certificate{}, "", false, err
		}
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, "", false, fmt.Errorf("load new certificate: %w", err)
	}
	return cert, certPath, true, nil
}

// good reports whether leaf, issued by root, is valid at now, stays valid for RenewBefore more, and covers hosts.
func good(leaf, root *x509.Certificate, hosts []string, now time.Time) bool {
	if leaf.NotAfter.Sub(now) < RenewBefore {
		return false
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	for _, h := range hosts {
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:     strings.Trim(h, "[]"),
			Roots:       roots,
			CurrentTime: now,
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return false
		}
	}
	return true
}

// load reads the three files in dir. If any is missing the error matches fs.ErrNotExist; other errors name the
// file at fault.
func load(dir string) (tls.Certificate, *x509.Certificate, error) {
	certPath, keyPath, caPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), filepath.Join(dir, CAFile)
	var files [3][]byte
	for i, p := range []string{certPath, keyPath, caPath} {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return tls.Certificate{}, nil, err
		}
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("read certificate: %w", err)
		}
		files[i] = b
	}
	certPEM, keyPEM, caPEM := files[0], files[1], files[2]

	chain, err := parseCertificates(certPath, certPEM)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots, err := parseCertificates(caPath, caPEM)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	if block, _ := pem.Decode(keyPEM); block == nil || !strings.HasSuffix(block.Type, "PRIVATE KEY") {
		return tls.Certificate{}, nil, fmt.Errorf("%s: no PEM private key found: the file is damaged; delete the "+
			"files in %s to make a new certificate", keyPath, dir)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("%s and %s do not go together (%v): delete the files in %s to "+
			"make a new certificate", certPath, keyPath, err, dir)
	}
	if cert.Leaf == nil {
		cert.Leaf = chain[0]
	}
	return cert, roots[0], nil
}

func parseCertificates(path string, data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(certs) > 0 && len(bytes.TrimSpace(rest)) != 0 {
				return nil, fmt.Errorf("%s: unexpected data after the certificates: the file is damaged; delete "+
					"the files in %s to make a new certificate", path, filepath.Dir(path))
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: want PEM \"CERTIFICATE\" blocks, found %q", path, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: the file is damaged; delete the files in %s to make a new certificate",
				path, err, filepath.Dir(path))
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate found: the file is damaged; delete the files in %s to make "+
			"a new certificate", path, filepath.Dir(path))
	}
	return certs, nil
}

// parseHosts splits hosts into DNS names and IP addresses, accepting IPv6 in brackets and dropping repeats.
func parseHosts(hosts []string) (dns []string, ips []net.IP, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("self-signed certificate: no host names")
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); ip != nil {
			if !seen[ip.String()] {
				seen[ip.String()] = true
				ips = append(ips, ip)
			}
			continue
		}
		if h == "" || strings.ContainsAny(h, ":/ []") {
			return nil, nil, fmt.Errorf("self-signed certificate: %q is not a host name or IP address", h)
		}
		if h = strings.ToLower(h); !seen[h] {
			seen[h] = true
			dns = append(dns, h)
		}
	}
	return dns, ips, nil
}

// generate makes a root and a server certificate for dns and ips, valid from a little before now for Validity.
func generate(dns []string, ips []net.IP, now time.Time) (certPEM, keyPEM, caPEM []byte, err error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate key: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate key: %w", err)
	}
	rootSerial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	leafSerial, err := randomSerial()
	if err != nil {
		return nil, nil, nil, err
	}
	notBefore := now.Add(-backdate).UTC().Truncate(time.Second)
	notAfter := now.Add(Validity).UTC().Truncate(time.Second)

	// The root's name is unique so that trust stores holding roots from earlier runs do not mix them up.
	root := &x509.Certificate{
		SerialNumber: rootSerial,
		Subject: pkix.Name{
			Organization: []string{"toncon"},
			CommonName:   fmt.Sprintf("toncon local root %s %x", now.UTC().Format("2006-01-02"), rootSerial.Bytes()[:4]),
		},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create root certificate: %w", err)
	}
	if root, err = x509.ParseCertificate(rootDER); err != nil {
		return nil, nil, nil, fmt.Errorf("create root certificate: %w", err)
	}

	cn := "localhost"
	if len(dns) > 0 {
		cn = dns[0]
	} else if len(ips) > 0 {
		cn = ips[0].String()
	}
	leaf := &x509.Certificate{
		SerialNumber:          leafSerial,
		Subject:               pkix.Name{Organization: []string{"toncon"}, CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encode key: %w", err)
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})
	certPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), caPEM...)
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, caPEM, nil
}

// randomSerial returns a positive random 128-bit serial number.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("serial number: %w", err)
		}
		// Four bytes of it name the root, so keep it long enough to have them.
		if n.BitLen() > 32 {
			return n, nil
		}
	}
}
