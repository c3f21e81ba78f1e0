package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"toncon/internal/auth"
	"toncon/internal/hub"
	"toncon/internal/store"
	"toncon/internal/store/sqlite"
	"toncon/internal/uploads"
)

// library is an API with accounts and a real uploads service on one database, for avatars and scenes.
type library struct {
	srv   *httptest.Server
	store store.Store
	keys  *auth.Keys
	files *uploads.Service
	hubs  *hub.Service
}

func newLibrary(t *testing.T) *library {
	t.Helper()
	return newLibraryLimit(t, 0)
}

// newLibraryLimit is newLibrary whose API takes models of at most maxModel bytes (0: the uploads' model limit).
func newLibraryLimit(t *testing.T, maxModel int64) *library {
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
	dir := filepath.Join(t.TempDir(), "files")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := uploads.New(uploads.Config{Store: db, Dir: dir, PublicURL: public, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	hubs, err := hub.New(hub.Config{Store: db, Keys: keys, PublicURL: public, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	if maxModel == 0 {
		maxModel = files.Limits().Model
	}
	srv := httptest.NewServer(New(Config{Store: db, Hubs: hubs, PublicURL: public, Keys: keys, Files: files,
		MaxModelBytes: maxModel}))
	t.Cleanup(srv.Close)
	return &library{srv: srv, store: db, keys: keys, files: files, hubs: hubs}
}

// signIn returns an account token for email (the first account made is the admin).
func (l *library) signIn(t *testing.T, email string) (store.Account, string) {
	t.Helper()
	a, _, _, err := l.store.FindOrCreateAccount(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := l.keys.MintAccountToken(a.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a, tok
}

// upload stores a file as POST /api/v1/media would.
func (l *library) upload(t *testing.T, data []byte, name string) store.File {
	t.Helper()
	f, err := l.files.Put(context.Background(), bytes.NewReader(data), name, 0)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return f
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "web", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (l *library) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	status, m, err := l.try(method, path, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, m
}

// try is call for any goroutine: it returns what went wrong instead of failing the test.
func (l *library) try(method, path, token string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, l.srv.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: %d %q is not JSON: %v", method, path, resp.StatusCode, raw, err)
	}
	return resp.StatusCode, m, nil
}

func first(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	list, _ := m[key].([]any)
	if len(list) != 1 {
		t.Fatalf("%s: want one entry, got %v", key, m)
	}
	return list[0].(map[string]any)
}

func ids(m map[string]any, key, idField string) []string {
	var out []string
	for _, e := range m[key].([]any) {
		out = append(out, e.(map[string]any)[idField].(string))
	}
	return out
}

func TestAvatarFromTheHubsSampleAvatar(t *testing.T) {
	l := newLibrary(t)
	l.signIn(t, "admin@example.org")
	ada, tok := l.signIn(t, "ada@example.org")
	f := l.upload(t, sample(t, "hubs-default-avatar_v3.glb"), "me.glb")

	status, m := l.call(t, "POST", "/api/v1/avatars", tok, map[string]any{"avatar": map[string]any{
		"name": " Robot ", "file_id": f.ID, "file_access_token": f.AccessToken}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, m)
	}
	av := first(t, m, "avatars")
	sid := av["avatar_id"].(string)
	if !store.AvatarSID(sid).Valid() || av["name"] != "Robot" || av["type"] != "avatar" || av["featured"] != false ||
		av["account_id"] != fmt.Sprint(ada.ID) || av["gltf_url"] != "https://events.example.org/files/"+string(f.ID)+".glb" {
		t.Fatalf("avatar %v", av)
	}
	refs, _ := l.store.FileRefs(context.Background(), f.ID)
	if len(refs) != 1 || refs[0] != "avatar:"+sid {
		t.Fatalf("file refs %v", refs)
	}
	// The file is now kept, so anyone may load it: the others in a room load the glb of the person's avatar.
	if got, _ := l.files.Get(context.Background(), f.ID); !got.Kept() {
		t.Fatal("the avatar's file is not kept")
	}

	// The list: four looks, the sample avatar, then Ada's own (only for Ada).
	_, mine := l.call(t, "GET", "/api/v1/avatars", tok, nil)
	want := "builtin:sky,builtin:moss,builtin:ember,builtin:dusk,sample:hubs-default-avatar_v3," + sid
	if got := strings.Join(ids(mine, "avatars", "avatar_id"), ","); got != want {
		t.Fatalf("Ada's list %s, want %s", got, want)
	}
	sampleAv := mine["avatars"].([]any)[4].(map[string]any)
	if sampleAv["gltf_url"] != "https://events.example.org/samples/hubs-default-avatar_v3.glb" || sampleAv["builtin"] != true {
		t.Fatalf("sample avatar %v", sampleAv)
	}
	if mine["avatars"].([]any)[0].(map[string]any)["gltf_url"] != nil {
		t.Fatal("a built-in look has a glb")
	}
	_, anon := l.call(t, "GET", "/api/v1/avatars", "", nil)
	if n := len(anon["avatars"].([]any)); n != 5 {
		t.Fatalf("anonymous list has %d avatars, want the 5 built-in ones", n)
	}
	_, bobTok := l.signIn(t, "bob@example.org")
	if _, bobs := l.call(t, "GET", "/api/v1/avatars", bobTok, nil); len(bobs["avatars"].([]any)) != 5 {
		t.Fatalf("Bob sees Ada's avatar: %v", bobs)
	}
	if status, one := l.call(t, "GET", "/api/v1/avatars/"+sid, "", nil); status != 200 || first(t, one, "avatars")["name"] != "Robot" {
		t.Fatalf("get one: %d %v", status, one)
	}
	if status, one := l.call(t, "GET", "/api/v1/avatars/builtin:moss", "", nil); status != 200 || first(t, one, "avatars")["name"] != "Moss" {
		t.Fatalf("get a look: %d %v", status, one)
	}
	if status, _ := l.call(t, "GET", "/api/v1/avatars/ZZZZZZZ", "", nil); status != 404 {
		t.Fatalf("unknown avatar: %d", status)
	}
}

func TestAvatarRefusals(t *testing.T) {
	l := newLibrary(t)
	l.signIn(t, "admin@example.org")
	_, tok := l.signIn(t, "ada@example.org")
	noHead := l.upload(t, sample(t, "spoke-early_loading-environment_HUBS_components.glb"), "scene.glb")
	png := l.upload(t, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"+
		"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"), "a.png")
	good := l.upload(t, sample(t, "hubs-default-avatar_v3.glb"), "me.glb")
	body := func(f store.File, token string) map[string]any {
		return map[string]any{"avatar": map[string]any{"name": "X", "file_id": f.ID, "file_access_token": token}}
	}
	for _, tc := range []struct {
		name     string
		token    string
		body     any
		status   int
		code, in string
	}{
		{"not signed in", "", body(good, good.AccessToken), 401, "unauthorized", "sign in"},
		{"bad account token", "garbage", body(good, good.AccessToken), 401, "unauthorized", "sign in again"},
		{"no Head or AvatarRoot", tok, body(noHead, noHead.AccessToken), 422, "invalid_file", "Head or AvatarRoot"},
		{"not a glb", tok, body(png, png.AccessToken), 422, "invalid_file", "image/png, not a glb"},
		{"wrong file token", tok, body(good, "nope"), 422, "invalid_file", "access token"},
		{"no file token", tok, body(good, ""), 422, "invalid_file", "file_access_token"},
		{"unknown file", tok, body(store.File{ID: store.NewFileID()}, "x"), 422, "invalid_file", "no upload"},
		{"bad file id", tok, map[string]any{"avatar": map[string]any{"name": "X", "file_id": "../x", "file_access_token": "x"}}, 422, "invalid_file", "not a file id"},
		{"no name", tok, map[string]any{"avatar": map[string]any{"file_id": good.ID, "file_access_token": good.AccessToken}}, 422, "invalid_avatar", "avatar"},
		{"long name", tok, map[string]any{"avatar": map[string]any{"name": strings.Repeat("n", 65), "file_id": good.ID, "file_access_token": good.AccessToken}}, 422, "invalid_avatar", "64"},
	} {
		status, m := l.call(t, "POST", "/api/v1/avatars", tc.token, tc.body)
		msg, _ := m["message"].(string)
		if status != tc.status || m["error"] != tc.code || !strings.Contains(msg, tc.in) {
			t.Errorf("%s: %d %v, want %d %s mentioning %q", tc.name, status, m, tc.status, tc.code, tc.in)
		}
	}
	for _, f := range []store.File{noHead, png, good} {
		if got, _ := l.files.Get(context.Background(), f.ID); got.Kept() {
			t.Errorf("a refused avatar kept file %s", f.Name)
		}
	}
	if _, m := l.call(t, "GET", "/api/v1/avatars", tok, nil); len(m["avatars"].([]any)) != 5 {
		t.Fatalf("refused avatars were stored: %v", m)
	}
}

func TestAvatarDeleteAndFeature(t *testing.T) {
	l := newLibrary(t)
	_, adminTok := l.signIn(t, "admin@example.org")
	_, adaTok := l.signIn(t, "ada@example.org")
	_, bobTok := l.signIn(t, "bob@example.org")
	mk := func() (string, store.File) {
		f := l.upload(t, sample(t, "hubs-default-avatar_v3.glb"), "me.glb")
		status, m := l.call(t, "POST", "/api/v1/avatars", adaTok, map[string]any{"avatar": map[string]any{
			"name": "Mine", "file_id": f.ID, "file_access_token": f.AccessToken}})
		if status != 201 {
			t.Fatalf("create: %d %v", status, m)
		}
		return first(t, m, "avatars")["avatar_id"].(string), f
	}
	sid, f := mk()
	// Only an admin features; then everyone sees it.
	if status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adaTok, map[string]any{"avatar": map[string]any{"featured": true}}); status != 403 {
		t.Fatalf("owner featured her own avatar: %d %v", status, m)
	}
	if status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, bobTok, map[string]any{"avatar": map[string]any{"name": "Bob's now"}}); status != 403 {
		t.Fatalf("someone else renamed it: %d %v", status, m)
	}
	if status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adminTok, map[string]any{"avatar": map[string]any{"featured": true}}); status != 200 || first(t, m, "avatars")["featured"] != true {
		t.Fatalf("admin feature: %d %v", status, m)
	}
	if _, m := l.call(t, "GET", "/api/v1/avatars", bobTok, nil); !strings.Contains(strings.Join(ids(m, "avatars", "avatar_id"), ","), sid) {
		t.Fatalf("a featured avatar is not listed for others: %v", m)
	}
	if status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adaTok, map[string]any{"avatar": map[string]any{"name": "Renamed"}}); status != 200 || first(t, m, "avatars")["name"] != "Renamed" {
		t.Fatalf("owner rename: %d %v", status, m)
	}
	// Deleting: not by someone else, by the owner; the file is released and expires later.
	if status, _ := l.call(t, "DELETE", "/api/v1/avatars/"+sid, bobTok, nil); status != 403 {
		t.Fatalf("Bob deleted Ada's avatar: %d", status)
	}
	if status, _ := l.call(t, "DELETE", "/api/v1/avatars/"+sid, "", nil); status != 401 {
		t.Fatalf("anonymous delete: %d", status)
	}
	if status, m := l.call(t, "DELETE", "/api/v1/avatars/"+sid, adaTok, nil); status != 200 {
		t.Fatalf("delete: %d %v", status, m)
	}
	if got, _ := l.files.Get(context.Background(), f.ID); got.Kept() || got.ExpiresAt.IsZero() {
		t.Fatalf("deleted avatar's file still kept: %+v", got)
	}
	if status, _ := l.call(t, "GET", "/api/v1/avatars/"+sid, "", nil); status != 404 {
		t.Fatalf("deleted avatar still served: %d", status)
	}
	// An admin may delete anyone's.
	sid2, _ := mk()
	if status, _ := l.call(t, "DELETE", "/api/v1/avatars/"+sid2, adminTok, nil); status != 200 {
		t.Fatalf("admin delete: %d", status)
	}
}
