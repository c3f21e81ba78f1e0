package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"toncon/internal/server"
	"toncon/internal/server/servertest"
	"toncon/internal/uploads"
)

// postMediaVia uploads data as if through a TLS-terminating proxy that reports the client as forwardedFor.
func postMediaVia(t *testing.T, base, forwardedFor string, data []byte) (int, map[string]any, http.Header) {
	t.Helper()
	return postMediaHeader(t, base, "x.png", data, http.Header{"X-Forwarded-For": {forwardedFor}})
}

// Through a whole toncon behind a proxy (--tls off): the rate limit keys anonymous uploads by the address the proxy
// reports (the last X-Forwarded-For entry, so a client cannot choose its own), and the cap stops a body that would
// cross it with nothing left behind.
func TestUploadProtectionThroughTheServer(t *testing.T) {
	dataDir := t.TempDir()
	srv := servertest.Start(t, server.Config{DataDir: dataDir, UploadRate: uploads.RateLimit{PerHour: 60, Burst: 1},
		UploadMaxTotalBytes: 150 << 10})
	base := srv.URL().String()
	picture := func(n int, seed byte) []byte {
		b := noisyPNG(t, 8, 8)
		b = append(b, make([]byte, n-len(b))...)
		b[n-1] = seed
		return b
	}
	if code, out, _ := postMediaVia(t, base, "203.0.113.1", picture(100<<10, 1)); code != 201 {
		t.Fatalf("first upload from 203.0.113.1: %d %v", code, out)
	}
	for _, xff := range []string{"203.0.113.1", "198.51.100.9, 203.0.113.1"} {
		code, out, h := postMediaVia(t, base, xff, picture(1000, 2))
		if code != 429 || out["error"] != "rate_limited" || h.Get("Retry-After") != "60" {
			t.Errorf("second upload, X-Forwarded-For %q: %d %v Retry-After %q", xff, code, out, h.Get("Retry-After"))
		}
	}
	code, out, _ := postMediaVia(t, base, "203.0.113.2", picture(100<<10, 3))
	if code != 507 || out["error"] != "insufficient_storage" || !strings.Contains(out["message"].(string), "does not fit") {
		t.Errorf("100 KB more with 100 of 150 KB stored, from another address: %d %v", code, out)
	}
	if code, out, _ := postMediaVia(t, base, "203.0.113.3", picture(10<<10, 4)); code != 201 {
		t.Errorf("10 KB more, from a third address: %d %v", code, out)
	}
	var names []string
	filepath.WalkDir(filepath.Join(dataDir, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, d.Name())
		}
		return nil
	})
	if len(names) != 2 || strings.HasPrefix(names[0], ".upload-") || strings.HasPrefix(names[1], ".upload-") {
		t.Errorf("files folder holds %v; want the two stored blobs only", names)
	}
}
