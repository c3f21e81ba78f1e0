package uploads

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"toncon/internal/store"
)

func shaHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSweeper(t *testing.T) {
	e := newEnv(t, Limits{})
	ctx := context.Background()
	put := func(name string, data []byte) store.File {
		t.Helper()
		f, err := e.svc.Put(ctx, bytes.NewReader(data), name, 0)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	blobExists := func(f store.File) bool {
		_, err := os.Stat(filepath.Join(e.dir, f.SHA256[:2], f.SHA256))
		return err == nil
	}
	exists := func(f store.File) bool {
		t.Helper()
		_, err := e.svc.Get(ctx, f.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		_, rowErr := e.db.GetFile(ctx, f.ID)
		return rowErr == nil
	}
	sweep := func(want SweepStats) {
		t.Helper()
		got, err := e.svc.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("at +%v swept %+v, want %+v", e.clock.Now().Sub(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)), got, want)
		}
	}

	unkept := put("unkept.png", samplePNG(t, 1, 1))
	kept := put("kept.png", samplePNG(t, 2, 1))
	released := put("released.png", samplePNG(t, 3, 1))
	sharedKept := put("shared-a.wav", sampleWAV())
	sharedUnkept := put("shared-b.wav", sampleWAV()) // the same blob as sharedKept
	for _, k := range []struct {
		f   store.File
		ref string
	}{{kept, "avatar:a1"}, {released, "scene:s1"}, {sharedKept, "pin:hub:o1"}} {
		if err := e.svc.Keep(ctx, k.f.ID, k.f.AccessToken, k.ref); err != nil {
			t.Fatal(err)
		}
	}
	// An orphaned blob (a crash between writing it and recording it) and a stale temp file.
	orphan := []byte("orphaned bytes")
	orphanPath := filepath.Join(e.dir, shaHex(orphan)[:2], shaHex(orphan))
	os.MkdirAll(filepath.Dir(orphanPath), 0o700)
	os.WriteFile(orphanPath, orphan, 0o600)
	os.WriteFile(filepath.Join(e.dir, tempPrefix+"crashed"), []byte("half"), 0o600)
	// Something that is not ours is left alone.
	os.WriteFile(filepath.Join(e.dir, "README"), []byte("hands off"), 0o600)
	// An upload in progress keeps its temp file.
	inProgress, err := e.svc.newTemp()
	if err != nil {
		t.Fatal(err)
	}

	sweep(SweepStats{Blobs: 1, Temps: 1})
	if _, err := os.Stat(orphanPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the orphaned blob survived: %v", err)
	}
	if _, err := os.Stat(inProgress.Name()); err != nil {
		t.Errorf("the sweeper removed an upload in progress: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "README")); err != nil {
		t.Errorf("the sweeper removed a file it does not own: %v", err)
	}
	e.svc.dropTemp(inProgress)

	e.clock.Advance(24 * time.Hour)
	if err := e.svc.Release(ctx, released.ID, "scene:s1"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24*time.Hour - time.Millisecond) // 1 ms before the first uploads expire
	sweep(SweepStats{})
	for _, f := range []store.File{unkept, kept, released, sharedKept, sharedUnkept} {
		if !exists(f) || !blobExists(f) {
			t.Errorf("%s is gone before its time", f.Name)
		}
	}

	e.clock.Advance(time.Millisecond) // 48 h after upload
	sweep(SweepStats{Rows: 2, Blobs: 1})
	if exists(unkept) || blobExists(unkept) {
		t.Error("the unkept upload survived 48 h")
	}
	if exists(sharedUnkept) {
		t.Error("the unkept row sharing a blob survived 48 h")
	}
	if !blobExists(sharedUnkept) || !exists(sharedKept) {
		t.Error("a blob another row keeps was removed")
	}
	if !exists(kept) || !exists(released) {
		t.Error("a kept file, or one released 24 h ago, was removed")
	}
	if r := get(t, e.svc.Origin(sharedKept), nil); r.status != 200 || !bytes.Equal(r.body, sampleWAV()) {
		t.Errorf("the kept file of a shared blob cannot be read: %d", r.status)
	}

	e.clock.Advance(24 * time.Hour) // 48 h after the release
	sweep(SweepStats{Rows: 1, Blobs: 1})
	if exists(released) || blobExists(released) {
		t.Error("the released file survived 48 h after its release")
	}
	e.clock.Advance(1000 * time.Hour)
	sweep(SweepStats{})
	if !exists(kept) || !blobExists(kept) {
		t.Error("a kept file was swept")
	}
	// Releasing a swept file says so.
	if err := e.svc.Release(ctx, released.ID, "scene:s1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Release of a swept file: %v", err)
	}
}

// RunSweeper sweeps at once and stops with its context.
func TestRunSweeperStops(t *testing.T) {
	e := newEnv(t, Limits{})
	f, err := e.svc.Put(context.Background(), bytes.NewReader(samplePDF), "x.pdf", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(49 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.RunSweeper(ctx, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := e.db.GetFile(context.Background(), f.ID); errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first sweep did not happen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunSweeper did not stop")
	}
}

// Uploads of one content racing with sweeps: the blob lock must keep every recorded file readable.
func TestConcurrentUploadsAndSweeps(t *testing.T) {
	e := newEnv(t, Limits{})
	ctx := context.Background()
	data := samplePNG(t, 8, 8)
	// An expired row with the same content, so each sweep deletes a row and then asks whether the blob is used.
	old, err := e.svc.Put(ctx, bytes.NewReader(data), "old.png", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(49 * time.Hour)
	stop := make(chan struct{})
	swept := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				swept <- nil
				return
			default:
			}
			if _, err := e.svc.Sweep(ctx); err != nil {
				swept <- err
				return
			}
		}
	}()
	const n = 8
	files := make(chan store.File, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			f, err := e.svc.Put(ctx, bytes.NewReader(data), fmt.Sprintf("copy-%d.png", i), 0)
			if err != nil {
				errs <- err
				return
			}
			files <- f
		}()
	}
	for range n {
		select {
		case err := <-errs:
			t.Fatal(err)
		case f := <-files:
			if r := get(t, e.svc.Origin(f)+"?token="+f.AccessToken, nil); r.status != 200 || !bytes.Equal(r.body, data) {
				t.Errorf("%s: %d", f.Name, r.status)
			}
		}
	}
	close(stop)
	if err := <-swept; err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.GetFile(ctx, old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the expired row survived the sweeps: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, old.SHA256[:2], old.SHA256)); err != nil {
		t.Errorf("the shared blob is gone: %v", err)
	}
}
