package loadtest

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"toncon/internal/cost"
)

func TestParseSLO(t *testing.T) {
	slo, err := ParseSLO(" p99<200ms, loss<1% ")
	if err != nil {
		t.Fatal(err)
	}
	if slo.P99 != 200*time.Millisecond || slo.LossPercent != 1 || slo.P50 != 0 || slo.String() != "p99<200ms,loss<1%" {
		t.Fatalf("%+v", slo)
	}
	slo, err = ParseSLO("p50<20ms,p95<0.1s,MAX<2s")
	if err != nil || slo.P50 != 20*time.Millisecond || slo.P95 != 100*time.Millisecond || slo.Max != 2*time.Second || slo.LossPercent >= 0 {
		t.Fatalf("%+v %v", slo, err)
	}
	for _, bad := range []string{"", "p99", "p99>200ms", "p99<fast", "p99<-1ms", "p98<200ms", "loss<1", "loss<0%", "loss<101%", "p99<200ms,,loss<1%"} {
		if _, err := ParseSLO(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSLOCheck(t *testing.T) {
	slo, _ := ParseSLO("p99<200ms,loss<1%")
	good := Step{Users: 48, P99: 150 * time.Millisecond, LossPercent: 0.5, Samples: 1000}
	if ok, why := slo.Check(good); !ok {
		t.Fatalf("held step refused: %s", why)
	}
	for name, st := range map[string]Step{
		"slow":         {Users: 48, P99: 200 * time.Millisecond, Samples: 1000},
		"lossy":        {Users: 48, P99: time.Millisecond, LossPercent: 1, Samples: 1000},
		"joins":        {Users: 48, Failed: 1, P99: time.Millisecond, Samples: 1000},
		"nothing came": {Users: 48},
	} {
		if ok, why := slo.Check(st); ok || why == "" {
			t.Errorf("%s: held (%q)", name, why)
		}
	}
}

// With --media a step holds only if voice holds too: the worse delay and loss of the two count, people who
// could not join the media count as failed, and a talker with no voice measured cannot hold.
func TestStepFromResultCountsVoice(t *testing.T) {
	slo, _ := ParseSLO("p99<200ms,loss<1%")
	pose := func() *Result {
		return &Result{Users: 24, Entered: 24, Delay: DelayStats{Samples: 1000, P50MS: 20, P95MS: 60, P99MS: 90, MaxMS: 120},
			Loss: LossStats{Percent: 0.1}}
	}
	if st := StepFromResult(pose()); st.P99 != 90*time.Millisecond || st.Failed != 0 {
		t.Fatalf("without media: %+v", st)
	}
	res := pose()
	res.Media = &MediaStats{Talkers: 8, Delay: DelayStats{Samples: 500, P50MS: 10, P95MS: 150, P99MS: 250, MaxMS: 300},
		Loss: LossStats{Percent: 0.05}}
	st := StepFromResult(res)
	if st.P50 != 20*time.Millisecond || st.P50MS != 20 || st.P95MS != 150 || st.P99 != 250*time.Millisecond || st.P99MS != 250 ||
		st.Max != 300*time.Millisecond || st.LossPercent != 0.1 || st.Samples != 1000 {
		t.Errorf("the worse of pose and voice: %+v", st)
	}
	if ok, why := slo.Check(st); ok || !strings.Contains(why, "p99") {
		t.Errorf("slow voice held: %q", why)
	}
	for name, m := range map[string]*MediaStats{
		"voice lossy":   {Talkers: 8, Delay: DelayStats{Samples: 500, P99MS: 50}, Loss: LossStats{Percent: 2}},
		"media failed":  {Talkers: 8, Failed: 1, Delay: DelayStats{Samples: 500, P99MS: 50}},
		"no voice came": {Talkers: 8},
	} {
		res := pose()
		res.Media = m
		if ok, why := slo.Check(StepFromResult(res)); ok {
			t.Errorf("%s: held (%q)", name, why)
		}
	}
}

// simulated is a server whose delay grows steeply as it nears its ceiling and which loses updates past it, the
// shape real runs have: flat, then a knee.
type simulated struct {
	ceiling float64 // people at which p99 reaches 200 ms
	probes  []int
	fail    error
}

func (s *simulated) Probe(_ context.Context, users int) (Step, error) {
	s.probes = append(s.probes, users)
	if s.fail != nil {
		return Step{}, s.fail
	}
	load := float64(users) / s.ceiling
	p99 := time.Duration((5 + 195*math.Pow(load, 8)) * float64(time.Millisecond))
	loss := 0.0
	if load > 1 {
		loss = 30 * (load - 1)
	}
	return Step{Users: users, P99: p99, LossPercent: loss, Samples: uint64(users) * 100,
		ServerCPUSeconds: 20 * min(load, 1), WallSeconds: 20}, nil
}

func TestSearchFindsTheKneeOfASimulatedServer(t *testing.T) {
	slo, _ := ParseSLO("p99<200ms,loss<1%")
	for _, ceiling := range []float64{30, 100, 241, 500, 1234, 3000} {
		sim := &simulated{ceiling: ceiling}
		cfg := SearchConfig{Start: 48, Unit: 24, Max: 5000, MaxSteps: 14}
		res, err := Search(context.Background(), sim, slo, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ceiling != "found" || res.Best == nil || res.Broken == nil {
			t.Fatalf("ceiling %v: ended %q after %v", ceiling, res.Ceiling, sim.probes)
		}
		if float64(res.Best.Users) >= ceiling || float64(res.Broken.Users) < ceiling {
			t.Errorf("ceiling %v: held %d, broke %d", ceiling, res.Best.Users, res.Broken.Users)
		}
		if gap := res.Broken.Users - res.Best.Users; gap > 24 && float64(gap) > 0.05*float64(res.Best.Users)+24 {
			t.Errorf("ceiling %v: held %d, broke %d: not narrowed", ceiling, res.Best.Users, res.Broken.Users)
		}
		seen := map[int]bool{}
		for _, n := range sim.probes {
			if n%24 != 0 || n <= 0 || n > 5000 || seen[n] {
				t.Errorf("ceiling %v: probe of %d people (all: %v)", ceiling, n, sim.probes)
			}
			seen[n] = true
		}
		if len(res.Steps) != len(sim.probes) || len(res.Steps) > 14 {
			t.Errorf("ceiling %v: %d steps for %d probes", ceiling, len(res.Steps), len(sim.probes))
		}
		// At the most it held, the simulated server is below one core: users per vCPU extrapolates to a full one.
		if want := float64(res.Best.Users) / math.Min(float64(res.Best.Users)/ceiling, 1); math.Abs(res.Best.UsersPerVCPU-want) > 1 {
			t.Errorf("ceiling %v: users per vCPU %v, want %v", ceiling, res.Best.UsersPerVCPU, want)
		}
	}
}

func TestSearchStopsAtItsBounds(t *testing.T) {
	slo, _ := ParseSLO("p99<200ms")
	ctx := context.Background()

	sim := &simulated{ceiling: 1e6}
	res, err := Search(ctx, sim, slo, SearchConfig{Start: 10, Unit: 10, Max: 100})
	if err != nil || res.Ceiling != "max" || res.Best.Users != 100 || res.Broken != nil {
		t.Fatalf("unbreakable server: %v %+v after %v", err, res, sim.probes)
	}

	sim = &simulated{ceiling: 5}
	res, err = Search(ctx, sim, slo, SearchConfig{Start: 40, Unit: 10, Max: 100})
	if err != nil || res.Ceiling != "below start" || res.Best != nil || sim.probes[len(sim.probes)-1] != 10 {
		t.Fatalf("a server that holds less than one unit: %v %+v after %v", err, res, sim.probes)
	}

	sim = &simulated{ceiling: 2000}
	res, err = Search(ctx, sim, slo, SearchConfig{Start: 10, Unit: 10, Max: 5000, MaxSteps: 3})
	if err != nil || res.Ceiling != "steps" || len(sim.probes) != 3 {
		t.Fatalf("out of steps: %v %+v after %v", err, res, sim.probes)
	}

	sim = &simulated{ceiling: 2000, fail: errors.New("connection refused")}
	if _, err = Search(ctx, sim, slo, SearchConfig{Start: 10, Unit: 10, Max: 100}); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("a failing probe: %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = Search(cancelled, &simulated{ceiling: 100}, slo, SearchConfig{Start: 10, Unit: 10, Max: 100}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	for _, bad := range []SearchConfig{{Start: 10, Unit: 0, Max: 100}, {Start: 10, Unit: 10, Max: 5}, {Start: 10, Unit: 10, Max: 100, Growth: 0.5}, {Start: 10, Unit: 10, Max: 100, MaxSteps: 500}} {
		if _, err := Search(ctx, &simulated{ceiling: 100}, slo, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestCapacityFileIsWhatTheCostPlannerReads(t *testing.T) {
	slo, _ := ParseSLO("p99<200ms,loss<1%")
	search := func(ceiling float64) *SearchResult {
		res, err := Search(context.Background(), &simulated{ceiling: ceiling}, slo, SearchConfig{Start: 48, Unit: 24, Max: 5000})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	rep := &CapacityReport{Machine: "AMD EPYC, server pinned to 1 core", MeasuredAt: time.Date(2026, 11, 28, 12, 0, 0, 123, time.UTC),
		SLO: slo.String(), PerRoom: 24, Version: "v0.0.0-test",
		Profiles: map[string]*SearchResult{"active": search(300), "inactive": search(900), "single-room": search(150)}}
	b, err := rep.CapacityFile()
	if err != nil {
		t.Fatal(err)
	}
	c, err := cost.ParseCapacity(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if c.ActiveUsersPerVCPU != rep.Profiles["active"].Best.UsersPerVCPU || c.InactiveUsersPerVCPU != rep.Profiles["inactive"].Best.UsersPerVCPU {
		t.Errorf("figures %v / %v", c.ActiveUsersPerVCPU, c.InactiveUsersPerVCPU)
	}
	if c.ActiveUsersPerVCPU < 250 || c.InactiveUsersPerVCPU < 800 {
		t.Errorf("figures %v / %v for ceilings 300 / 900 per core", c.ActiveUsersPerVCPU, c.InactiveUsersPerVCPU)
	}
	if c.Machine != rep.Machine || c.SLO != "p99<200ms,loss<1%" || c.TonconVersion != "v0.0.0-test" || !strings.Contains(c.Notes, "rooms of 24") {
		t.Errorf("%+v", c)
	}
	if !bytes.Contains(b, []byte(`"single_room_users"`)) || !bytes.Contains(b, []byte(`"steps"`)) || !bytes.Contains(b, []byte(`"slo": "p99<200ms,loss<1%"`)) {
		t.Errorf("the searches are not in the file:\n%s", b)
	}
	if !strings.Contains(c.Notes, "no voice") || !bytes.Contains(b, []byte(`"media": false`)) {
		t.Errorf("a run without --media must say it left voice out: %q", c.Notes)
	}
	rep.Media = true
	if b, err := rep.CapacityFile(); err != nil || !bytes.Contains(b, []byte("a third of each room talking")) || !bytes.Contains(b, []byte(`"media": true`)) {
		t.Errorf("with --media: %v\n%s", err, b)
	}

	delete(rep.Profiles, "inactive")
	if _, err := rep.CapacityFile(); err == nil || !strings.Contains(err.Error(), "inactive") {
		t.Errorf("without the inactive profile: %v", err)
	}
	rep.Profiles["inactive"] = &SearchResult{Ceiling: "below start"}
	if _, err := rep.CapacityFile(); err == nil || !strings.Contains(err.Error(), "start lower") {
		t.Errorf("with nothing held: %v", err)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
process_resident_memory_bytes 4.2e+07
toncon_build_info{version="v1.2.3"} 1
toncon_frames_sent_total 1000
toncon_naf_dropped_total{reason="slow_consumer"} 7
toncon_naf_dropped_total{reason="not_owner"} 2
toncon_naf_dropped_total{reason="rate_limited"} 0
toncon_join_duration_seconds_bucket{le="+Inf"} 3
toncon_media_peers 24
toncon_media_tracks 8
toncon_media_streams 184
toncon_media_forwarded_packets_total 9.2e+06
`
	s, err := parseMetrics([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if s.cpuSeconds != 12.5 || s.residentBytes != 42e6 || s.version != "v1.2.3" || s.framesOut != 1000 || s.nafDroppedSlow != 7 ||
		s.nafRejected["not_owner"] != 2 || len(s.nafRejected) != 2 ||
		s.mediaPeers != 24 || s.mediaTracks != 8 || s.mediaStreams != 184 || s.mediaForwarded != 9.2e6 {
		t.Fatalf("%+v", s)
	}
	if _, err := parseMetrics([]byte("go_goroutines 5\n")); err == nil {
		t.Error("metrics without process CPU accepted")
	}
	if _, err := parseMetrics([]byte("process_cpu_seconds_total lots\n")); err == nil {
		t.Error("a bad value accepted")
	}
}
