package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"toncon/internal/datadir"
	"toncon/internal/phx"
)

type running struct {
	srv    *Server
	cancel context.CancelFunc
	done   chan error
	client *http.Client
	tls    *tls.Config
	once   sync.Once
}

func start(t *testing.T, dir string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, TLS: true})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	r := &running{srv: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ctx) }()
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	r.tls = &tls.Config{RootCAs: pool}
	r.client = &http.Client{Transport: &http.Transport{TLSClientConfig: r.tls}, Timeout: 10 * time.Second}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
	})
}

func TestFirstRunCreatesTheDataFolderAndServesHTTPS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := start(t, dir)
	for _, f := range []string{"toncon.db", "tls/cert.pem", "tls/key.pem", "tls/ca.pem", "keys/perms.key.pem", "keys/perms.pub.pem", "keys/session.key", "files"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("first run did not create %s: %v", f, err)
		}
	}
	base := r.srv.URL().String()
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("public URL %s", base)
	}
	// The certificate verifies for the address, with only the data folder's CA trusted.
	resp, err := r.client.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health %d", resp.StatusCode)
	}
	resp, err = r.client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("home %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestSecondServerOnTheSameFolderIsRefused(t *testing.T) {
	dir := t.TempDir()
	start(t, dir)
	_, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, TLS: true})
	if !errors.Is(err, datadir.ErrInUse) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server: %v", err)
	}
}

func TestGracefulShutdownAndRestart(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	base := r.srv.URL().String()
	resp, err := r.client.Post(base+"/api/v1/hubs", "application/json", bytes.NewBufferString(`{"hub":{"name":"Kept"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		HubID string `json:"hub_id"`
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := strings.Replace(base, "https", "wss", 1) + "/socket/websocket?vsn=2.0.0"
	c, err := phx.Dial(ctx, wsURL, r.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, status, reply, err := c.Join(ctx, "hub:"+created.HubID, map[string]any{
		"profile": map[string]any{"displayName": "Ada"}, "context": map[string]any{}})
	if err != nil || status != "ok" {
		t.Fatalf("join over TLS: %s %s %v", status, reply, err)
	}

	r.stop(t)
	select {
	case <-c.Done():
		if c.CloseCode != ws.StatusGoingAway || c.CloseReason != phx.ReasonShutdown {
			t.Fatalf("close frame %d %q", c.CloseCode, c.CloseReason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket not closed on shutdown")
	}
	// The folder is released and the data kept: a new server on it starts and still has the room.
	r2 := start(t, dir)
	resp, err = r2.client.Get(r2.srv.URL().String() + "/api/v1/hubs/" + created.HubID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("room lost across restart: %d", resp.StatusCode)
	}
	r2.stop(t)
	if fi, err := os.Stat(filepath.Join(dir, "toncon.db-wal")); err == nil && fi.Size() > 0 {
		t.Fatalf("database not closed cleanly: WAL holds %d bytes", fi.Size())
	}
}

func TestPlainHTTPBehindAProxy(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), TLS: false, PublicURL: "https://rooms.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	resp, err := http.Get("http://" + srv.Addr().String() + "/api/v1/meta")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta["phx_host"] != "rooms.example.org" || meta["phx_port"] != "443" {
		t.Fatalf("meta behind a proxy: %v", meta)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBadPublicURL(t *testing.T) {
	_, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), PublicURL: "rooms.example.org"})
	if err == nil || !strings.Contains(err.Error(), "full URL") {
		t.Fatalf("%v", err)
	}
}
