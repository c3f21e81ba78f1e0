package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/store"
)

// libraryTests cover pinned room objects, avatars and scenes; Run runs them with the rest.
var libraryTests = []suiteTest{
	{"PinRoundTrip", testPinRoundTrip},
	{"PinReplaceKeepsOrder", testPinReplaceKeepsOrder},
	{"PinInvalid", testPinInvalid},
	{"PinConcurrentSameObject", testPinConcurrentSameObject},
	{"PinLimitPerRoom", testPinLimitPerRoom},
	{"UnpinAndNotFound", testUnpinAndNotFound},
	{"AvatarRoundTrip", testAvatarRoundTrip},
	{"AvatarListFeaturedAndOwn", testAvatarListFeaturedAndOwn},
	{"AvatarInvalid", testAvatarInvalid},
	{"AvatarFileSwap", testAvatarFileSwap},
	{"SceneRoundTrip", testSceneRoundTrip},
	{"SceneInvalid", testSceneInvalid},
}

const fileA, fileB store.FileID = "AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB"

func node(name string, x float64) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"name": name, "translation": []float64{x, 1.5, -2}})
	return b
}

func sameJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: stored gltf_node %q is not JSON: %v", what, got, err)
	}
	_ = json.Unmarshal(want, &w)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s: gltf_node = %s, want %s", what, gb, wb)
	}
}

func testPinRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	other := mustCreate(t, s, sampleHub())
	a := mustAccount(t, s, "pinner@example.org")
	at := time.Date(2026, 11, 28, 9, 30, 0, 123456789, time.UTC)
	prev, replaced, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "naf-abc", GLTFNode: node("naf-abc", 1),
		AccountID: a.ID, FileID: fileA, UpdatedAt: at})
	if err != nil || replaced || prev.ObjectID != "" {
		t.Fatalf("first pin: prev %+v replaced %v err %v", prev, replaced, err)
	}
	if _, _, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "plain", GLTFNode: node("plain", 2)}); err != nil {
		t.Fatalf("pin without file or account: %v", err)
	}
	got, err := s.RoomObjects(ctx, h.SID)
	if err != nil || len(got) != 2 {
		t.Fatalf("RoomObjects: %+v %v", got, err)
	}
	o := got[0]
	if o.HubSID != h.SID || o.ObjectID != "naf-abc" || o.AccountID != a.ID || o.FileID != fileA ||
		!o.UpdatedAt.Equal(store.Millis(at)) || o.UpdatedAt.Location() != time.UTC {
		t.Errorf("stored object = %+v", o)
	}
	sameJSON(t, "first object", o.GLTFNode, node("naf-abc", 1))
	if got[1].ObjectID != "plain" || got[1].AccountID != 0 || got[1].FileID != "" {
		t.Errorf("second object = %+v", got[1])
	}
	if objs, err := s.RoomObjects(ctx, other.SID); err != nil || len(objs) != 0 {
		t.Errorf("another room sees %d objects, %v", len(objs), err)
	}
	// The same object id in another room is another object.
	if _, replaced, err := s.PinObject(ctx, store.RoomObject{HubSID: other.SID, ObjectID: "naf-abc", GLTFNode: node("x", 9)}); err != nil || replaced {
		t.Errorf("same id in another room: replaced %v, %v", replaced, err)
	}
}

func testPinReplaceKeepsOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	a := mustAccount(t, s, "a@example.org")
	b := mustAccount(t, s, "b@example.org")
	for i, id := range []string{"one", "two", "three"} {
		if _, _, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: id, GLTFNode: node(id, float64(i)), AccountID: a.ID, FileID: fileA}); err != nil {
			t.Fatal(err)
		}
	}
	prev, replaced, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "one", GLTFNode: node("one", 42), AccountID: b.ID, FileID: fileB})
	if err != nil || !replaced || prev.FileID != fileA || prev.AccountID != a.ID {
		t.Fatalf("re-pin: prev %+v replaced %v err %v", prev, replaced, err)
	}
	sameJSON(t, "replaced object", prev.GLTFNode, node("one", 0))
	got, err := s.RoomObjects(ctx, h.SID)
	if err != nil || len(got) != 3 {
		t.Fatalf("RoomObjects: %+v %v", got, err)
	}
	if got[0].ObjectID != "one" || got[1].ObjectID != "two" || got[2].ObjectID != "three" {
		t.Errorf("order after re-pin: %s %s %s, want one two three", got[0].ObjectID, got[1].ObjectID, got[2].ObjectID)
	}
	if got[0].FileID != fileB || got[0].AccountID != b.ID {
		t.Errorf("re-pinned object = %+v", got[0])
	}
	sameJSON(t, "re-pinned object", got[0].GLTFNode, node("one", 42))

	// Moving a pinned object names no file: it keeps the one it shows.
	prev, replaced, err = s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "one", GLTFNode: node("one", 7), AccountID: a.ID})
	if err != nil || !replaced || prev.FileID != fileB {
		t.Fatalf("move: prev %+v replaced %v err %v", prev, replaced, err)
	}
	got, err = s.RoomObjects(ctx, h.SID)
	if err != nil || got[0].FileID != fileB || got[0].AccountID != a.ID {
		t.Fatalf("moved object = %+v, %v; want file %s kept", got, err, fileB)
	}
	sameJSON(t, "moved object", got[0].GLTFNode, node("one", 7))
}

func testPinInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	big := `{"name":"x","extras":"` + strings.Repeat("a", store.MaxGLTFNodeBytes) + `"}`
	for _, tc := range []struct {
		name string
		o    store.RoomObject
	}{
		{"empty id", store.RoomObject{HubSID: h.SID, GLTFNode: node("a", 0)}},
		{"long id", store.RoomObject{HubSID: h.SID, ObjectID: strings.Repeat("a", store.MaxObjectIDLen+1), GLTFNode: node("a", 0)}},
		{"id with slash", store.RoomObject{HubSID: h.SID, ObjectID: "a/b", GLTFNode: node("a", 0)}},
		{"node not JSON", store.RoomObject{HubSID: h.SID, ObjectID: "a", GLTFNode: json.RawMessage(`{"name":`)}},
		{"node an array", store.RoomObject{HubSID: h.SID, ObjectID: "a", GLTFNode: json.RawMessage(`[1,2]`)}},
		{"node null", store.RoomObject{HubSID: h.SID, ObjectID: "a", GLTFNode: json.RawMessage(`null`)}},
		{"node too big", store.RoomObject{HubSID: h.SID, ObjectID: "a", GLTFNode: json.RawMessage(big)}},
		{"unknown account", store.RoomObject{HubSID: h.SID, ObjectID: "a", GLTFNode: node("a", 0), AccountID: 999}},
		{"bad file id", store.RoomObject{HubSID: h.SID, ObjectID: "a", GLTFNode: node("a", 0), FileID: "../etc"}},
	} {
		if _, _, err := s.PinObject(ctx, tc.o); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, _, err := s.PinObject(ctx, store.RoomObject{HubSID: store.NewSID(), ObjectID: "a", GLTFNode: node("a", 0)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hub: err = %v, want ErrNotFound", err)
	}
	if objs, _ := s.RoomObjects(ctx, h.SID); len(objs) != 0 {
		t.Errorf("refused pins stored %d objects", len(objs))
	}
}

func testPinConcurrentSameObject(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	news := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, replaced, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "same", GLTFNode: node("same", float64(i))})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if !replaced {
				news++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if news != 1 {
		t.Errorf("%d of %d concurrent pins of one object say they created it, want exactly 1", news, n)
	}
	if objs, err := s.RoomObjects(ctx, h.SID); err != nil || len(objs) != 1 {
		t.Errorf("RoomObjects after concurrent pins: %d, %v", len(objs), err)
	}
}

func testPinLimitPerRoom(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	other := mustCreate(t, s, sampleHub())
	for i := range store.MaxPinnedPerRoom {
		id := fmt.Sprintf("o%d", i)
		if _, _, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: id, GLTFNode: node(id, 0)}); err != nil {
			t.Fatalf("pin %d: %v", i, err)
		}
	}
	if _, _, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "one-more", GLTFNode: node("x", 0)}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("pin past the limit: %v, want ErrInvalid", err)
	}
	// Moving an object that is pinned already is not a new pin; another room has its own allowance.
	if _, replaced, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "o0", GLTFNode: node("o0", 7)}); err != nil || !replaced {
		t.Fatalf("re-pin at the limit: %v", err)
	}
	if _, _, err := s.PinObject(ctx, store.RoomObject{HubSID: other.SID, ObjectID: "o0", GLTFNode: node("o0", 7)}); err != nil {
		t.Fatalf("pin in another room: %v", err)
	}
	if objs, _ := s.RoomObjects(ctx, h.SID); len(objs) != store.MaxPinnedPerRoom {
		t.Fatalf("%d objects, want %d", len(objs), store.MaxPinnedPerRoom)
	}
}

func testUnpinAndNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHub())
	if _, _, err := s.PinObject(ctx, store.RoomObject{HubSID: h.SID, ObjectID: "x", GLTFNode: node("x", 3), FileID: fileA}); err != nil {
		t.Fatal(err)
	}
	o, err := s.UnpinObject(ctx, h.SID, "x")
	if err != nil || o.ObjectID != "x" || o.FileID != fileA || o.HubSID != h.SID {
		t.Fatalf("UnpinObject: %+v %v", o, err)
	}
	if _, err := s.UnpinObject(ctx, h.SID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second unpin: %v, want ErrNotFound", err)
	}
	if _, err := s.UnpinObject(ctx, store.NewSID(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unpin in unknown hub: %v, want ErrNotFound", err)
	}
	if _, err := s.RoomObjects(ctx, store.NewSID()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("objects of unknown hub: %v, want ErrNotFound", err)
	}
	if objs, err := s.RoomObjects(ctx, h.SID); err != nil || len(objs) != 0 {
		t.Errorf("after unpin: %d objects, %v", len(objs), err)
	}
}

func testAvatarRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "wearer@example.org")
	created, err := s.CreateAvatar(ctx, store.Avatar{Name: "Robot", FileID: fileA, AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !created.SID.Valid() || created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) || created.Featured {
		t.Errorf("CreateAvatar defaults: %+v", created)
	}
	got, err := s.GetAvatar(ctx, created.SID)
	if err != nil || got != created {
		t.Errorf("GetAvatar = %+v, %v; want %+v", got, err, created)
	}
	if _, err := s.CreateAvatar(ctx, store.Avatar{SID: created.SID, Name: "Dup", FileID: fileB, AccountID: a.ID}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate SID: %v, want ErrConflict", err)
	}
	before, after, err := s.UpdateAvatar(ctx, created.SID, store.AvatarUpdate{Name: ptr("Robot 2"), FileID: ptr(fileB), Featured: ptr(true)})
	if err != nil || before != created || after.Name != "Robot 2" || after.FileID != fileB || !after.Featured || after.AccountID != a.ID {
		t.Errorf("UpdateAvatar: before %+v after %+v err %v", before, after, err)
	}
	if _, after2, err := s.UpdateAvatar(ctx, created.SID, store.AvatarUpdate{Featured: ptr(false)}); err != nil || after2.Name != "Robot 2" || after2.Featured {
		t.Errorf("partial update: %+v %v", after2, err)
	}
	deleted, err := s.DeleteAvatar(ctx, created.SID)
	if err != nil || deleted.FileID != fileB {
		t.Errorf("DeleteAvatar: %+v %v", deleted, err)
	}
	for what, err := range map[string]error{
		"get": func() error { _, err := s.GetAvatar(ctx, created.SID); return err }(),
		"update": func() error {
			_, _, err := s.UpdateAvatar(ctx, created.SID, store.AvatarUpdate{Name: ptr("x")})
			return err
		}(),
		"delete": func() error { _, err := s.DeleteAvatar(ctx, created.SID); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after delete: %v, want ErrNotFound", what, err)
		}
	}
}

func testAvatarListFeaturedAndOwn(t *testing.T, s store.Store) {
	ctx := context.Background()
	ann := mustAccount(t, s, "ann@example.org")
	bob := mustAccount(t, s, "bob@example.org")
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	mk := func(name string, owner store.AccountID, featured bool, age int) store.Avatar {
		a, err := s.CreateAvatar(ctx, store.Avatar{Name: name, FileID: fileA, AccountID: owner, Featured: featured,
			CreatedAt: base.Add(time.Duration(age) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	mk("ann-old", ann.ID, false, 1)
	mk("bob-featured", bob.ID, true, 2)
	mk("ann-new", ann.ID, false, 3)
	mk("bob-private", bob.ID, false, 4)
	names := func(as []store.Avatar) string {
		var n []string
		for _, a := range as {
			n = append(n, a.Name)
		}
		return strings.Join(n, ",")
	}
	for _, tc := range []struct {
		account store.AccountID
		want    string
	}{{0, "bob-featured"}, {ann.ID, "ann-new,bob-featured,ann-old"}, {bob.ID, "bob-private,bob-featured"}} {
		got, err := s.ListAvatars(ctx, tc.account)
		if err != nil || names(got) != tc.want {
			t.Errorf("ListAvatars(%d) = %s, %v; want %s", tc.account, names(got), err, tc.want)
		}
	}
}

func testAvatarInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "x@example.org")
	for _, tc := range []struct {
		name string
		av   store.Avatar
	}{
		{"no name", store.Avatar{FileID: fileA, AccountID: a.ID}},
		{"long name", store.Avatar{Name: strings.Repeat("n", store.MaxNameLen+1), FileID: fileA, AccountID: a.ID}},
		{"no file", store.Avatar{Name: "n", AccountID: a.ID}},
		{"no account", store.Avatar{Name: "n", FileID: fileA}},
		{"unknown account", store.Avatar{Name: "n", FileID: fileA, AccountID: a.ID + 100}},
		{"bad sid", store.Avatar{SID: "nope", Name: "n", FileID: fileA, AccountID: a.ID}},
	} {
		if _, err := s.CreateAvatar(ctx, tc.av); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	ok, err := s.CreateAvatar(ctx, store.Avatar{Name: "ok", FileID: fileA, AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateAvatar(ctx, ok.SID, store.AvatarUpdate{Name: ptr("")}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("update to empty name: %v, want ErrInvalid", err)
	}
	if got, _ := s.GetAvatar(ctx, ok.SID); got.Name != "ok" {
		t.Errorf("refused update changed the name to %q", got.Name)
	}
}

// testAvatarFileSwap: what the API's file swap relies on. UpdateAvatar with only a FileID returns the file the
// avatar had (to release) and leaves the rest; a refused update with a bad file changes nothing, the name it also
// carried included; an unknown avatar is ErrNotFound.
func testAvatarFileSwap(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "swapper@example.org")
	created, err := s.CreateAvatar(ctx, store.Avatar{Name: "Robot", FileID: fileA, AccountID: a.ID, Featured: true,
		CreatedAt: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	before, after, err := s.UpdateAvatar(ctx, created.SID, store.AvatarUpdate{FileID: ptr(fileB)})
	if err != nil || before != created || after.FileID != fileB || after.Name != "Robot" || !after.Featured ||
		after.AccountID != a.ID || !after.CreatedAt.Equal(created.CreatedAt) || after.UpdatedAt.Before(created.UpdatedAt) {
		t.Fatalf("swap the file: before %+v after %+v err %v", before, after, err)
	}
	if got, err := s.GetAvatar(ctx, created.SID); err != nil || got != after {
		t.Errorf("GetAvatar after the swap = %+v, %v; want %+v", got, err, after)
	}
	for name, bad := range map[string]store.FileID{"empty": "", "path": "../../etc/passwd", "short": "AAAA"} {
		if _, _, err := s.UpdateAvatar(ctx, created.SID, store.AvatarUpdate{Name: ptr("Renamed"), FileID: ptr(bad)}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s file id: %v, want ErrInvalid", name, err)
		}
	}
	if got, _ := s.GetAvatar(ctx, created.SID); got != after {
		t.Errorf("a refused update changed the avatar: %+v, want %+v", got, after)
	}
	if _, _, err := s.UpdateAvatar(ctx, store.AvatarSID(store.NewSID()), store.AvatarUpdate{FileID: ptr(fileA)}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("swap on an unknown avatar: %v, want ErrNotFound", err)
	}
}

func testSceneRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "builder@example.org")
	in := store.Scene{Name: "Atrium", Description: "A bright hall", Attributions: "Model by Ada, CC-BY 4.0",
		AllowRemixing: true, FileID: fileA, AccountID: a.ID, CreatedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	sc, err := s.CreateScene(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	in.SID, in.UpdatedAt = sc.SID, in.CreatedAt
	if sc != in {
		t.Errorf("CreateScene = %+v, want %+v", sc, in)
	}
	if got, err := s.GetScene(ctx, sc.SID); err != nil || got != sc {
		t.Errorf("GetScene = %+v, %v", got, err)
	}
	newer, err := s.CreateScene(ctx, store.Scene{Name: "Newer", FileID: fileB, AccountID: a.ID, CreatedAt: in.CreatedAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListScenes(ctx)
	if err != nil || len(list) != 2 || list[0].SID != newer.SID || list[1].SID != sc.SID {
		t.Errorf("ListScenes not newest first: %+v %v", list, err)
	}
	before, after, err := s.UpdateScene(ctx, sc.SID, store.SceneUpdate{Description: ptr(""), AllowRemixing: ptr(false), FileID: ptr(fileB)})
	if err != nil || before != sc || after.Description != "" || after.AllowRemixing || after.FileID != fileB ||
		after.Name != "Atrium" || after.Attributions != in.Attributions {
		t.Errorf("UpdateScene: before %+v after %+v err %v", before, after, err)
	}
	if _, err := s.GetScene(ctx, store.SceneSID(store.NewSID())); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown scene: %v", err)
	}
	if _, _, err := s.UpdateScene(ctx, store.SceneSID(store.NewSID()), store.SceneUpdate{Name: ptr("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update unknown scene: %v", err)
	}
}

func testSceneInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "y@example.org")
	for _, tc := range []struct {
		name string
		sc   store.Scene
	}{
		{"no name", store.Scene{FileID: fileA, AccountID: a.ID}},
		{"long attributions", store.Scene{Name: "n", Attributions: strings.Repeat("a", store.MaxAttributionsLen+1), FileID: fileA, AccountID: a.ID}},
		{"long description", store.Scene{Name: "n", Description: strings.Repeat("d", store.MaxDescriptionLen+1), FileID: fileA, AccountID: a.ID}},
		{"no file", store.Scene{Name: "n", AccountID: a.ID}},
		{"no account", store.Scene{Name: "n", FileID: fileA}},
		{"unknown account", store.Scene{Name: "n", FileID: fileA, AccountID: a.ID + 100}},
	} {
		if _, err := s.CreateScene(ctx, tc.sc); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	sc, err := s.CreateScene(ctx, store.Scene{Name: "ok", FileID: fileA, AccountID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpdateScene(ctx, sc.SID, store.SceneUpdate{Attributions: ptr(strings.Repeat("a", store.MaxAttributionsLen+1))}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("update with long attributions: %v", err)
	}
	if list, _ := s.ListScenes(ctx); len(list) != 1 {
		t.Errorf("refused scenes were stored: %d", len(list))
	}
}
