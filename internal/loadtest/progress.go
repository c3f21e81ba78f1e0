package loadtest

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Progress is the state of a run at one moment, for a live progress line. Rates, delays and gaps are over the
// last interval only.
type Progress struct {
	Phase                     string // joining, warming up, measuring, draining
	Elapsed                   time.Duration
	WindowElapsed, Window     time.Duration
	Users, Entered, Lobby     int
	Failed, Connecting        int
	P50, P99                  time.Duration
	Samples                   uint64
	GapPercent                float64 // sequence gaps among the updates received and skipped
	InPerSecond, OutPerSecond float64
	// Voice, with --media: delays of the packets received and the share of sequence gaps, over the last
	// interval; VoiceInPerSecond is voice packets received a second.
	Media                      bool
	VoiceP50, VoiceP99         time.Duration
	VoiceSamples               uint64
	VoiceGapPercent            float64
	VoiceInPerSecond           float64
	MediaConnected, MediaFails int
	ServerCPUPercent           float64 // of one core; negative when /metrics cannot be read
	GeneratorCPUPercent        float64 // of one core
}

// String is the progress as one line.
func (p Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %5.0fs", p.Phase, p.Elapsed.Seconds())
	if p.Window > 0 && p.WindowElapsed > 0 {
		fmt.Fprintf(&b, " (%.0f/%.0fs)", min(p.WindowElapsed, p.Window).Seconds(), p.Window.Seconds())
	}
	fmt.Fprintf(&b, " | in room %d/%d", p.Entered, p.Users)
	if p.Lobby > 0 {
		fmt.Fprintf(&b, ", lobby %d", p.Lobby)
	}
	if p.Failed > 0 {
		fmt.Fprintf(&b, ", failed %d", p.Failed)
	}
	if p.Samples > 0 {
		fmt.Fprintf(&b, " | delay p50 %s p99 %s | gaps %.2f%%", ms(p.P50), ms(p.P99), p.GapPercent)
	}
	fmt.Fprintf(&b, " | msg/s out %s in %s", count(p.OutPerSecond), count(p.InPerSecond))
	if p.Media {
		fmt.Fprintf(&b, " | voice %d connected", p.MediaConnected)
		if p.MediaFails > 0 {
			fmt.Fprintf(&b, ", %d failed", p.MediaFails)
		}
		if p.VoiceSamples > 0 {
			fmt.Fprintf(&b, ", p50 %s p99 %s, gaps %.2f%%", ms(p.VoiceP50), ms(p.VoiceP99), p.VoiceGapPercent)
		}
		fmt.Fprintf(&b, ", %s pkt/s in", count(p.VoiceInPerSecond))
	}
	if p.ServerCPUPercent >= 0 {
		fmt.Fprintf(&b, " | server CPU %.0f%%", p.ServerCPUPercent)
	}
	fmt.Fprintf(&b, " | generator CPU %.0f%%", p.GeneratorCPUPercent)
	return b.String()
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

// count prints a rate compactly: 950, 12.3k, 1.20M.
func count(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// startProgress reports progress until the returned function is called; that function waits for the reporter
// to stop.
func (r *run) startProgress(ctx context.Context) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		prev := r.sample(ctx)
		for {
			select {
			case <-t.C:
			case <-done:
				return
			case <-ctx.Done():
				return
			}
			cur := r.sample(ctx)
			r.cfg.Progress(r.progress(prev, cur))
			prev = cur
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (r *run) progress(prev, cur sample) Progress {
	p := Progress{Elapsed: cur.at.Sub(r.start), Users: len(r.persons), ServerCPUPercent: -1}
	p.Entered, p.Lobby, p.Failed, p.Connecting = r.stateCounts()
	ws, we := r.windowStart.Load(), r.windowEnd.Load()
	now := cur.at.UnixMicro()
	switch {
	case ws == math.MaxInt64 && p.Connecting > 0:
		p.Phase = "joining"
	case ws == math.MaxInt64 || now < ws:
		p.Phase = "warming up"
	case now < we:
		p.Phase = "measuring"
	default:
		p.Phase = "draining"
	}
	if ws != math.MaxInt64 {
		p.Window = time.Duration(we-ws) * time.Microsecond
		p.WindowElapsed = max(0, time.Duration(now-ws)*time.Microsecond)
	}
	secs := cur.at.Sub(prev.at).Seconds()
	if secs <= 0 {
		return p
	}
	d := cur.c.delays.minus(&prev.c.delays)
	p.Samples = d.n
	p.P50, p.P99 = d.quantile(0.50), d.quantile(0.99)
	got, gaps := cur.c.posesIn-prev.c.posesIn, cur.c.gaps-prev.c.gaps
	if got+gaps > 0 {
		p.GapPercent = 100 * float64(gaps) / float64(got+gaps)
	}
	p.InPerSecond = float64(cur.c.framesIn-prev.c.framesIn) / secs
	p.OutPerSecond = float64(cur.c.framesOut-prev.c.framesOut) / secs
	p.GeneratorCPUPercent = 100 * (cur.cpu - prev.cpu).Seconds() / secs
	if r.media != nil {
		p.Media = true
		for _, x := range r.persons {
			switch x.mediaState.Load() {
			case mediaReady:
				p.MediaConnected++
			case mediaFailed:
				p.MediaFails++
			}
		}
		vd := cur.c.voice.delays.minus(&prev.c.voice.delays)
		p.VoiceSamples, p.VoiceP50, p.VoiceP99 = vd.n, vd.quantile(0.50), vd.quantile(0.99)
		vin, vgaps := cur.c.voice.packetsIn-prev.c.voice.packetsIn, cur.c.voice.gaps-prev.c.voice.gaps
		if vin+vgaps > 0 {
			p.VoiceGapPercent = 100 * float64(vgaps) / float64(vin+vgaps)
		}
		p.VoiceInPerSecond = float64(vin) / secs
	}
	if cur.server != nil && prev.server != nil {
		p.ServerCPUPercent = 100 * (cur.server.cpuSeconds - prev.server.cpuSeconds) / secs
	}
	return p
}
