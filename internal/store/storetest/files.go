package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"toncon/internal/store"
)

// filesTests cover uploaded files and their refs; Run runs them with the rest.
var filesTests = []suiteTest{
	{"FileRoundTrip", testFileRoundTrip},
	{"FileValidation", testFileValidation},
	{"FileDuplicateID", testFileDuplicateID},
	{"FileNotFound", testFileNotFound},
	{"FileRefsKeepAndRelease", testFileRefsKeepAndRelease},
	{"FileRefExpiredNotRevived", testFileRefExpiredNotRevived},
	{"FileDeleteExpired", testFileDeleteExpired},
	{"FileBlobInUse", testFileBlobInUse},
	{"FileAccountList", testFileAccountList},
}

var fileT0 = time.Date(2026, 11, 28, 8, 0, 0, 123456789, time.FixedZone("CET", 3600))

func sampleFile(sha byte) store.File {
	return store.File{
		ID:          store.NewFileID(),
		SHA256:      strings.Repeat(fmt.Sprintf("%02x", sha), 32),
		ContentType: "image/png",
		Size:        1234,
		Name:        "Café photo.png",
		AccessToken: "0123456789abcdef0123456789abcdef",
		CreatedAt:   fileT0,
		ExpiresAt:   fileT0.Add(48 * time.Hour),
	}
}

func mustCreateFile(t *testing.T, s store.Store, f store.File) store.File {
	t.Helper()
	got, err := s.CreateFile(context.Background(), f)
	if err != nil {
		t.Fatalf("CreateFile: %v", err)
	}
	return got
}

func mustGetFile(t *testing.T, s store.Store, id store.FileID) store.File {
	t.Helper()
	got, err := s.GetFile(context.Background(), id)
	if err != nil {
		t.Fatalf("GetFile(%s): %v", id, err)
	}
	return got
}

func testFileRoundTrip(t *testing.T, s store.Store) {
	a := mustAccount(t, s, "uploader@example.org")
	f := sampleFile(0xab)
	f.Account = a.ID
	created := mustCreateFile(t, s, f)
	want := f
	want.CreatedAt = store.Millis(f.CreatedAt)
	want.ExpiresAt = store.Millis(f.ExpiresAt)
	for name, got := range map[string]store.File{"CreateFile": created, "GetFile": mustGetFile(t, s, f.ID)} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %+v\nwant %+v", name, got, want)
		}
		if got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
			t.Errorf("%s: times not in UTC", name)
		}
		if got.Kept() {
			t.Errorf("%s: a new file is kept", name)
		}
	}
	// No account and no name are allowed too.
	anon := sampleFile(0xcd)
	anon.Name = ""
	if got := mustCreateFile(t, s, anon); got.Account != 0 || got.Name != "" {
		t.Errorf("anonymous file = %+v", got)
	}
}

func testFileValidation(t *testing.T, s store.Store) {
	cases := map[string]func(f *store.File){
		"bad id":        func(f *store.File) { f.ID = "../../etc" },
		"short sha":     func(f *store.File) { f.SHA256 = "abc" },
		"upper sha":     func(f *store.File) { f.SHA256 = strings.Repeat("AB", 32) },
		"no type":       func(f *store.File) { f.ContentType = "" },
		"negative size": func(f *store.File) { f.Size = -1 },
		"path name":     func(f *store.File) { f.Name = "../x.png" },
		"long name":     func(f *store.File) { f.Name = strings.Repeat("a", store.MaxFileNameLen+1) },
		"no token":      func(f *store.File) { f.AccessToken = "" },
		"no expiry":     func(f *store.File) { f.ExpiresAt = time.Time{} },
	}
	for name, mutate := range cases {
		f := sampleFile(1)
		mutate(&f)
		if _, err := s.CreateFile(context.Background(), f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: CreateFile err = %v, want ErrInvalid", name, err)
		}
		if _, err := s.GetFile(context.Background(), f.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: the refused file was stored (GetFile err = %v)", name, err)
		}
	}
	f := mustCreateFile(t, s, sampleFile(2))
	for _, ref := range []string{"", strings.Repeat("r", store.MaxFileRefLen+1)} {
		if err := s.AddFileRef(context.Background(), f.ID, ref, fileT0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddFileRef(%d-byte ref) err = %v, want ErrInvalid", len(ref), err)
		}
	}
}

func testFileDuplicateID(t *testing.T, s store.Store) {
	f := mustCreateFile(t, s, sampleFile(3))
	again := sampleFile(4)
	again.ID = f.ID
	if _, err := s.CreateFile(context.Background(), again); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CreateFile with a used id: err = %v, want ErrConflict", err)
	}
	if got := mustGetFile(t, s, f.ID); got.SHA256 != f.SHA256 {
		t.Errorf("the first file changed: %+v", got)
	}
}

func testFileNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	id := store.NewFileID()
	if _, err := s.GetFile(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetFile: %v", err)
	}
	if err := s.AddFileRef(ctx, id, "pin:x", fileT0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddFileRef: %v", err)
	}
	if _, err := s.RemoveFileRef(ctx, id, "pin:x", fileT0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RemoveFileRef: %v", err)
	}
	if _, err := s.FileRefs(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FileRefs: %v", err)
	}
	if err := s.DeleteFile(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteFile: %v", err)
	}
}

func testFileRefsKeepAndRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := mustCreateFile(t, s, sampleFile(5))
	now := fileT0.Add(time.Hour)
	for _, ref := range []string{"pin:abc:obj1", "avatar:Zz9", "pin:abc:obj1"} { // the repeat is not an error
		if err := s.AddFileRef(ctx, f.ID, ref, now); err != nil {
			t.Fatalf("AddFileRef(%s): %v", ref, err)
		}
	}
	if got := mustGetFile(t, s, f.ID); !got.Kept() {
		t.Fatalf("a file with refs is not kept: ExpiresAt %v", got.ExpiresAt)
	}
	refs, err := s.FileRefs(ctx, f.ID)
	if err != nil || !reflect.DeepEqual(refs, []string{"avatar:Zz9", "pin:abc:obj1"}) {
		t.Fatalf("FileRefs = %q, %v", refs, err)
	}
	release := fileT0.Add(10 * time.Hour)
	if n, err := s.RemoveFileRef(ctx, f.ID, "scene:never", release); err != nil || n != 2 {
		t.Errorf("RemoveFileRef(a ref it does not have) = %d, %v; want 2 refs left", n, err)
	}
	if n, err := s.RemoveFileRef(ctx, f.ID, "pin:abc:obj1", release); err != nil || n != 1 {
		t.Errorf("RemoveFileRef(first) = %d, %v; want 1 left", n, err)
	}
	if got := mustGetFile(t, s, f.ID); !got.Kept() {
		t.Errorf("still referenced by the avatar, but not kept")
	}
	if n, err := s.RemoveFileRef(ctx, f.ID, "avatar:Zz9", release); err != nil || n != 0 {
		t.Errorf("RemoveFileRef(last) = %d, %v; want 0 left", n, err)
	}
	if got := mustGetFile(t, s, f.ID); !got.ExpiresAt.Equal(store.Millis(release)) {
		t.Errorf("after the last release ExpiresAt = %v, want %v", got.ExpiresAt, release)
	}
	// Removing again (no refs before, none after) leaves the expiry alone.
	if _, err := s.RemoveFileRef(ctx, f.ID, "avatar:Zz9", release.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := mustGetFile(t, s, f.ID); !got.ExpiresAt.Equal(store.Millis(release)) {
		t.Errorf("a second release moved the expiry to %v", got.ExpiresAt)
	}
}

func testFileRefExpiredNotRevived(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := mustCreateFile(t, s, sampleFile(6))
	if err := s.AddFileRef(ctx, f.ID, "pin:late", f.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AddFileRef at the expiry: err = %v, want ErrNotFound", err)
	}
	if got := mustGetFile(t, s, f.ID); got.Kept() {
		t.Errorf("the expired file was revived")
	}
	if err := s.AddFileRef(ctx, f.ID, "pin:early", f.ExpiresAt.Add(-time.Millisecond)); err != nil {
		t.Fatalf("AddFileRef just before the expiry: %v", err)
	}
}

func testFileDeleteExpired(t *testing.T, s store.Store) {
	ctx := context.Background()
	early := sampleFile(7)
	early.ExpiresAt = fileT0.Add(time.Hour)
	late := sampleFile(8)
	late.ExpiresAt = fileT0.Add(3 * time.Hour)
	kept := sampleFile(9)
	kept.ExpiresAt = fileT0.Add(time.Hour)
	released := sampleFile(10)
	released.ExpiresAt = fileT0.Add(time.Hour)
	for _, f := range []store.File{early, late, kept, released} {
		mustCreateFile(t, s, f)
	}
	if err := s.AddFileRef(ctx, kept.ID, "scene:s1", fileT0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFileRef(ctx, released.ID, "scene:s2", fileT0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveFileRef(ctx, released.ID, "scene:s2", fileT0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteExpiredFiles(ctx, fileT0, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("limit 0: err = %v, want ErrInvalid", err)
	}
	gone, err := s.DeleteExpiredFiles(ctx, fileT0.Add(2*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || gone[0].ID != early.ID || gone[0].SHA256 != early.SHA256 {
		t.Fatalf("at +2h deleted %+v, want only the early file", gone)
	}
	for _, f := range []store.File{late, kept, released} {
		mustGetFile(t, s, f.ID)
	}
	// A limit of 1 deletes the one that expired first.
	gone, err = s.DeleteExpiredFiles(ctx, fileT0.Add(6*time.Hour), 1)
	if err != nil || len(gone) != 1 || gone[0].ID != late.ID {
		t.Fatalf("limit 1 at +6h: %+v, %v; want the late file", gone, err)
	}
	gone, err = s.DeleteExpiredFiles(ctx, fileT0.Add(6*time.Hour), 10)
	if err != nil || len(gone) != 1 || gone[0].ID != released.ID {
		t.Fatalf("at +6h: %+v, %v; want the released file", gone, err)
	}
	if _, err := s.FileRefs(ctx, released.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refs of a deleted file: %v", err)
	}
	if gone, err := s.DeleteExpiredFiles(ctx, fileT0.Add(1000*time.Hour), 10); err != nil || len(gone) != 0 {
		t.Errorf("the kept file was deleted: %+v, %v", gone, err)
	}
	mustGetFile(t, s, kept.ID)
}

func testFileBlobInUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustCreateFile(t, s, sampleFile(11))
	b := mustCreateFile(t, s, sampleFile(11)) // same content, another upload
	inUse := func() bool {
		t.Helper()
		used, err := s.BlobInUse(ctx, a.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return used
	}
	if !inUse() {
		t.Fatal("BlobInUse = false with two rows")
	}
	if err := s.DeleteFile(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if !inUse() {
		t.Fatal("BlobInUse = false while the second row uses it")
	}
	if err := s.DeleteFile(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if inUse() {
		t.Fatal("BlobInUse = true with no rows")
	}
	if used, err := s.BlobInUse(ctx, strings.Repeat("0", 64)); err != nil || used {
		t.Errorf("an unknown blob: %v, %v", used, err)
	}
}

func testFileAccountList(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := mustAccount(t, s, "a@example.org")
	b := mustAccount(t, s, "b@example.org")
	var want []store.FileID
	for i := range 3 {
		f := sampleFile(byte(20 + i))
		f.Account = a.ID
		f.CreatedAt = fileT0.Add(time.Duration(i) * time.Minute)
		mustCreateFile(t, s, f)
		want = append([]store.FileID{f.ID}, want...) // newest first
	}
	other := sampleFile(30)
	other.Account = b.ID
	mustCreateFile(t, s, other)
	mustCreateFile(t, s, sampleFile(31)) // anonymous
	got, err := s.AccountFiles(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []store.FileID
	for _, f := range got {
		ids = append(ids, f.ID)
	}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("AccountFiles = %v, want %v (newest first, only a's)", ids, want)
	}
	if none, err := s.AccountFiles(ctx, 999999); err != nil || none == nil || len(none) != 0 {
		t.Errorf("AccountFiles(unknown) = %v, %v; want an empty list", none, err)
	}
}
