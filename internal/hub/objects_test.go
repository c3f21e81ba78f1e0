package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"toncon/internal/store"
	"toncon/internal/uploads"
)

// filesEnv is a hub env whose pins keep files through a real uploads service on the same database.
func filesEnv(t *testing.T, tweaks ...func(*Config)) (*env, *uploads.Service) {
	t.Helper()
	var files *uploads.Service
	e := newEnv(t, func(c *Config) {
		for _, tweak := range tweaks {
			tweak(c)
		}
		dir := filepath.Join(t.TempDir(), "files")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		files, err = uploads.New(uploads.Config{Store: c.Store, Dir: dir, PublicURL: c.PublicURL, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		c.Files = files
	})
	return e, files
}

func samplePNG(t *testing.T) []byte {
	t.Helper()
	// The smallest PNG: signature, IHDR for 1x1, IDAT, IEND.
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
		"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
	return b
}

func upload(t *testing.T, files *uploads.Service, data []byte, name string) store.File {
	t.Helper()
	f, err := files.Put(t.Context(), bytes.NewReader(data), name, 0)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return f
}

func gltfNode(id string, x float64, src string) map[string]any {
	return map[string]any{"name": id, "translation": []float64{x, 1.25, -3}, "rotation": []float64{0, 0.7071068, 0, 0.7071068},
		"scale": []float64{2, 2, 2}, "extensions": map[string]any{"HUBS_components": map[string]any{
			"media":    map[string]any{"src": src, "id": id, "contentType": "image/png"},
			"pinnable": map[string]any{"pinned": true}}}}
}

func refsOf(t *testing.T, s store.Store, id store.FileID) []string {
	t.Helper()
	refs, err := s.FileRefs(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// pinnerRoom is a room where members may move media and pin, with Ada signed in and Bob a guest watching.
func pinnerRoom(t *testing.T, e *env) (store.Hub, *peer, *peer) {
	t.Helper()
	h := e.createHub(func(h *store.Hub) {
		h.MemberPermissions = store.PermSpawnAndMoveMedia | store.PermPinObjects | store.PermVoiceChat | store.PermTextChat
	})
	e.account(t, "admin@example.org") // the first account is the admin; Ada is an ordinary member
	_, tok := e.account(t, "ada@example.org")
	a, b := e.peer("ada"), e.peer("bob")
	a.mustJoin(h.SID, "Ada")
	b.mustJoin(h.SID, "Bob")
	if status, resp := a.request("sign_in", map[string]any{"token": tok}); status != "ok" {
		t.Fatalf("sign_in: %v", resp)
	}
	return h, a, b
}

func TestPinKeepsTheObjectAndItsFile(t *testing.T) {
	e, files := filesEnv(t)
	h, a, b := pinnerRoom(t, e)
	f := upload(t, files, samplePNG(t), "dot.png")
	a.push("naf", avatarFirstSync("obj1", "#toncon-media"))
	b.take("naf")

	node := gltfNode("obj1", 1.5, "https://localhost:4000/files/"+string(f.ID)+".png")
	status, resp := a.request("pin", map[string]any{"id": "obj1", "gltf_node": node, "file_id": f.ID, "file_access_token": f.AccessToken})
	if status != "ok" || len(resp) != 0 {
		t.Fatalf("pin: %s %v", status, resp)
	}
	for _, p := range []*peer{a, b} { // everyone hears of it, the pinner too
		got := p.take("pin")
		if len(got) != 1 {
			t.Fatalf("%d pin broadcasts", len(got))
		}
		m := decode(t, got[0].Payload)
		if m["object_id"] != "obj1" || m["pinned_by"] != "ada" || m["gltf_node"].(map[string]any)["translation"].([]any)[0] != 1.5 {
			t.Fatalf("pin broadcast %v", m)
		}
	}
	objs, err := e.store.RoomObjects(t.Context(), h.SID)
	if err != nil || len(objs) != 1 || objs[0].FileID != f.ID || objs[0].AccountID == 0 {
		t.Fatalf("stored pins: %+v %v", objs, err)
	}
	if refs := refsOf(t, e.store, f.ID); len(refs) != 1 || refs[0] != "pin:"+string(h.SID)+":obj1" {
		t.Fatalf("file refs after pin: %v", refs)
	}
	// Moving it and pinning again without the file fields keeps the file.
	node["translation"] = []float64{4, 0, 0}
	if status, resp := a.request("pin", map[string]any{"id": "obj1", "gltf_node": node}); status != "ok" {
		t.Fatalf("re-pin: %v", resp)
	}
	if objs, _ := e.store.RoomObjects(t.Context(), h.SID); objs[0].FileID != f.ID || !strings.Contains(string(objs[0].GLTFNode), "[4,0,0]") {
		t.Fatalf("after re-pin: %+v", objs[0])
	}
	if got, _ := files.Get(t.Context(), f.ID); !got.Kept() {
		t.Fatal("re-pin without the file fields let the file go")
	}

	// A pinned object stays when its owner leaves: the others are not told to remove it.
	a.push("naf", avatarFirstSync("av-ada", "#remote-avatar"))
	b.take("naf")
	a.sock.EndLocal()
	for _, m := range b.take("naf") {
		if d := decode(t, m.Payload); d["dataType"] == "r" && d["data"].(map[string]any)["networkId"] == "obj1" {
			t.Fatal("the pinned object was removed when its owner left")
		}
	}

	// Bob signs in and unpins it: the row goes, the file is released (it expires later), everyone hears.
	_, bobTok := e.account(t, "bob@example.org")
	if status, resp := b.request("sign_in", map[string]any{"token": bobTok}); status != "ok" {
		t.Fatalf("bob sign_in: %v", resp)
	}
	if status, resp := b.request("unpin", map[string]any{"id": "obj1"}); status != "ok" {
		t.Fatalf("unpin: %v", resp)
	}
	got := b.take("unpin")
	if len(got) != 1 || decode(t, got[0].Payload)["unpinned_by"] != "bob" || decode(t, got[0].Payload)["object_id"] != "obj1" {
		t.Fatalf("unpin broadcast %v", got)
	}
	if objs, _ := e.store.RoomObjects(t.Context(), h.SID); len(objs) != 0 {
		t.Fatalf("unpinned object still stored: %+v", objs)
	}
	if refs := refsOf(t, e.store, f.ID); len(refs) != 0 {
		t.Fatalf("file still kept by %v", refs)
	}
	if got, _ := files.Get(t.Context(), f.ID); got.Kept() || got.ExpiresAt.IsZero() {
		t.Fatalf("released file: %+v", got)
	}
	if status, resp := b.request("unpin", map[string]any{"id": "obj1"}); status != "error" || resp["reason"] != "not_found" {
		t.Fatalf("second unpin: %s %v", status, resp)
	}
	// The unpinned object now belongs to Bob, so it leaves with him.
	c := e.peer("cy")
	c.mustJoin(h.SID, "Cy")
	b.sock.EndLocal()
	removed := false
	for _, m := range c.take("naf") {
		if d := decode(t, m.Payload); d["dataType"] == "r" && d["data"].(map[string]any)["networkId"] == "obj1" {
			removed = true
		}
	}
	if !removed {
		t.Fatal("an unpinned object stayed after the one who unpinned it left")
	}
}

func TestPinRefusals(t *testing.T) {
	e, files := filesEnv(t)
	h, a, b := pinnerRoom(t, e)
	f := upload(t, files, samplePNG(t), "dot.png")
	node := gltfNode("o", 0, "x")

	// Not signed in: Bob has pin_objects but no account.
	if status, resp := b.request("pin", map[string]any{"id": "o", "gltf_node": node}); status != "error" || resp["reason"] != "not_signed_in" {
		t.Fatalf("guest pin: %s %v", status, resp)
	}
	if status, resp := b.request("unpin", map[string]any{"id": "o"}); status != "error" || resp["reason"] != "not_signed_in" {
		t.Fatalf("guest unpin: %s %v", status, resp)
	}
	big := map[string]any{"name": "o", "extras": strings.Repeat("x", store.MaxGLTFNodeBytes)}
	for _, tc := range []struct {
		name    string
		payload any
		reason  string
	}{
		{"no id", map[string]any{"gltf_node": node}, "bad_request"},
		{"no node", map[string]any{"id": "o"}, "bad_request"},
		{"node is a string", map[string]any{"id": "o", "gltf_node": "translate me"}, "bad_request"},
		{"node is an array", map[string]any{"id": "o", "gltf_node": []int{1}}, "bad_request"},
		{"node too big", map[string]any{"id": "o", "gltf_node": big}, "bad_request"},
		{"id with a slash", map[string]any{"id": "a/b", "gltf_node": node}, "bad_request"},
		{"unknown file", map[string]any{"id": "o", "gltf_node": node, "file_id": string(store.NewFileID()), "file_access_token": "x"}, "invalid_file"},
		{"wrong token", map[string]any{"id": "o", "gltf_node": node, "file_id": f.ID, "file_access_token": "not-it"}, "invalid_file"},
		{"no token", map[string]any{"id": "o", "gltf_node": node, "file_id": f.ID}, "invalid_file"},
		{"malformed file id", map[string]any{"id": "o", "gltf_node": node, "file_id": "../../etc/passwd", "file_access_token": "x"}, "bad_request"},
	} {
		status, resp := a.request("pin", tc.payload)
		if status != "error" || resp["reason"] != tc.reason || resp["message"] == "" {
			t.Errorf("%s: %s %v, want error %s with a message", tc.name, status, resp, tc.reason)
		}
	}
	if objs, _ := e.store.RoomObjects(t.Context(), h.SID); len(objs) != 0 {
		t.Fatalf("refused pins stored %+v", objs)
	}
	if got, _ := files.Get(t.Context(), f.ID); got.Kept() {
		t.Fatal("a refused pin kept the file")
	}
	if n := len(b.take("pin")); n != 0 {
		t.Fatalf("refused pins were broadcast %d times", n)
	}

	// Without pin_objects in the room, a signed-in member is refused.
	perms := store.PermSpawnAndMoveMedia | store.PermVoiceChat
	if _, err := e.store.UpdateHub(context.Background(), h.SID, store.HubUpdate{MemberPermissions: &perms}); err != nil {
		t.Fatal(err)
	}
	e.svc.refreshHub(context.Background(), h.SID)
	if status, resp := a.request("pin", map[string]any{"id": "o", "gltf_node": node}); status != "error" || resp["reason"] != "unauthorized" {
		t.Fatalf("pin without pin_objects: %s %v", status, resp)
	}
	if status, resp := a.request("unpin", map[string]any{"id": "o"}); status != "error" || resp["reason"] != "unauthorized" {
		t.Fatalf("unpin without pin_objects: %s %v", status, resp)
	}
}

// A room loaded after everyone left (or after a restart) knows its pinned objects: someone with pin_objects may
// take one over and move it; someone without may not.
func TestPinnedObjectsComeBackWithTheRoom(t *testing.T) {
	e := newEnv(t, nil)
	h, a, b := pinnerRoom(t, e)
	if status, resp := a.request("pin", map[string]any{"id": "kept", "gltf_node": gltfNode("kept", 3, "https://example.org/a.png")}); status != "ok" {
		t.Fatalf("pin: %v", resp)
	}
	a.sock.EndLocal()
	b.sock.EndLocal()
	if m, l := e.svc.Occupancy(h.SID); m+l != 0 {
		t.Fatal("room still live")
	}
	doc, err := e.svc.ObjectsGLTF(t.Context(), h.SID)
	if err != nil {
		t.Fatal(err)
	}
	var gltf struct {
		Asset  struct{ Version string }
		Scene  int
		Scenes []struct{ Nodes []int }
		Nodes  []map[string]any
	}
	if err := json.Unmarshal(doc, &gltf); err != nil || gltf.Asset.Version != "2.0" || len(gltf.Scenes) != 1 ||
		len(gltf.Scenes[0].Nodes) != 1 || len(gltf.Nodes) != 1 || gltf.Nodes[0]["name"] != "kept" {
		t.Fatalf("objects.gltf %s (%v)", doc, err)
	}

	c, d := e.peer("cy"), e.peer("di")
	c.mustJoin(h.SID, "Cy")
	d.mustJoin(h.SID, "Di")
	// Cy may move media and pin (the room's member bits): taking the scene-owned object over is relayed.
	c.push("naf", update("kept", "cy", 5))
	if !relayed(d) {
		t.Fatal("taking over a pinned object with pin_objects was dropped")
	}
	// Without pin_objects, Di may not take it back.
	perms := store.PermSpawnAndMoveMedia | store.PermVoiceChat
	if _, err := e.store.UpdateHub(context.Background(), h.SID, store.HubUpdate{MemberPermissions: &perms}); err != nil {
		t.Fatal(err)
	}
	e.svc.refreshHub(context.Background(), h.SID)
	d.push("naf", update("kept", "di", 9))
	if relayed(c) {
		t.Fatal("someone without pin_objects took over a pinned object")
	}
}

func TestUpdateScene(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	owner, guest := e.peer("owner"), e.peer("guest")
	owner.mustJoin(h.SID, "Olga")
	guest.mustJoin(h.SID, "Gus")
	e.makeOwner(t, h.SID, "owner")
	acct, _ := e.account(t, "maker@example.org")
	sc, err := e.store.CreateScene(t.Context(), store.Scene{Name: "Atrium", FileID: store.NewFileID(), AccountID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}

	if status, resp := guest.request("update_scene", map[string]any{"url": "sample:spoke-dev_reticulum-test-fixture"}); status != "error" || resp["reason"] != "forbidden" {
		t.Fatalf("guest update_scene: %s %v", status, resp)
	}
	for _, bad := range []map[string]any{
		{}, {"url": ""}, {"url": "sample:nope"}, {"url": "ftp://example.org/a.glb"}, {"url": "http://example.org/a.glb"},
		{"url": "ZZZZZZZ"}, {"url": "https://localhost:4000/scenes/ZZZZZZZ"}, {"url": "not a url at all"},
		{"url": "https://example.org/" + strings.Repeat("a", maxSceneURL)},
	} {
		if status, resp := owner.request("update_scene", bad); status != "error" || resp["message"] == "" {
			t.Errorf("update_scene %v: %s %v, want an error with a message", bad, status, resp)
		}
	}
	if n := len(guest.take("hub_refresh")); n != 0 {
		t.Fatalf("refused scene changes were broadcast %d times", n)
	}
	public := &url.URL{Scheme: "https", Host: "localhost:4000"}
	for _, tc := range []struct {
		url, sceneID, model string
	}{
		{"sample:spoke-dev_reticulum-test-fixture", "sample:spoke-dev_reticulum-test-fixture", "https://localhost:4000/samples/spoke-dev_reticulum-test-fixture.glb"},
		{string(sc.SID), string(sc.SID), SceneModelURL(public, sc)},
		{"https://localhost:4000/scenes/" + string(sc.SID) + "/atrium", string(sc.SID), "https://localhost:4000/files/" + string(sc.FileID) + ".glb"},
		{"https://localhost:4000/samples/spoke-early_loading-environment_HUBS_components.glb", "sample:spoke-early_loading-environment_HUBS_components", "https://localhost:4000/samples/spoke-early_loading-environment_HUBS_components.glb"},
		{"https://cdn.example.org/worlds/island.glb?v=2", "", "https://cdn.example.org/worlds/island.glb?v=2"},
	} {
		if status, resp := owner.request("update_scene", map[string]any{"url": tc.url}); status != "ok" {
			t.Fatalf("update_scene %s: %v", tc.url, resp)
		}
		got := guest.take("hub_refresh")
		if len(got) != 1 {
			t.Fatalf("%s: %d hub_refresh", tc.url, len(got))
		}
		r := decode(t, got[0].Payload)
		stale := r["stale_fields"].([]any)
		scene, _ := r["hubs"].([]any)[0].(map[string]any)["scene"].(map[string]any)
		if len(stale) != 1 || stale[0] != "scene" || r["session_id"] != "owner" || scene == nil ||
			scene["scene_id"] != tc.sceneID || scene["model_url"] != tc.model {
			t.Fatalf("%s: hub_refresh %v", tc.url, r)
		}
	}
	// {scene_id} is the other spelling protocol.md gives.
	if status, resp := owner.request("update_scene", map[string]any{"scene_id": "sample:spoke-dev_reticulum-test-fixture"}); status != "ok" {
		t.Fatalf("update_scene {scene_id}: %v", resp)
	}
	if got, _ := e.store.GetHub(t.Context(), h.SID); got.SceneRef != "sample:spoke-dev_reticulum-test-fixture" {
		t.Fatalf("update_scene {scene_id} set %q", got.SceneRef)
	}
	// A newcomer's join reply shows the uploaded scene with its name and model.
	if _, err := e.store.UpdateHub(t.Context(), h.SID, store.HubUpdate{SceneRef: ptr(string(sc.SID))}); err != nil {
		t.Fatal(err)
	}
	resp := e.peer("new").mustJoin(h.SID, "Nia")
	scene := resp["hubs"].([]any)[0].(map[string]any)["scene"].(map[string]any)
	if scene["name"] != "Atrium" || scene["model_url"] != SceneModelURL(public, sc) || scene["url"] != "https://localhost:4000/scenes/"+string(sc.SID) {
		t.Fatalf("join reply scene %v", scene)
	}
}

// Two pins of one object racing, one resending the file it shows and one giving it another: whichever lands
// last, the object's file is kept under its ref and the other is not (a file's refs are a set, so without pins
// running one at a time the second's release of the old file could undo the first's keep of it).
func TestPinRacesAResend(t *testing.T) {
	e, files := filesEnv(t)
	h, a, b := pinnerRoom(t, e)
	_, bobTok := e.account(t, "bob@example.org")
	if status, resp := b.request("sign_in", map[string]any{"token": bobTok}); status != "ok" {
		t.Fatalf("bob sign_in: %v", resp)
	}
	a.push("naf", avatarFirstSync("obj1", "#toncon-media"))
	pin := func(f store.File) map[string]any {
		return map[string]any{"id": "obj1", "gltf_node": gltfNode("obj1", 1, "/files/"+string(f.ID)+".png"),
			"file_id": f.ID, "file_access_token": f.AccessToken}
	}
	png := func(i int) []byte { return append(samplePNG(t), byte(i)) }
	cur := upload(t, files, png(0), "first.png")
	if status, resp := a.request("pin", pin(cur)); status != "ok" {
		t.Fatalf("pin: %v", resp)
	}
	ref := "pin:" + string(h.SID) + ":obj1"
	for round := 1; round <= 30; round++ {
		other := upload(t, files, png(round), "other.png")
		done := make(chan string, 2)
		go func() { status, _ := a.request("pin", pin(cur)); done <- status }()
		go func() { status, _ := b.request("pin", pin(other)); done <- status }()
		for range 2 {
			if status := <-done; status != "ok" {
				t.Fatalf("round %d: a racing pin answered %s", round, status)
			}
		}
		objs, err := e.store.RoomObjects(t.Context(), h.SID)
		if err != nil || len(objs) != 1 {
			t.Fatalf("round %d: %+v %v", round, objs, err)
		}
		for _, f := range []store.File{cur, other} {
			want := []string(nil)
			if f.ID == objs[0].FileID {
				want = []string{ref}
			}
			if refs := refsOf(t, e.store, f.ID); !slices.Equal(refs, want) {
				t.Errorf("round %d: %s has refs %v, want %v (the object shows %s)", round, f.ID, refs, want, objs[0].FileID)
			}
		}
		if objs[0].FileID == other.ID {
			cur = other
		}
	}
}

// failingPins is a store whose PinObject fails while fail is set, as a database might.
type failingPins struct {
	store.Store
	fail atomic.Bool
}

func (f *failingPins) PinObject(ctx context.Context, o store.RoomObject) (store.RoomObject, bool, error) {
	if f.fail.Load() {
		return store.RoomObject{}, false, errors.New("database is locked")
	}
	return f.Store.PinObject(ctx, o)
}

// TestFailedRePinKeepsTheFile: when pinning an already pinned object again with its own file fails in the store,
// the stored object still shows that file, so the file stays kept; a new file sent with a failed pin is let go.
func TestFailedRePinKeepsTheFile(t *testing.T) {
	pins := &failingPins{}
	e, files := filesEnv(t, func(c *Config) { pins.Store = c.Store; c.Store = pins })
	h, a, _ := pinnerRoom(t, e)
	a.push("naf", avatarFirstSync("obj1", "#toncon-media"))
	pin := func(f store.File) map[string]any {
		return map[string]any{"id": "obj1", "gltf_node": gltfNode("obj1", 1, "/files/"+string(f.ID)+".png"),
			"file_id": f.ID, "file_access_token": f.AccessToken}
	}
	cur := upload(t, files, samplePNG(t), "first.png")
	if status, resp := a.request("pin", pin(cur)); status != "ok" {
		t.Fatalf("pin: %v", resp)
	}
	other := upload(t, files, append(samplePNG(t), 1), "other.png")
	ref := "pin:" + string(h.SID) + ":obj1"
	pins.fail.Store(true)
	for _, f := range []store.File{cur, other} {
		if status, resp := a.request("pin", pin(f)); status != "error" {
			t.Fatalf("a pin the store refused answered %s %v", status, resp)
		}
	}
	pins.fail.Store(false)
	if refs := refsOf(t, e.store, cur.ID); !slices.Equal(refs, []string{ref}) {
		t.Errorf("the pinned object's file has refs %v after a failed re-pin, want [%s]", refs, ref)
	}
	if refs := refsOf(t, e.store, other.ID); len(refs) != 0 {
		t.Errorf("the file of a failed pin has refs %v, want none", refs)
	}
}
