package selfsigned

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TrustInstructions tells a person how to make their browser trust certPath (the root LoadOrCreate returns) on
// Linux (Debian/Ubuntu update-ca-certificates, Fedora trust anchor, and Chrome/Firefox NSS certutil), macOS
// (security add-trusted-cert) and Windows (certutil -addstore -user Root), one command each.
func TrustInstructions(certPath string) string {
	if abs, err := filepath.Abs(certPath); err == nil {
		certPath = abs
	}
	// NSS wants a distinct nickname for each root with a distinct name, and roots from earlier runs may still be
	// in the database, so use the root's own name when it can be read.
	nick := "toncon"
	if b, err := os.ReadFile(certPath); err == nil {
		if block, _ := pem.Decode(b); block != nil {
			if c, err := x509.ParseCertificate(block.Bytes); err == nil && c.Subject.CommonName != "" {
				nick = c.Subject.CommonName
			}
		}
	}
	p, n := shQuote(certPath), shQuote(nick)
	nss := "certutil -A -t C,, -n " + n + " -i " + p

	var b strings.Builder
	fmt.Fprintf(&b, "Browsers will warn about https until you trust toncon's certificate. Trust this file once, then restart the browser:\n")
	fmt.Fprintf(&b, "  %s\n\n", certPath)
	fmt.Fprintf(&b, "Linux, system-wide (curl and other command-line tools):\n")
	fmt.Fprintf(&b, "  Debian/Ubuntu:  sudo cp %s /usr/local/share/ca-certificates/toncon.crt && sudo update-ca-certificates\n", p)
	fmt.Fprintf(&b, "  Fedora/RHEL:    sudo trust anchor --store %s\n", p)
	fmt.Fprintf(&b, "Linux browsers, which keep their own store (certutil is in libnss3-tools on Debian/Ubuntu, nss-tools on Fedora):\n")
	fmt.Fprintf(&b, "  Chrome:   %s -d sql:\"$HOME/.pki/nssdb\"\n", nss)
	fmt.Fprintf(&b, "  Firefox:  for d in \"$HOME\"/.mozilla/firefox/*/ \"$HOME\"/snap/firefox/common/.mozilla/firefox/*/; do "+
		"[ -f \"$d/cert9.db\" ] && %s -d \"sql:$d\"; done\n", nss)
	fmt.Fprintf(&b, "macOS (Safari and Chrome; Firefox too when security.enterprise_roots.enabled is true in about:config):\n")
	fmt.Fprintf(&b, "  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s\n", p)
	fmt.Fprintf(&b, "Windows (Edge and Chrome; Firefox too when security.enterprise_roots.enabled is true in about:config):\n")
	fmt.Fprintf(&b, "  certutil -addstore -user Root \"%s\"\n", certPath)
	return b.String()
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
