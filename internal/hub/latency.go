package hub

import (
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds, in seconds, of the join-latency histogram: from the sub-millisecond join
// of an idle server up to the seconds a saturated one takes.
var LatencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// Histogram counts durations into LatencyBuckets with atomic adds: whoever observes takes no lock, and a metrics
// scrape reads it whenever it likes. The zero value is ready to use.
type Histogram struct {
	counts   [len(LatencyBuckets) + 1]atomic.Int64 // per bucket, not cumulative; the last one is +Inf
	sumNanos atomic.Int64
}

// Observe adds one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && s > LatencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNanos.Add(int64(d))
}

// HistogramSnapshot is a histogram read at one moment, in the cumulative form Prometheus uses.
type HistogramSnapshot struct {
	Count      uint64
	SumSeconds float64
	// Cumulative maps each upper bound in LatencyBuckets to the observations at or below it.
	Cumulative map[float64]uint64
}

// Snapshot reads the histogram. Observations racing with it may be counted in Count but not yet in Sum, which
// Prometheus tolerates: the next scrape catches up.
func (h *Histogram) Snapshot() HistogramSnapshot {
	snap := HistogramSnapshot{Cumulative: make(map[float64]uint64, len(LatencyBuckets))}
	var run uint64
	for i, bound := range LatencyBuckets {
		run += uint64(h.counts[i].Load())
		snap.Cumulative[bound] = run
	}
	snap.Count = run + uint64(h.counts[len(LatencyBuckets)].Load())
	snap.SumSeconds = time.Duration(h.sumNanos.Load()).Seconds()
	return snap
}
