package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"toncon/internal/store"
)

func TestScenes(t *testing.T) {
	l := newLibrary(t)
	_, adminTok := l.signIn(t, "admin@example.org")
	ada, adaTok := l.signIn(t, "ada@example.org")
	_, bobTok := l.signIn(t, "bob@example.org")
	f := l.upload(t, sample(t, "spoke-early_loading-environment_HUBS_components.glb"), "hall.glb")

	// The built-in samples are listed, the avatar sample is not among them.
	_, list := l.call(t, "GET", "/api/v1/scenes", "", nil)
	if got := strings.Join(ids(list, "scenes", "scene_id"), ","); got != "sample:spoke-dev_reticulum-test-fixture,sample:spoke-early_loading-environment_HUBS_components" {
		t.Fatalf("built-in scenes %s", got)
	}

	body := map[string]any{"scene": map[string]any{"name": "Great Hall", "description": "Where we meet",
		"attributions": "Hall by Ada (CC-BY 4.0)", "allow_remixing": true, "file_id": f.ID, "file_access_token": f.AccessToken}}
	if status, m := l.call(t, "POST", "/api/v1/scenes", "", body); status != 401 {
		t.Fatalf("anonymous create: %d %v", status, m)
	}
	status, m := l.call(t, "POST", "/api/v1/scenes", adaTok, body)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	sc := first(t, m, "scenes")
	sid := sc["scene_id"].(string)
	if !store.SceneSID(sid).Valid() || sc["name"] != "Great Hall" || sc["description"] != "Where we meet" ||
		sc["attributions"] != "Hall by Ada (CC-BY 4.0)" || sc["allow_remixing"] != true || sc["type"] != "scene" ||
		sc["model_url"] != "https://events.example.org/files/"+string(f.ID)+".glb" ||
		sc["url"] != "https://events.example.org/scenes/"+sid || sc["account_id"] != fmt.Sprint(ada.ID) {
		t.Fatalf("scene %v", sc)
	}
	if refs, _ := l.store.FileRefs(context.Background(), f.ID); len(refs) != 1 || refs[0] != "scene:"+sid {
		t.Fatalf("file refs %v", refs)
	}
	_, list = l.call(t, "GET", "/api/v1/scenes", "", nil)
	if got := ids(list, "scenes", "scene_id"); len(got) != 3 || got[2] != sid {
		t.Fatalf("list after create %v", got)
	}
	if status, one := l.call(t, "GET", "/api/v1/scenes/"+sid, "", nil); status != 200 || first(t, one, "scenes")["name"] != "Great Hall" {
		t.Fatalf("get: %d %v", status, one)
	}
	if status, one := l.call(t, "GET", "/api/v1/scenes/sample:spoke-dev_reticulum-test-fixture", "", nil); status != 200 ||
		first(t, one, "scenes")["model_url"] != "https://events.example.org/samples/spoke-dev_reticulum-test-fixture.glb" {
		t.Fatalf("get sample: %d %v", status, one)
	}

	// Refusals: a file that is not a glb, someone else's upload token, a name too long.
	png := l.upload(t, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"+
		"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"), "a.png")
	for name, bad := range map[string]map[string]any{
		"png":         {"name": "P", "file_id": png.ID, "file_access_token": png.AccessToken},
		"wrong token": {"name": "P", "file_id": f.ID, "file_access_token": "nope"},
		"long name":   {"name": strings.Repeat("n", 65), "file_id": f.ID, "file_access_token": f.AccessToken},
		"long attr":   {"name": "P", "attributions": strings.Repeat("a", store.MaxAttributionsLen+1), "file_id": f.ID, "file_access_token": f.AccessToken},
	} {
		if status, m := l.call(t, "POST", "/api/v1/scenes", adaTok, map[string]any{"scene": bad}); status != 422 || m["message"] == "" {
			t.Errorf("%s: %d %v, want 422 with a message", name, status, m)
		}
	}

	// PATCH: not by Bob; by Ada, with a new file, which is kept while the old one is released.
	if status, _ := l.call(t, "PATCH", "/api/v1/scenes/"+sid, bobTok, map[string]any{"scene": map[string]any{"name": "Mine"}}); status != 403 {
		t.Fatalf("Bob changed Ada's scene: %d", status)
	}
	f2 := l.upload(t, sample(t, "spoke-dev_reticulum-test-fixture.glb"), "hall2.glb")
	// A file token with no file_id is refused, as for avatars, rather than ignored while the rest applies.
	status, m = l.call(t, "PATCH", "/api/v1/scenes/"+sid, adaTok, map[string]any{"scene": map[string]any{
		"name": "Ignored", "file_access_token": f2.AccessToken}})
	if msg, _ := m["message"].(string); status != 422 || m["error"] != "invalid_file" || !strings.Contains(msg, "file_id") {
		t.Fatalf("token without file: %d %v", status, m)
	}
	if got, _ := l.store.GetScene(context.Background(), store.SceneSID(sid)); got.Name != "Great Hall" || got.FileID != f.ID {
		t.Fatalf("a refused patch changed the scene: %+v", got)
	}
	status, m = l.call(t, "PATCH", "/api/v1/scenes/"+sid, adaTok, map[string]any{"scene": map[string]any{
		"description": "", "allow_remixing": false, "file_id": f2.ID, "file_access_token": f2.AccessToken}})
	if status != 200 {
		t.Fatalf("patch: %d %v", status, m)
	}
	sc = first(t, m, "scenes")
	if sc["name"] != "Great Hall" || sc["description"] != "" || sc["allow_remixing"] != false ||
		sc["model_url"] != "https://events.example.org/files/"+string(f2.ID)+".glb" {
		t.Fatalf("patched %v", sc)
	}
	if got, _ := l.files.Get(context.Background(), f.ID); got.Kept() {
		t.Fatal("the replaced file is still kept")
	}
	if got, _ := l.files.Get(context.Background(), f2.ID); !got.Kept() {
		t.Fatal("the new file is not kept")
	}
	if status, m := l.call(t, "PATCH", "/api/v1/scenes/"+sid, adminTok, map[string]any{"scene": map[string]any{"name": "Admin's pick"}}); status != 200 || first(t, m, "scenes")["name"] != "Admin's pick" {
		t.Fatalf("admin patch: %d %v", status, m)
	}
	if status, _ := l.call(t, "PATCH", "/api/v1/scenes/ZZZZZZZ", adaTok, map[string]any{"scene": map[string]any{"name": "x"}}); status != 404 {
		t.Fatalf("patch unknown: %d", status)
	}

	// A room made with the uploaded scene; its HUB JSON gives the scene's model.
	status, m = l.call(t, "POST", "/api/v1/hubs", "", map[string]any{"hub": map[string]any{"name": "Meet", "scene_id": sid}})
	if status != 201 {
		t.Fatalf("create hub with scene: %d %v", status, m)
	}
	_, view := l.call(t, "GET", "/api/v1/hubs/"+m["hub_id"].(string), "", nil)
	scene, _ := view["scene"].(map[string]any)
	if scene == nil || scene["scene_id"] != sid || scene["name"] != "Admin's pick" || scene["model_url"] != "https://events.example.org/files/"+string(f2.ID)+".glb" {
		t.Fatalf("hub scene %v", view["scene"])
	}
	if status, m := l.call(t, "POST", "/api/v1/hubs", "", map[string]any{"hub": map[string]any{"name": "Meet", "scene_id": "ZZZZZZZ"}}); status != 422 || !strings.Contains(m["message"].(string), "ZZZZZZZ") {
		t.Fatalf("create hub with unknown scene: %d %v", status, m)
	}
}
