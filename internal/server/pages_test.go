package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWebRoutes(t *testing.T) {
	app, err := newWebApp(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, home := get("/")
	if resp.StatusCode != 200 || !strings.Contains(home, "/src/home/") && !strings.Contains(home, "/assets/home-") {
		t.Fatalf("home: %d %s", resp.StatusCode, home)
	}
	if resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("home cache-control %q", resp.Header.Get("Cache-Control"))
	}
	for _, p := range []string{"/abcDEF2", "/abcDEF2/", "/abcDEF2/my-room"} {
		resp, body := get(p)
		if resp.StatusCode != 200 || !strings.Contains(body, "/assets/hub-") {
			t.Errorf("%s: %d, want the room page", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/nope", "/abcDEF2/a/b", "/abc0DEF", "/assets/missing.js", "/samples/missing.glb"} {
		if resp, _ := get(p); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	// An asset named in the room page is served and cached for good.
	_, room := get("/abcDEF2")
	i := strings.Index(room, "/assets/hub-")
	asset := room[i : i+strings.Index(room[i:], `"`)]
	resp, _ = get(asset)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("%s: %d %q", asset, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, body := get("/samples/spoke-early_loading-environment_HUBS_components.glb")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "model/gltf-binary" || !strings.HasPrefix(body, "glTF") {
		t.Fatalf("sample: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	req, _ := http.NewRequest("POST", srv.URL+"/", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Fatalf("POST /: %v %v", resp.StatusCode, err)
	}
}
