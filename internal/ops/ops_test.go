package ops

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	ops     *Ops
	store   store.Store
	clock   *clock
	users   atomic.Int64
	pauses  atomic.Int64
	changes chan Status
}

func newFixture(t *testing.T, start time.Time, settings map[string]string) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for k, v := range settings {
		if err := db.SetSiteSetting(context.Background(), k, v); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{store: db, clock: &clock{now: start}, changes: make(chan Status, 10)}
	f.ops = New(Config{Store: db, Now: f.clock.Now, SettingsTTL: time.Nanosecond,
		Connected: func() int { return int(f.users.Load()) },
		Pause:     func() error { f.pauses.Add(1); return nil }})
	f.ops.OnChange(func(s Status) { f.changes <- s })
	return f
}

func TestMeterCountsUserAndServerTime(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC), map[string]string{"cost_per_hour_usd": "0.5", "cost_scalar": "2"})
	f.users.Store(3)
	f.ops.Step(ctx)
	f.clock.add(time.Hour)
	f.ops.Step(ctx)
	u, err := f.store.MonthUsage(ctx, "2026-11")
	if err != nil || u.ServerSeconds != 3600 || u.UserSeconds != 3*3600 {
		t.Fatalf("stored usage %+v %v", u, err)
	}
	st := f.ops.Status(ctx)
	if st.UsersNow != 3 || st.UserHours != 3 || st.ServerHours != 1 || st.SpendUSD != 1 || st.Month != "2026-11" {
		t.Fatalf("status %+v", st) // 1 h × $0.5 × 2
	}
	// A second meter (a restart) continues from what the store holds.
	g := New(Config{Store: f.store, Now: f.clock.Now, Connected: func() int { return 0 }})
	g.Step(ctx)
	if st := g.Status(ctx); st.ServerHours != 1 || st.UserHours != 3 {
		t.Fatalf("after restart %+v", st)
	}
}

func TestMeterSplitsAtTheMonthBoundary(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC), nil)
	f.users.Store(2)
	f.ops.Step(ctx)
	f.clock.add(time.Hour) // 30 minutes in November, 30 in December
	f.ops.Step(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		nov, _ := f.store.MonthUsage(ctx, "2026-11")
		dec, _ := f.store.MonthUsage(ctx, "2026-12")
		if nov.ServerSeconds == 1800 && nov.UserSeconds == 3600 && dec.ServerSeconds == 1800 && dec.UserSeconds == 3600 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("november %+v december %+v", nov, dec)
		}
		time.Sleep(10 * time.Millisecond) // the old month is written in the background
	}
	if st := f.ops.Status(ctx); st.Month != "2026-12" || st.ServerHours != 0.5 {
		t.Fatalf("status %+v", st)
	}
}

func TestBudgetTakesTheServerOfflineUntilRaisedOrANewMonth(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
		map[string]string{"cost_per_hour_usd": "1", "monthly_budget_usd": "2", "offline_redirect_url": "https://example.org/later"})
	f.users.Store(1)
	f.ops.Step(ctx)
	f.clock.add(90 * time.Minute)
	f.ops.Step(ctx)
	if off, _, _ := f.ops.Offline(ctx); off {
		t.Fatal("offline before the budget was reached")
	}
	f.clock.add(31 * time.Minute) // $2.02 spent
	f.ops.Step(ctx)
	off, reason, redirect := f.ops.Offline(ctx)
	if !off || reason != ReasonBudget || redirect != "https://example.org/later" {
		t.Fatalf("after passing the budget: %v %q %q", off, reason, redirect)
	}
	if st := <-f.changes; !st.Offline || st.OfflineReason != ReasonBudget {
		t.Fatalf("change %+v", st)
	}
	// Raising the budget brings it back.
	if err := f.store.SetSiteSetting(ctx, "monthly_budget_usd", "10"); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Second)
	f.ops.Step(ctx)
	if off, _, _ := f.ops.Offline(ctx); off {
		t.Fatal("still offline after the budget was raised")
	}
	if st := <-f.changes; st.Offline {
		t.Fatalf("change %+v", st)
	}
	// Spend past the new budget, then the month turns: back online.
	f.clock.add(8 * time.Hour)
	f.ops.Step(ctx)
	if off, _, _ := f.ops.Offline(ctx); !off {
		t.Fatal("not offline past the raised budget")
	}
	f.clock.mu.Lock()
	f.clock.now = time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC) // into December
	f.clock.mu.Unlock()
	f.ops.Step(ctx)
	f.clock.add(time.Minute)
	f.ops.Step(ctx)
	if off, _, _ := f.ops.Offline(ctx); off {
		t.Fatalf("still offline in a new month: %+v", f.ops.Status(ctx))
	}
}

func TestManualOffline(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), map[string]string{"offline": "true"})
	f.ops.Step(ctx)
	off, reason, redirect := f.ops.Offline(ctx)
	if !off || reason != ReasonManual || redirect != "" {
		t.Fatalf("%v %q %q", off, reason, redirect)
	}
}

func TestIdleReleasesTheDatabase(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), map[string]string{"idle_minutes": "5"})
	f.users.Store(1)
	f.ops.Step(ctx)
	f.users.Store(0)
	f.clock.add(4 * time.Minute)
	f.ops.Step(ctx)
	if st := f.ops.Status(ctx); st.Idle || f.pauses.Load() != 0 {
		t.Fatalf("idle too early: %+v", st)
	}
	f.clock.add(2 * time.Minute)
	f.ops.Step(ctx)
	st := f.ops.Status(ctx)
	if !st.Idle || f.pauses.Load() != 1 || !st.IdleSince.Equal(time.Date(2026, 11, 28, 10, 5, 0, 0, time.UTC)) {
		t.Fatalf("not idle after 6 minutes: %+v pauses %d", st, f.pauses.Load())
	}
	// Idle ticks do not write to the store (that would wake the database) but time is still metered.
	before, _ := f.store.MonthUsage(ctx, "2026-11")
	f.clock.add(10 * time.Minute)
	f.ops.Step(ctx)
	if after, _ := f.store.MonthUsage(ctx, "2026-11"); after != before || f.pauses.Load() != 1 {
		t.Fatalf("idle tick wrote usage: %+v → %+v", before, after)
	}
	if st := f.ops.Status(ctx); st.ServerHours < 0.26 {
		t.Fatalf("idle time not metered: %+v", st)
	}
	// Someone connects: no longer idle.
	f.ops.Activity()
	f.users.Store(1)
	f.ops.Step(ctx)
	if st := f.ops.Status(ctx); st.Idle {
		t.Fatalf("still idle after activity: %+v", st)
	}
}
