package server

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"toncon/internal/phx"
	"toncon/internal/store/sqlite"
)

// TestOfflineModeEndToEnd: an operator turns offline mode on from another process (as `toncon admin offline on`
// does, through the database); pages redirect, socket joins are refused, people in rooms are told, the API
// stays up; turning it off restores everything.
func TestOfflineModeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, OpsTick: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + srv.Addr().String()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 5 * time.Second}

	resp, err := http.Post(base+"/api/v1/hubs", "application/json", strings.NewReader(`{"hub":{"name":"Gala"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		HubID string `json:"hub_id"`
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()

	wsURL := "ws://" + srv.Addr().String() + "/socket/websocket?vsn=2.0.0"
	join := func() (string, json.RawMessage, *phx.Client) {
		t.Helper()
		c, err := phx.Dial(ctxT(t), wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_, status, reply, err := c.Join(ctxT(t), "hub:"+created.HubID, map[string]any{"profile": map[string]any{"displayName": "Ada"}, "context": map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		return status, reply, c
	}
	status, _, inRoom := join()
	if status != "ok" {
		t.Fatal("join refused while online")
	}

	admin, err := sqlite.Open(context.Background(), filepath.Join(dir, "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.SetSiteSetting(context.Background(), "offline_redirect_url", "https://example.org/later"); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetSiteSetting(context.Background(), "offline", "true"); err != nil {
		t.Fatal(err)
	}

	// People in the room are told.
	m, err := inRoom.Await(ctxT(t), func(m phx.ClientMessage) bool { return m.Event == "offline" })
	if err != nil || !strings.Contains(string(m.Payload), `"redirect_url":"https://example.org/later"`) {
		t.Fatalf("offline notice: %s %v", m.Payload, err)
	}
	for _, p := range []string{"/", "/" + created.HubID, "/" + created.HubID + "/gala"} {
		resp, err := noRedirect.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "https://example.org/later" {
			t.Fatalf("%s while offline: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	status, reply, _ := join()
	if status != "error" || !strings.Contains(string(reply), `"reason":"offline"`) {
		t.Fatalf("join while offline: %s %s", status, reply)
	}
	for _, p := range []string{"/api/v1/meta", "/health", "/api/v1/hubs/" + created.HubID, "/metrics"} {
		resp, err := noRedirect.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s while offline: %d", p, resp.StatusCode)
		}
	}
	var usage map[string]any
	resp, _ = noRedirect.Get(base + "/api/v1/usage")
	json.NewDecoder(resp.Body).Decode(&usage)
	resp.Body.Close()
	if usage["offline"] != true || usage["offline_reason"] != "manual" {
		t.Fatalf("usage while offline: %v", usage)
	}

	// Without a redirect URL, pages say offline themselves.
	if err := admin.SetSiteSetting(context.Background(), "offline_redirect_url", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		resp, err := noRedirect.Get(base + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})

	if err := admin.SetSiteSetting(context.Background(), "offline", "false"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		resp, err := noRedirect.Get(base + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if status, reply, _ := join(); status != "ok" {
		t.Fatalf("join after offline mode ended: %s %s", status, reply)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
