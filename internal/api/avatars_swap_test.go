package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"toncon/internal/gltf"
	"toncon/internal/store"
)

// Giving an uploaded avatar another glb: PATCH /api/v1/avatars/<sid> with file_id and file_access_token.

// headGLB is the smallest avatar: a glb of JSON only whose nodes are the Hubs skeleton's AvatarRoot and Head. tag
// makes each call's bytes (and so its upload) its own.
func headGLB(tag string) []byte {
	return gltf.GLB([]byte(`{"asset":{"version":"2.0","generator":"toncon test `+tag+`"},"scene":0,"scenes":[{"nodes":[0]}],
		"nodes":[{"name":"AvatarRoot","children":[1]},{"name":"Head","translation":[0,1.6,0]}]}`), nil)
}

// refs is the file's refs in the store, failing the test on an error.
func (l *library) refs(t *testing.T, id store.FileID) []string {
	t.Helper()
	refs, err := l.store.FileRefs(context.Background(), id)
	if err != nil {
		t.Fatalf("refs of %s: %v", id, err)
	}
	return refs
}

// avatarWith makes an avatar of Ada's from a fresh upload of data and returns its sid and file.
func (l *library) avatarWith(t *testing.T, token string, data []byte) (string, store.File) {
	t.Helper()
	f := l.upload(t, data, "me.glb")
	status, m := l.call(t, "POST", "/api/v1/avatars", token, map[string]any{"avatar": map[string]any{
		"name": "Mine", "file_id": f.ID, "file_access_token": f.AccessToken}})
	if status != http.StatusCreated {
		t.Fatalf("create avatar: %d %v", status, m)
	}
	return first(t, m, "avatars")["avatar_id"].(string), f
}

func swapBody(f store.File, token string) map[string]any {
	return map[string]any{"avatar": map[string]any{"file_id": f.ID, "file_access_token": token}}
}

func TestAvatarFileSwap(t *testing.T) {
	l := newLibrary(t)
	_, adminTok := l.signIn(t, "admin@example.org")
	_, adaTok := l.signIn(t, "ada@example.org")
	ctx := context.Background()
	sid, old := l.avatarWith(t, adaTok, sample(t, "hubs-default-avatar_v3.glb"))
	ref := "avatar:" + sid
	url := func(f store.File) string { return "https://events.example.org/files/" + string(f.ID) + ".glb" }

	// The owner gives it a new glb and a new name at once.
	repl := l.upload(t, headGLB("one"), "small.glb")
	if got, _ := l.files.Get(ctx, repl.ID); got.Kept() {
		t.Fatal("a fresh upload is kept before anything uses it")
	}
	status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adaTok, map[string]any{"avatar": map[string]any{
		"name": "Small me", "file_id": repl.ID, "file_access_token": repl.AccessToken}})
	if status != 200 {
		t.Fatalf("swap: %d %v", status, m)
	}
	if av := first(t, m, "avatars"); av["avatar_id"] != sid || av["name"] != "Small me" || av["gltf_url"] != url(repl) {
		t.Fatalf("swapped avatar %v", av)
	}
	// Everyone who asks for the avatar, as a client does for what the presence profile names, gets the new glb.
	if status, one := l.call(t, "GET", "/api/v1/avatars/"+sid, "", nil); status != 200 || first(t, one, "avatars")["gltf_url"] != url(repl) {
		t.Fatalf("get after swap: %d %v", status, one)
	}
	_, list := l.call(t, "GET", "/api/v1/avatars", adaTok, nil)
	var listed []any
	for _, e := range list["avatars"].([]any) {
		if e.(map[string]any)["avatar_id"] == sid {
			listed = append(listed, e.(map[string]any)["gltf_url"])
		}
	}
	if len(listed) != 1 || listed[0] != url(repl) {
		t.Fatalf("Ada's list shows the avatar as %v", listed)
	}
	// The new file is kept under the avatar's ref; the old one lost it and expires like any released upload.
	if got := l.refs(t, repl.ID); !slices.Equal(got, []string{ref}) {
		t.Fatalf("new file's refs %v", got)
	}
	if got := l.refs(t, old.ID); len(got) != 0 {
		t.Fatalf("old file's refs %v", got)
	}
	if got, err := l.files.Get(ctx, old.ID); err != nil || got.Kept() || got.ExpiresAt.IsZero() {
		t.Fatalf("old file after the swap: %+v %v", got, err)
	}
	if got, _ := l.files.Get(ctx, repl.ID); !got.Kept() {
		t.Fatal("the new file is not kept")
	}
	// Sending the file it already has changes nothing about the refs.
	if status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adaTok, swapBody(repl, repl.AccessToken)); status != 200 || first(t, m, "avatars")["gltf_url"] != url(repl) {
		t.Fatalf("same file again: %d %v", status, m)
	}
	if got := l.refs(t, repl.ID); !slices.Equal(got, []string{ref}) {
		t.Fatalf("refs after sending the same file: %v", got)
	}

	// An admin may give anyone's avatar another file; the one it replaces is released.
	byAdmin := l.upload(t, headGLB("two"), "admin.glb")
	if status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adminTok, swapBody(byAdmin, byAdmin.AccessToken)); status != 200 || first(t, m, "avatars")["gltf_url"] != url(byAdmin) {
		t.Fatalf("admin swap: %d %v", status, m)
	}
	if got := l.refs(t, repl.ID); len(got) != 0 {
		t.Fatalf("the file the admin replaced still has refs %v", got)
	}
	if got := l.refs(t, byAdmin.ID); !slices.Equal(got, []string{ref}) {
		t.Fatalf("admin's file refs %v", got)
	}
	if av, _ := l.store.GetAvatar(ctx, store.AvatarSID(sid)); av.FileID != byAdmin.ID || av.Name != "Small me" {
		t.Fatalf("stored avatar %+v", av)
	}

	// A file another avatar also keeps stays kept when one of them lets it go.
	other, shared := l.avatarWith(t, adaTok, headGLB("shared"))
	if status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adaTok, swapBody(shared, shared.AccessToken)); status != 200 {
		t.Fatalf("swap to a shared file: %d %v", status, m)
	}
	if got := l.refs(t, shared.ID); !slices.Equal(got, []string{ref, "avatar:" + other}) && !slices.Equal(got, []string{"avatar:" + other, ref}) {
		t.Fatalf("shared file refs %v", got)
	}
	if status, _ := l.call(t, "DELETE", "/api/v1/avatars/"+other, adaTok, nil); status != 200 {
		t.Fatalf("delete the other: %d", status)
	}
	if got, _ := l.files.Get(ctx, shared.ID); !got.Kept() {
		t.Fatal("deleting one avatar released a file another still wears")
	}
}

func TestAvatarFileSwapRefusals(t *testing.T) {
	l := newLibrary(t)
	l.signIn(t, "admin@example.org")
	_, adaTok := l.signIn(t, "ada@example.org")
	_, bobTok := l.signIn(t, "bob@example.org")
	ctx := context.Background()
	sid, old := l.avatarWith(t, adaTok, sample(t, "hubs-default-avatar_v3.glb"))
	before, err := l.store.GetAvatar(ctx, store.AvatarSID(sid))
	if err != nil {
		t.Fatal(err)
	}

	good := l.upload(t, headGLB("good"), "good.glb")
	noHead := l.upload(t, sample(t, "spoke-early_loading-environment_HUBS_components.glb"), "scene.glb")
	png := l.upload(t, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"+
		"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"), "a.png")
	gltfJSON := l.upload(t, []byte(`{"asset":{"version":"2.0"},"nodes":[{"name":"Head"}]}`), "head.gltf")
	for _, tc := range []struct {
		name     string
		token    string
		path     string
		body     any
		status   int
		code, in string
	}{
		{"not signed in", "", sid, swapBody(good, good.AccessToken), 401, "unauthorized", "sign in"},
		{"not the owner", bobTok, sid, swapBody(good, good.AccessToken), 403, "forbidden", "owner or an admin"},
		{"unknown avatar", adaTok, "ZZZZZZZ", swapBody(good, good.AccessToken), 404, "not_found", "ZZZZZZZ"},
		{"wrong file token", adaTok, sid, swapBody(good, "0123456789abcdef0123456789abcdef"), 422, "invalid_file", "access token"},
		{"no file token", adaTok, sid, swapBody(good, ""), 422, "invalid_file", "file_access_token"},
		{"token without file", adaTok, sid, map[string]any{"avatar": map[string]any{"file_access_token": good.AccessToken}}, 422, "invalid_file", "file_id"},
		{"not a glb", adaTok, sid, swapBody(png, png.AccessToken), 422, "invalid_file", "image/png, not a glb"},
		{"gltf JSON, not a glb", adaTok, sid, swapBody(gltfJSON, gltfJSON.AccessToken), 422, "invalid_file", "not a glb"},
		{"no Head or AvatarRoot", adaTok, sid, swapBody(noHead, noHead.AccessToken), 422, "invalid_file", "Head or AvatarRoot"},
		{"unknown file", adaTok, sid, swapBody(store.File{ID: store.NewFileID()}, "x"), 422, "invalid_file", "no upload"},
		{"bad file id", adaTok, sid, map[string]any{"avatar": map[string]any{"file_id": "../x", "file_access_token": "x"}}, 422, "invalid_file", "not a file id"},
		{"bad name with a good file", adaTok, sid, map[string]any{"avatar": map[string]any{"name": " ", "file_id": good.ID, "file_access_token": good.AccessToken}}, 422, "invalid_avatar", "name"},
		{"owner features with a good file", adaTok, sid, map[string]any{"avatar": map[string]any{"featured": true, "file_id": good.ID, "file_access_token": good.AccessToken}}, 403, "forbidden", "admin"},
	} {
		status, m := l.call(t, "PATCH", "/api/v1/avatars/"+tc.path, tc.token, tc.body)
		msg, _ := m["message"].(string)
		if status != tc.status || m["error"] != tc.code || !strings.Contains(msg, tc.in) {
			t.Errorf("%s: %d %v, want %d %s mentioning %q", tc.name, status, m, tc.status, tc.code, tc.in)
		}
		// Nothing changed: the row, the old file's ref, and no offered file is kept.
		if after, err := l.store.GetAvatar(ctx, store.AvatarSID(sid)); err != nil || after != before {
			t.Errorf("%s: the avatar changed: %+v, was %+v (%v)", tc.name, after, before, err)
		}
		if got := l.refs(t, old.ID); !slices.Equal(got, []string{"avatar:" + sid}) {
			t.Errorf("%s: old file's refs %v", tc.name, got)
		}
		for _, f := range []store.File{good, noHead, png, gltfJSON} {
			if got := l.refs(t, f.ID); len(got) != 0 {
				t.Errorf("%s: refused file %s has refs %v", tc.name, f.Name, got)
			}
		}
	}
}

func TestAvatarFileSwapOverTheModelLimit(t *testing.T) {
	small := headGLB("limit")
	l := newLibraryLimit(t, int64(len(small)))
	l.signIn(t, "admin@example.org")
	_, adaTok := l.signIn(t, "ada@example.org")
	sid, old := l.avatarWith(t, adaTok, small)
	big := l.upload(t, gltf.GLB([]byte(`{"asset":{"version":"2.0"},"nodes":[{"name":"Head"},{"name":"`+strings.Repeat("x", 256)+`"}]}`), nil), "big.glb")
	status, m := l.call(t, "PATCH", "/api/v1/avatars/"+sid, adaTok, swapBody(big, big.AccessToken))
	if want := fmt.Sprintf("models may be at most %d", len(small)); status != 422 || m["error"] != "invalid_file" || !strings.Contains(m["message"].(string), want) {
		t.Fatalf("a glb over the model limit: %d %v, want 422 invalid_file saying %q", status, m, want)
	}
	if got := l.refs(t, big.ID); len(got) != 0 {
		t.Fatalf("the refused file has refs %v", got)
	}
	if av, _ := l.store.GetAvatar(context.Background(), store.AvatarSID(sid)); av.FileID != old.ID {
		t.Fatalf("the avatar's file changed to %s", av.FileID)
	}
}

// Swaps that race each other, and a delete racing them, leave exactly the row's file kept under the avatar's ref
// and every other offered file released.
func TestAvatarFileSwapsRace(t *testing.T) {
	l := newLibrary(t)
	l.signIn(t, "admin@example.org")
	_, adaTok := l.signIn(t, "ada@example.org")
	ctx := context.Background()
	for round, deleteToo := range []bool{false, true} {
		sid, first := l.avatarWith(t, adaTok, headGLB(fmt.Sprint("first", round)))
		ref := "avatar:" + sid
		files := []store.File{first}
		for i := range 6 {
			files = append(files, l.upload(t, headGLB(fmt.Sprint(round, "-", i)), "r.glb"))
		}
		type answer struct {
			status int
			m      map[string]any
			err    error
		}
		done := make(chan answer, len(files))
		for _, f := range files[1:] {
			go func() {
				status, m, err := l.try("PATCH", "/api/v1/avatars/"+sid, adaTok, swapBody(f, f.AccessToken))
				done <- answer{status, m, err}
			}()
		}
		if deleteToo {
			go func() {
				status, m, err := l.try("DELETE", "/api/v1/avatars/"+sid, adaTok, nil)
				done <- answer{status, m, err}
			}()
		}
		n := len(files) - 1
		if deleteToo {
			n++
		}
		for range n {
			if a := <-done; a.err != nil || a.status != 200 && !(deleteToo && a.status == 404) {
				t.Errorf("round %d: a racing change answered %d %v %v", round, a.status, a.m, a.err)
			}
		}
		av, err := l.store.GetAvatar(ctx, store.AvatarSID(sid))
		kept := 0
		for _, f := range files {
			refs := l.refs(t, f.ID)
			if len(refs) > 0 {
				kept++
				if err != nil || f.ID != av.FileID || !slices.Equal(refs, []string{ref}) {
					t.Errorf("round %d: %s has refs %v; the avatar is %+v (%v)", round, f.ID, refs, av, err)
				}
			}
		}
		if want := map[bool]int{true: 1, false: 0}[err == nil]; kept != want {
			t.Errorf("round %d: %d files kept, want %d (avatar %+v, %v)", round, kept, want, av, err)
		}
	}
}

// A PATCH that sends the file the avatar has, racing one that gives it another: whichever lands last, the file the
// row shows is kept under the avatar's ref. (Keep and Release of one file and ref are not counted, so without the
// per-row lock the second swap's release of the old file could undo the first's keep of it.)
func TestAvatarFileSwapRacesAResend(t *testing.T) {
	l := newLibrary(t)
	l.signIn(t, "admin@example.org")
	_, adaTok := l.signIn(t, "ada@example.org")
	ctx := context.Background()
	for round := range 12 {
		sid, same := l.avatarWith(t, adaTok, headGLB(fmt.Sprint("resent", round)))
		other := l.upload(t, headGLB(fmt.Sprint("other", round)), "o.glb")
		done := make(chan error, 2)
		for _, f := range []store.File{same, other} {
			go func() {
				status, m, err := l.try("PATCH", "/api/v1/avatars/"+sid, adaTok, swapBody(f, f.AccessToken))
				if err == nil && status != 200 {
					err = fmt.Errorf("%d %v", status, m)
				}
				done <- err
			}()
		}
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		av, err := l.store.GetAvatar(ctx, store.AvatarSID(sid))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []store.File{same, other} {
			want := []string(nil)
			if f.ID == av.FileID {
				want = []string{"avatar:" + sid}
			}
			if refs := l.refs(t, f.ID); !slices.Equal(refs, want) {
				t.Errorf("round %d: %s has refs %v, want %v (the avatar shows %s)", round, f.ID, refs, want, av.FileID)
			}
		}
	}
}

// TestAvatarFileSwapRacesADelete: a PATCH that re-sends the avatar's own file while the avatar is being deleted
// must not leave the file kept by an avatar that no longer exists (it would never expire).
func TestAvatarFileSwapRacesADelete(t *testing.T) {
	l := newLibrary(t)
	_, adaTok := l.signIn(t, "ada@example.org")
	ctx := context.Background()
	for round := range 16 {
		sid, same := l.avatarWith(t, adaTok, headGLB(fmt.Sprint("deleted", round)))
		done := make(chan error, 2)
		go func() {
			status, m, err := l.try("PATCH", "/api/v1/avatars/"+sid, adaTok, swapBody(same, same.AccessToken))
			if err == nil && status != 200 && status != 404 {
				err = fmt.Errorf("PATCH: %d %v", status, m)
			}
			done <- err
		}()
		go func() {
			status, m, err := l.try("DELETE", "/api/v1/avatars/"+sid, adaTok, nil)
			if err == nil && status != 200 {
				err = fmt.Errorf("DELETE: %d %v", status, m)
			}
			done <- err
		}()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if _, err := l.store.GetAvatar(ctx, store.AvatarSID(sid)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("round %d: the avatar is still there: %v", round, err)
		}
		if refs := l.refs(t, same.ID); len(refs) != 0 {
			t.Errorf("round %d: the deleted avatar's file is still kept by %v", round, refs)
		}
	}
}
