package hub

import (
	"testing"
	"time"
)

func TestHistogramIsCumulativeWithAnOverflowBucket(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{200 * time.Microsecond, 500 * time.Microsecond, 3 * time.Millisecond, time.Minute} {
		h.Observe(d)
	}
	s := h.Snapshot()
	if s.Count != 4 {
		t.Fatalf("count %d, want 4", s.Count)
	}
	// A value exactly on a bound belongs to that bucket, as Prometheus' "le" says.
	for bound, want := range map[float64]uint64{0.0005: 2, 0.001: 2, 0.005: 3, 5: 3} {
		if got := s.Cumulative[bound]; got != want {
			t.Errorf("le=%g: %d, want %d", bound, got, want)
		}
	}
	if want := (time.Minute + 3700*time.Microsecond).Seconds(); s.SumSeconds < want-1e-9 || s.SumSeconds > want+1e-9 {
		t.Errorf("sum %v, want %v", s.SumSeconds, want)
	}
}

func TestAcceptedJoinsAreTimedAndRefusedOnesAreNot(t *testing.T) {
	e := newEnv(t, nil)
	h := e.createHub(nil)
	e.peer("").mustJoin(h.SID, "Ada")
	if status, _ := e.peer("").join(h.SID, map[string]any{"profile": nil}); status != "error" {
		t.Fatalf("a join without a profile was %s", status)
	}
	if n := e.svc.Stats().JoinLatency.Snapshot().Count; n != 1 {
		t.Fatalf("join latency observations %d, want 1", n)
	}
}
