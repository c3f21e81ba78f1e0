package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"toncon/internal/auth"
	"toncon/internal/hub"
	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

type fixture struct {
	srv   *httptest.Server
	store store.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/toncon.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, _, err := auth.LoadOrCreateKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	public := &url.URL{Scheme: "https", Host: "events.example.org"}
	hubs, err := hub.New(hub.Config{Store: db, Keys: keys, PublicURL: public})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{Store: db, Hubs: hubs, PublicURL: public}))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: db}
}

func (f *fixture) do(t *testing.T, method, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q, body %s", method, path, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %s is not JSON: %v", method, path, raw, err)
	}
	return resp.StatusCode, m
}

func TestCreateAndGetHub(t *testing.T) {
	f := newFixture(t)
	status, m := f.do(t, "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"  Team Meeting!  "}}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	sid := m["hub_id"].(string)
	if len(sid) != 7 || m["url"] != "https://events.example.org/"+sid+"/team-meeting" || len(m["creator_assignment_token"].(string)) != 32 {
		t.Fatalf("create response %v", m)
	}
	stored, err := f.store.GetHub(context.Background(), store.HubSID(sid))
	if err != nil || stored.Name != "Team Meeting!" || stored.RoomSize != 24 || stored.MemberPermissions != store.PermRestrictiveDefault {
		t.Fatalf("stored %+v %v", stored, err)
	}
	status, m = f.do(t, "GET", "/api/v1/hubs/"+sid, "", "")
	if status != 200 || m["hub_id"] != sid || m["name"] != "Team Meeting!" || m["member_count"] != 0.0 ||
		m["lobby_count"] != 0.0 || m["entry_mode"] != "allow" || m["scene"] != nil || m["host"] != "events.example.org" || m["port"] != 443.0 {
		t.Fatalf("get: %d %v", status, m)
	}
	if len(m["member_permissions"].(map[string]any)) != 8 {
		t.Fatalf("member_permissions %v", m["member_permissions"])
	}
}

func TestCreateHubWithSampleScene(t *testing.T) {
	f := newFixture(t)
	status, m := f.do(t, "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"Sampled","scene_id":"sample:spoke-dev_reticulum-test-fixture"}}`)
	if status != 201 {
		t.Fatalf("%d %v", status, m)
	}
	_, m = f.do(t, "GET", "/api/v1/hubs/"+m["hub_id"].(string), "", "")
	scene := m["scene"].(map[string]any)
	if scene["scene_id"] != "sample:spoke-dev_reticulum-test-fixture" || scene["model_url"] != "https://events.example.org/samples/spoke-dev_reticulum-test-fixture.glb" {
		t.Fatalf("scene %v", scene)
	}
}

func TestCreateHubUsesSiteSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for k, v := range map[string]string{"permissive_rooms": "true", "default_room_size": "30"} {
		if err := f.store.SetSiteSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	_, m := f.do(t, "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"Open house"}}`)
	h, err := f.store.GetHub(ctx, store.HubSID(m["hub_id"].(string)))
	if err != nil || h.RoomSize != 30 || h.MemberPermissions != store.PermAll {
		t.Fatalf("%+v %v", h, err)
	}
	if err := f.store.SetSiteSetting(ctx, "disable_room_creation", "true"); err != nil {
		t.Fatal(err)
	}
	status, m := f.do(t, "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"Nope"}}`)
	if status != http.StatusForbidden || m["error"] != "room_creation_disabled" {
		t.Fatalf("%d %v", status, m)
	}
}

func TestAPIErrors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, method, path, ct, body string
		status                       int
		code                         string
	}{
		{"not json", "POST", "/api/v1/hubs", "application/json", `{"hub":`, 400, "bad_request"},
		{"no hub", "POST", "/api/v1/hubs", "application/json", `{}`, 422, "invalid_hub"},
		{"no name", "POST", "/api/v1/hubs", "application/json", `{"hub":{}}`, 422, "invalid_hub"},
		{"blank name", "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"   "}}`, 422, "invalid_hub"},
		{"long name", "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"` + strings.Repeat("n", 65) + `"}}`, 422, "invalid_hub"},
		{"name not a string", "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":5}}`, 400, "bad_request"},
		{"long description", "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"x","description":"` + strings.Repeat("d", 64001) + `"}}`, 422, "invalid_hub"},
		{"huge body", "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"` + strings.Repeat("x", 70000) + `"}}`, 413, "too_large"},
		{"form body", "POST", "/api/v1/hubs", "application/x-www-form-urlencoded", `name=x`, 415, "unsupported_media_type"},
		{"unknown scene", "POST", "/api/v1/hubs", "application/json", `{"hub":{"name":"x","scene_id":"sample:../../etc/passwd"}}`, 422, "invalid_hub"},
		{"unknown hub", "GET", "/api/v1/hubs/Zzzzzzz", "", "", 404, "not_found"},
		{"bad sid", "GET", "/api/v1/hubs/..%2F..", "", "", 404, "not_found"},
		{"unknown endpoint", "GET", "/api/v1/nothing", "", "", 404, "not_found"},
		{"wrong method", "DELETE", "/api/v1/hubs", "", "", 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, m := f.do(t, tc.method, tc.path, tc.ct, tc.body)
			if status != tc.status || m["error"] != tc.code || m["message"] == "" {
				t.Fatalf("%d %v, want %d %s with a message", status, m, tc.status, tc.code)
			}
		})
	}
}

func TestMetaAndHealth(t *testing.T) {
	f := newFixture(t)
	status, m := f.do(t, "GET", "/api/v1/meta", "", "")
	if status != 200 || m["phx_host"] != "events.example.org" || m["phx_port"] != "443" || m["version"] == "" {
		t.Fatalf("meta %d %v", status, m)
	}
	status, m = f.do(t, "GET", "/health", "", "")
	if status != 200 || m["status"] != "ok" || m["rooms"] != 0.0 {
		t.Fatalf("health %d %v", status, m)
	}
	f.store.Close()
	status, m = f.do(t, "GET", "/health", "", "")
	if status != http.StatusServiceUnavailable || m["status"] != "unavailable" {
		t.Fatalf("health with the database closed: %d %v", status, m)
	}
}

func TestCostPlanner(t *testing.T) {
	f := newFixture(t)
	status, m := f.do(t, "GET", "/api/v1/cost/charts", "", "")
	if status != 200 || len(m["charts"].([]any)) != 4 || m["measured"] != false || m["formula"] == "" {
		t.Fatalf("charts: %d %v", status, m)
	}
	status, m = f.do(t, "POST", "/api/v1/cost/estimate", "application/json",
		`{"ccu":500,"activity":"inactive","hours_per_day":4,"days":2,"setup_hours":16,"topology":"2x2","server":"c5.xlarge"}`)
	if status != 200 {
		t.Fatalf("estimate: %d %v", status, m)
	}
	fig := m["figures"].(map[string]any)
	if fig["top_capacity_min"] != 25.92 || fig["top_capacity_max"] != 43.2 {
		t.Fatalf("figures %v", fig)
	}
	if seed := m["seed_method"].(map[string]any)["figures"].(map[string]any); seed["top_capacity_min"] != 103.68 {
		t.Fatalf("seed method %v", seed)
	}
	for _, body := range []string{
		`{"ccu":500,"hours_per_day":-4}`,
		`{"ccu":500,"hours_per_day":4,"server":"c9.gigantic"}`,
		`{"ccu":500,"hours_per_day":4,"activity":"dancing"}`,
		`{"ccu":10000000,"hours_per_day":4}`,
		`{"ccu":50,"hours_per_day":4,"measured":true}`,
	} {
		status, m := f.do(t, "POST", "/api/v1/cost/estimate", "application/json", body)
		if status != 422 || m["error"] != "invalid_plan" || m["message"] == "" {
			t.Errorf("%s: %d %v", body, status, m)
		}
	}
}
