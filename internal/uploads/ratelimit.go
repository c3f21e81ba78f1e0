package uploads

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// RateLimit is the per-client upload limit, a token bucket: a client (the account of a valid account token, else
// the address the request came from) may make Burst uploads in a row, and after that PerHour uploads an hour, one
// every 3600/PerHour seconds. PerHour 0 turns the limit off.
type RateLimit struct {
	PerHour int
	Burst   int
}

// The defaults of toncon serve. A burst of 20 lets someone bring a whole slide deck's pictures or a handful of
// models into a room at once; 60 an hour (one a minute, on average) is far more than a person in an event uses,
// and stops a script from storing thousands of files. Refused uploads (wrong type, too large) count too: each one
// made the server read a body.
const (
	DefaultRatePerHour = 60
	DefaultRateBurst   = 20
)

// maxBuckets bounds the limiter's memory (about 100 bytes a bucket, so some 10 MB at most). Buckets that have
// refilled are dropped anyway; this only matters when that many clients have uploaded within one refill time.
const maxBuckets = 100_000

// bucketSweepEvery is how many takes pass between sweeps of refilled buckets.
const bucketSweepEvery = 1024

// limiter is a token bucket per client key.
type limiter struct {
	every time.Duration // one token per every
	burst float64
	max   int // most buckets held: maxBuckets (tests lower it)

	mu      sync.Mutex // guards buckets and takes
	buckets map[string]bucket
	takes   int
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was right
}

// newLimiter returns nil (no limit) when rl.PerHour is 0.
func newLimiter(rl RateLimit) (*limiter, error) {
	switch {
	case rl.PerHour == 0:
		return nil, nil
	case rl.PerHour < 0 || rl.Burst < 1:
		return nil, fmt.Errorf("uploads: the rate limit needs PerHour >= 0 and Burst >= 1 (got %d an hour, burst %d)", rl.PerHour, rl.Burst)
	}
	return &limiter{every: time.Hour / time.Duration(rl.PerHour), burst: float64(rl.Burst), max: maxBuckets,
		buckets: map[string]bucket{}}, nil
}

// refilled is b's tokens at now.
func (l *limiter) refilled(b bucket, now time.Time) float64 {
	if el := now.Sub(b.at); el > 0 {
		return math.Min(l.burst, b.tokens+float64(el)/float64(l.every))
	}
	return b.tokens
}

// take spends one of key's tokens at now. When there is none it spends nothing and says how long until there is.
func (l *limiter) take(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.takes++
	if l.takes%bucketSweepEvery == 0 || len(l.buckets) >= l.max {
		l.sweep(now)
	}
	b, found := l.buckets[key]
	if found {
		b = bucket{tokens: l.refilled(b, now), at: now}
	} else {
		b = bucket{tokens: l.burst, at: now}
	}
	if b.tokens >= 1 {
		b.tokens--
		l.buckets[key] = b
		return true, 0
	}
	l.buckets[key] = b
	// Rounded to the millisecond, so float error does not turn 60 s into 60.000000001 (a Retry-After of 61).
	return false, time.Duration((1 - b.tokens) * float64(l.every)).Round(time.Millisecond)
}

// sweep drops the buckets that are full again (a full bucket is the same as none). When more than nine tenths of
// l.max are still refilling after that, it drops buckets, whichever the map yields first, down to nine
// tenths: those clients start afresh, which weakens the limit only for someone who controls some hundred thousand
// addresses (the storage floor and cap still hold). So memory stays bounded, and a full sweep runs at most once
// per l.max/10 new clients.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if l.refilled(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) <= l.max*9/10 {
			break
		}
		delete(l.buckets, k)
	}
}

// size is the number of buckets held.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// waitWords says a wait the way a person would: "about 40 seconds", "about 3 minutes".
func waitWords(d time.Duration) string {
	s := int(math.Ceil(d.Seconds()))
	switch {
	case s <= 1:
		return "a second"
	case s < 90:
		return fmt.Sprintf("about %d seconds", s)
	}
	m := (s + 59) / 60
	return fmt.Sprintf("about %d minutes", m)
}
