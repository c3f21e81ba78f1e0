package pausable

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"toncon/internal/store"
	"toncon/internal/store/sqlite"
	"toncon/internal/store/storetest"
)

func opener(path string) Opener {
	return func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, path) }
}

// The wrapper must behave exactly like the store it wraps, paused or not.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		open := opener(filepath.Join(t.TempDir(), "toncon.db"))
		inner, err := open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s := New(inner, open)
		if err := s.Pause(); err != nil { // start paused: every first call reopens
			t.Fatal(err)
		}
		return s
	})
}

func TestPauseAndResumeKeepData(t *testing.T) {
	ctx := context.Background()
	open := opener(filepath.Join(t.TempDir(), "toncon.db"))
	inner, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := New(inner, open)
	defer s.Close()
	h, err := s.CreateHub(ctx, store.Hub{Name: "Kept", EntryMode: store.EntryAllow, RoomSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(); err != nil || !s.Paused() {
		t.Fatalf("pause: %v paused=%v", err, s.Paused())
	}
	var wg sync.WaitGroup
	for range 10 { // concurrent first calls after a pause reopen once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := s.GetHub(ctx, h.SID); err != nil || got.Name != "Kept" {
				t.Errorf("after resume: %+v %v", got, err)
			}
		}()
	}
	wg.Wait()
	if p, r := s.Counts(); p != 1 || r != 1 || s.Paused() {
		t.Fatalf("pauses %d resumes %d paused %v", p, r, s.Paused())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHub(ctx, h.SID); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
}

func TestReopenFailureIsReported(t *testing.T) {
	s := New(nil, func(context.Context) (store.Store, error) { return nil, errors.New("disk gone") })
	if _, err := s.SiteSettings(context.Background()); err == nil || !errors.Is(err, err) || err.Error() != "reopen the database after a pause: disk gone" {
		t.Fatalf("%v", err)
	}
}
