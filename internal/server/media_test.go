package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"toncon/internal/auth"
	"toncon/internal/phx"
)

// serveFor runs a server with cfg until the test ends and returns its base URL.
func serveFor(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, "http://" + srv.Addr().String()
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// getHost joins a new room on the app at base and asks get_host; it returns the answer and the perms token.
func getHost(t *testing.T, base string) (host string, port int, hubID, token string) {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/hubs", "application/json", strings.NewReader(`{"hub":{"name":"Talk"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		HubID string `json:"hub_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	c, err := phx.Dial(ctxT(t), "ws"+strings.TrimPrefix(base, "http")+"/socket/websocket?vsn=2.0.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	joinRef, status, reply, err := c.Join(ctxT(t), "hub:"+created.HubID, map[string]any{"profile": map[string]any{"displayName": "Ada"}, "context": map[string]any{}})
	if err != nil || status != "ok" {
		t.Fatalf("join: %s %s %v", status, reply, err)
	}
	var joined struct {
		PermsToken string `json:"perms_token"`
	}
	_ = json.Unmarshal(reply, &joined)
	status, reply, err = c.Request(ctxT(t), joinRef, "hub:"+created.HubID, "get_host", map[string]any{})
	if err != nil || status != "ok" {
		t.Fatalf("get_host: %s %s %v", status, reply, err)
	}
	var hp struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	_ = json.Unmarshal(reply, &hp)
	return hp.Host, hp.Port, created.HubID, joined.PermsToken
}

// getText is the body of a GET of url, which must answer 200.
func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// mediaJoin joins hubID on the media socket at base and returns the error code ("" when joined).
func mediaJoin(t *testing.T, base, hubID, token string) string {
	t.Helper()
	ws, _, err := websocket.Dial(ctxT(t), "ws"+strings.TrimPrefix(base, "http")+"/media/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	req, _ := json.Marshal(map[string]any{"request": true, "id": 1, "method": "join", "data": map[string]string{"hub_id": hubID, "token": token}})
	if err := ws.Write(ctxT(t), websocket.MessageText, req); err != nil {
		t.Fatal(err)
	}
	_, b, err := ws.Read(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		OK        bool   `json:"ok"`
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(b, &resp)
	if resp.OK {
		return ""
	}
	return resp.ErrorCode
}

// TestRoleAllRunsMediaInProcess: by default the server is its own media node.
func TestRoleAllRunsMediaInProcess(t *testing.T) {
	srv, base := serveFor(t, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	var load map[string]any
	if code := getJSON(t, base+"/media/meta", &load); code != http.StatusOK || load["cap"] == nil {
		t.Fatalf("/media/meta: %d %v", code, load)
	}
	host, port, hubID, token := getHost(t, base)
	if want := srv.Addr().(*net.TCPAddr).Port; host != "127.0.0.1" || port != want {
		t.Fatalf("get_host %s:%d, want 127.0.0.1:%d", host, port, want)
	}
	if code := mediaJoin(t, base, hubID, token); code != "" {
		t.Fatalf("media join with the hub channel's token: %s", code)
	}
	if code := mediaJoin(t, base, "otherroom", token); code != "wrong_hub" {
		t.Fatalf("media join of another room: %q", code)
	}
}

// TestAppAndMediaRoles: a media node needs only the app's public key; the app's get_host points at it, and the
// token the app's hub channel hands out lets a client join there.
func TestAppAndMediaRoles(t *testing.T) {
	appDir := t.TempDir()
	if _, _, err := auth.LoadOrCreateKeys(filepath.Join(appDir, "keys")); err != nil {
		t.Fatal(err)
	}
	_, mediaBase := serveFor(t, Config{Role: RoleMedia, Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		PermsPublicKey: filepath.Join(appDir, "keys", "perms.pub.pem")})
	var health map[string]any
	if code := getJSON(t, mediaBase+"/health", &health); code != http.StatusOK || health["role"] != "media" {
		t.Fatalf("media /health: %d %v", code, health)
	}
	if code := getJSON(t, mediaBase+"/api/v1/meta", nil); code != http.StatusNotFound {
		t.Fatalf("a media node serves the API: %d", code)
	}

	_, appBase := serveFor(t, Config{Role: RoleApp, Addr: "127.0.0.1:0", DataDir: appDir, MediaURL: mediaBase})
	if code := getJSON(t, appBase+"/media/meta", nil); code == http.StatusOK {
		t.Fatal("an app node serves /media/meta")
	}
	host, port, hubID, token := getHost(t, appBase)
	if want := strings.TrimPrefix(mediaBase, "http://"); net.JoinHostPort(host, strconv.Itoa(port)) != want {
		t.Fatalf("get_host %s:%d, want the media node %s", host, port, want)
	}
	if code := mediaJoin(t, mediaBase, hubID, token); code != "" {
		t.Fatalf("media join with the app's token: %s", code)
	}
	// Each node reports what it runs: the media node its SFU and process, the app node its rooms.
	for _, tc := range []struct {
		base       string
		want, lack []string
	}{
		{mediaBase, []string{"toncon_build_info{", "toncon_media_peers ", "toncon_media_forwarded_packets_total ", "process_cpu_seconds_total "}, []string{"toncon_sessions"}},
		{appBase, []string{"toncon_build_info{", "toncon_sessions{", "process_cpu_seconds_total "}, []string{"toncon_media_"}},
	} {
		text := getText(t, tc.base+"/metrics")
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s/metrics lacks %q", tc.base, w)
			}
		}
		for _, l := range tc.lack {
			if strings.Contains(text, l) {
				t.Errorf("%s/metrics has %q", tc.base, l)
			}
		}
	}
	var view struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	}
	if code := getJSON(t, appBase+"/api/v1/hubs/"+hubID, &view); code != http.StatusOK || view.Host != host || view.Port != port {
		t.Fatalf("the HUB JSON's media host is %s:%d, want %s:%d as get_host", view.Host, view.Port, host, port)
	}
}

func TestRoleFlagsAreChecked(t *testing.T) {
	for _, cfg := range []Config{
		{Role: "sfu"},
		{Role: RoleApp},
		{Role: RoleMedia},
		{MediaURL: "https://media.example.org"},
	} {
		cfg.Addr, cfg.DataDir = "127.0.0.1:0", t.TempDir()
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("%+v started", cfg)
		}
	}
}
