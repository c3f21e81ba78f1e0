package loadtest

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Delays are kept in log-linear buckets of microseconds: exact below 16 µs, then 16 buckets per power of two,
// so any percentile is within about 6% of the true value, from microseconds to minutes, in fixed memory.
const (
	subBits     = 4
	subBuckets  = 1 << subBits
	maxOctave   = 31 // 2^31 µs is about 36 minutes; anything longer lands in the last bucket
	histBuckets = (maxOctave - subBits + 2) * subBuckets
)

func bucketOf(us int64) int {
	if us < subBuckets {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 1 - subBits // how far the value is shifted to keep subBits+1 significant bits
	i := (e+1)*subBuckets + int((us>>e)&(subBuckets-1))
	return min(i, histBuckets-1)
}

// bucketMid is the middle of bucket i in microseconds, the value a percentile in that bucket reports.
func bucketMid(i int) float64 {
	if i < subBuckets {
		return float64(i)
	}
	e := i/subBuckets - 1
	low := int64(subBuckets+i%subBuckets) << e
	return float64(low) + float64(int64(1)<<e)/2
}

// hist is a receiver's delay histogram, written by its reader goroutines (one for pose updates; one per talker
// heard for voice) and read concurrently by the progress reporter, hence the atomics.
type hist struct {
	counts [histBuckets]atomic.Uint64
	maxUS  atomic.Int64
	sumUS  atomic.Int64
}

func (h *hist) observe(us int64) {
	h.counts[bucketOf(us)].Add(1)
	h.sumUS.Add(us)
	for { // a compare-and-swap only for a new maximum, which is rare
		m := h.maxUS.Load()
		if us <= m || h.maxUS.CompareAndSwap(m, us) {
			return
		}
	}
}

// histSnap is a plain copy of one or many merged histograms.
type histSnap struct {
	counts [histBuckets]uint64
	n      uint64
	sumUS  int64
	maxUS  int64
}

func (s *histSnap) add(h *hist) {
	for i := range s.counts {
		c := h.counts[i].Load()
		s.counts[i] += c
		s.n += c
	}
	s.sumUS += h.sumUS.Load()
	s.maxUS = max(s.maxUS, h.maxUS.Load())
}

// minus returns the observations in s that are not in an earlier snapshot of the same histograms.
func (s *histSnap) minus(earlier *histSnap) histSnap {
	d := histSnap{maxUS: s.maxUS, sumUS: s.sumUS - earlier.sumUS}
	for i := range s.counts {
		d.counts[i] = s.counts[i] - earlier.counts[i]
		d.n += d.counts[i]
	}
	return d
}

// quantile returns the q-quantile (0 < q ≤ 1), or 0 with no observations.
func (s *histSnap) quantile(q float64) time.Duration {
	if s.n == 0 {
		return 0
	}
	rank := uint64(q*float64(s.n) + 0.5)
	rank = min(max(rank, 1), s.n)
	var run uint64
	for i, c := range s.counts {
		run += c
		if run >= rank {
			return time.Duration(bucketMid(i) * float64(time.Microsecond))
		}
	}
	return time.Duration(s.maxUS) * time.Microsecond
}

func (s *histSnap) mean() time.Duration {
	if s.n == 0 {
		return 0
	}
	return time.Duration(float64(s.sumUS)/float64(s.n)) * time.Microsecond
}
