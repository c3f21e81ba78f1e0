package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"toncon/internal/auth"
	"toncon/internal/phx"
	"toncon/internal/server"
	"toncon/internal/server/servertest"
	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

func pinCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pinPostJSON(t *testing.T, url string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode
}

func pinGet(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// pinUpload sends a small PNG through POST /api/v1/media and returns the file id and its access token.
func pinUpload(t *testing.T, base string) (string, string) {
	t.Helper()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
		"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
	code, out := postMedia(t, base, "poster.png", png)
	id, _ := out["file_id"].(string)
	meta, _ := out["meta"].(map[string]any)
	token, _ := meta["access_token"].(string)
	if code != 201 || id == "" {
		t.Fatalf("upload: %d %v", code, out)
	}
	return id, token
}

// pinJoin opens a socket and joins the hub; it returns the join ref and the session id.
func pinJoin(t *testing.T, base, sid, name string) (*phx.Client, string, string) {
	t.Helper()
	c, err := phx.Dial(pinCtx(t), "ws"+strings.TrimPrefix(base, "http")+"/socket/websocket?vsn=2.0.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	joinRef, status, reply, err := c.Join(pinCtx(t), "hub:"+sid, map[string]any{
		"profile": map[string]any{"displayName": name}, "context": map[string]any{}})
	if err != nil || status != "ok" {
		t.Fatalf("join as %s: %s %s %v", name, status, reply, err)
	}
	var joined struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal(reply, &joined)
	return c, joinRef, joined.SessionID
}

// accountToken makes an account in the running server's database and signs a token with its keys, as the
// sign-in link would.
func accountToken(t *testing.T, dataDir, email string) string {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, _, _, err := db.FindOrCreateAccount(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	keys, _, err := auth.LoadOrCreateKeys(filepath.Join(dataDir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := keys.MintAccountToken(a.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type objectsDoc struct {
	Asset  struct{ Version string }
	Scene  *int
	Scenes []struct{ Nodes []int }
	Nodes  []struct {
		Name        string
		Translation []float64
		Rotation    []float64
		Scale       []float64
		Extensions  map[string]map[string]map[string]any
	}
}

func fetchObjects(t *testing.T, base, sid string) objectsDoc {
	t.Helper()
	status, h, body := pinGet(t, base+"/"+sid+"/objects.gltf")
	if status != 200 || h.Get("Content-Type") != "model/gltf+json" || h.Get("Cache-Control") != "no-cache" {
		t.Fatalf("objects.gltf: %d %v %s", status, h, body)
	}
	var doc objectsDoc
	if err := json.Unmarshal(body, &doc); err != nil || doc.Asset.Version != "2.0" || doc.Scene == nil || *doc.Scene != 0 ||
		len(doc.Scenes) != 1 || len(doc.Scenes[0].Nodes) != len(doc.Nodes) {
		t.Fatalf("objects.gltf is not the expected glTF document: %s (%v)", body, err)
	}
	return doc
}

// Issue 6's required test: pin an object with a transform, stop toncon, start it again on the same data folder;
// a new client gets the pinned object with the same transform (and its file), and the server knows it again.
func TestPinningAcrossARestart(t *testing.T) {
	dataDir := t.TempDir()
	translation, rotation, scale := []float64{1.25, 0.5, -3.75}, []float64{0, 0.38268343, 0, 0.92387953}, []float64{2, 2, 2}
	var sid, fileID, src string

	t.Run("before the restart", func(t *testing.T) {
		srv := servertest.Start(t, server.Config{DataDir: dataDir})
		base := srv.URL().String()
		var created struct {
			HubID                  string `json:"hub_id"`
			CreatorAssignmentToken string `json:"creator_assignment_token"`
		}
		if status := pinPostJSON(t, base+"/api/v1/hubs", map[string]any{"hub": map[string]any{"name": "Gallery"}}, &created); status != 201 {
			t.Fatalf("create room: %d", status)
		}
		sid = created.HubID
		if status, _, _ := pinGet(t, base+"/"+sid+"/objects.gltf"); status != 200 || len(fetchObjects(t, base, sid).Nodes) != 0 {
			t.Fatal("a new room has pinned objects")
		}
		var token string
		fileID, token = pinUpload(t, base)
		c, joinRef, _ := pinJoin(t, base, sid, "Ada")
		topic := "hub:" + sid
		status, reply, err := c.Request(pinCtx(t), joinRef, topic, "sign_in", map[string]any{
			"token": accountToken(t, dataDir, "ada@example.org"), "creator_assignment_token": created.CreatorAssignmentToken})
		if err != nil || status != "ok" {
			t.Fatalf("sign_in: %s %s %v", status, reply, err)
		}
		src = base + "/files/" + fileID + ".png"
		node := map[string]any{"name": "poster", "translation": translation, "rotation": rotation, "scale": scale,
			"extensions": map[string]any{"HUBS_components": map[string]any{
				"media":    map[string]any{"src": src, "id": "poster", "contentType": "image/png"},
				"pinnable": map[string]any{"pinned": true}}}}
		status, reply, err = c.Request(pinCtx(t), joinRef, topic, "pin", map[string]any{"id": "poster", "gltf_node": node,
			"file_id": fileID, "file_access_token": token})
		if err != nil || status != "ok" {
			t.Fatalf("pin: %s %s %v", status, reply, err)
		}
		if doc := fetchObjects(t, base, sid); len(doc.Nodes) != 1 || doc.Nodes[0].Name != "poster" {
			t.Fatalf("objects.gltf after pin: %+v", doc)
		}
	}) // the server stops here
	if t.Failed() {
		t.FailNow()
	}

	db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := db.RoomObjects(context.Background(), store.HubSID(sid))
	db.Close()
	if err != nil || len(objs) != 1 || objs[0].ObjectID != "poster" || string(objs[0].FileID) != fileID || objs[0].AccountID == 0 {
		t.Fatalf("the stopped server's database holds %+v, %v", objs, err)
	}

	t.Run("after the restart", func(t *testing.T) {
		srv := servertest.Start(t, server.Config{DataDir: dataDir})
		base := srv.URL().String()
		// A new client joins, then loads the room's objects as the web client does.
		newcomer, _, _ := pinJoin(t, base, sid, "Cy")
		doc := fetchObjects(t, base, sid)
		if len(doc.Nodes) != 1 {
			t.Fatalf("after the restart objects.gltf has %d nodes", len(doc.Nodes))
		}
		n := doc.Nodes[0]
		if n.Name != "poster" || !reflect.DeepEqual(n.Translation, translation) || !reflect.DeepEqual(n.Rotation, rotation) ||
			!reflect.DeepEqual(n.Scale, scale) || n.Extensions["HUBS_components"]["media"]["src"] != src {
			t.Fatalf("pinned object after the restart: %+v", n)
		}
		if status, _, _ := pinGet(t, base+"/ZZZZZZZ/objects.gltf"); status != 404 {
			t.Fatalf("objects.gltf of a room that does not exist: %d, want 404", status)
		}
		// The pinned file is kept, so anyone may load it without its token.
		if status, h, body := pinGet(t, base+"/files/"+fileID); status != 200 || h.Get("Content-Type") != "image/png" || !bytes.HasPrefix(body, []byte("\x89PNG")) {
			t.Fatalf("the pinned file after the restart: %d %v", status, h)
		}
		// The server knows the object again: the room's creator signs in and moves it, and the newcomer sees it.
		c, joinRef, session := pinJoin(t, base, sid, "Ada")
		topic := "hub:" + sid
		if status, reply, err := c.Request(pinCtx(t), joinRef, topic, "sign_in", map[string]any{
			"token": accountToken(t, dataDir, "ada@example.org")}); err != nil || status != "ok" {
			t.Fatalf("sign_in: %s %s %v", status, reply, err)
		}
		if _, err := c.Push(joinRef, topic, "naf", map[string]any{"dataType": "u", "data": map[string]any{
			"networkId": "poster", "owner": session, "lastOwnerTime": 10,
			"components": map[string]any{"0": map[string]any{"x": 4, "y": 0, "z": 0}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := newcomer.Await(pinCtx(t), func(m phx.ClientMessage) bool {
			return m.Event == "naf" && strings.Contains(string(m.Payload), `"networkId":"poster"`)
		}); err != nil {
			t.Fatalf("moving the pinned object after the restart was not relayed: %v", err)
		}
	})
}
