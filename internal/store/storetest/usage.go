package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"toncon/internal/store"
)

func testUsageAccumulates(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, err := s.MonthUsage(ctx, "2026-11")
	if err != nil || u.UserSeconds != 0 || u.ServerSeconds != 0 || u.Month != "2026-11" {
		t.Fatalf("empty month: %+v %v", u, err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.AddUsage(ctx, "2026-11", 1.5, 0.5); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := s.AddUsage(ctx, "2026-12", 7, 1); err != nil {
		t.Fatal(err)
	}
	u, err = s.MonthUsage(ctx, "2026-11")
	if err != nil || u.UserSeconds != 30 || u.ServerSeconds != 10 {
		t.Fatalf("after 20 concurrent adds: %+v %v", u, err)
	}
	if u, _ := s.MonthUsage(ctx, "2026-12"); u.UserSeconds != 7 {
		t.Fatalf("months are not separate: %+v", u)
	}
}

func testUsageInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		month      string
		user, serv float64
	}{{"2026-13", 1, 1}, {"November", 1, 1}, {"2026-11", -1, 0}, {"2026-11", 0, -1}} {
		if err := s.AddUsage(ctx, tc.month, tc.user, tc.serv); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", tc, err)
		}
	}
	if u, _ := s.MonthUsage(ctx, "2026-11"); u.UserSeconds != 0 || u.ServerSeconds != 0 {
		t.Fatalf("invalid adds changed the totals: %+v", u)
	}
}
