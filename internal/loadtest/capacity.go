package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SLO is the service level a capacity search holds the server to. Zero fields are not checked.
type SLO struct {
	P50, P95, P99, Max time.Duration
	LossPercent        float64 // updates lost, in percent; negative means not checked
	text               string
}

// ParseSLO reads a service level such as "p99<200ms,loss<1%": comma-separated limits, each a delay percentile
// (p50, p95, p99, max) below a duration, or loss below a percentage.
func ParseSLO(s string) (SLO, error) {
	slo := SLO{LossPercent: -1, text: strings.ReplaceAll(strings.TrimSpace(s), " ", "")}
	if slo.text == "" {
		return slo, errors.New(`give a service level such as "p99<200ms,loss<1%"`)
	}
	for _, part := range strings.Split(slo.text, ",") {
		name, limit, ok := strings.Cut(part, "<")
		if !ok || limit == "" {
			return slo, fmt.Errorf("%q: write each limit as name<value, such as p99<200ms or loss<1%%", part)
		}
		var dst *time.Duration
		switch strings.ToLower(name) {
		case "p50":
			dst = &slo.P50
		case "p95":
			dst = &slo.P95
		case "p99":
			dst = &slo.P99
		case "max":
			dst = &slo.Max
		case "loss":
			v, err := strconv.ParseFloat(strings.TrimSuffix(limit, "%"), 64)
			if err != nil || !strings.HasSuffix(limit, "%") || v <= 0 || v > 100 {
				return slo, fmt.Errorf("%q: loss is a percentage above 0, such as loss<1%%", part)
			}
			slo.LossPercent = v
			continue
		default:
			return slo, fmt.Errorf("%q: the limits are p50, p95, p99, max (delays) and loss (a percentage)", part)
		}
		d, err := time.ParseDuration(limit)
		if err != nil || d <= 0 {
			return slo, fmt.Errorf("%q: a delay limit is a duration above 0, such as 200ms", part)
		}
		*dst = d
	}
	return slo, nil
}

func (s SLO) String() string { return s.text }

// Check says whether a step held the SLO, and if not, why.
func (s SLO) Check(st Step) (ok bool, why string) {
	var broke []string
	if st.Failed > 0 {
		broke = append(broke, fmt.Sprintf("%d of %d people could not join or enter", st.Failed, st.Users))
	}
	for _, c := range []struct {
		name       string
		limit, got time.Duration
	}{{"p50", s.P50, st.P50}, {"p95", s.P95, st.P95}, {"p99", s.P99, st.P99}, {"max", s.Max, st.Max}} {
		if c.limit > 0 && c.got >= c.limit {
			broke = append(broke, fmt.Sprintf("%s %s ≥ %s", c.name, ms(c.got), ms(c.limit)))
		}
	}
	if s.LossPercent >= 0 && st.LossPercent >= s.LossPercent {
		broke = append(broke, fmt.Sprintf("loss %.2f%% ≥ %g%%", st.LossPercent, s.LossPercent))
	}
	if st.Samples == 0 {
		broke = append(broke, "no updates were measured")
	}
	return len(broke) == 0, strings.Join(broke, ", ")
}

// Step is what one load level measured.
type Step struct {
	Users            int           `json:"users"`
	Failed           int           `json:"failed"` // could not join, or kept in the lobby
	P50              time.Duration `json:"-"`
	P95              time.Duration `json:"-"`
	P99              time.Duration `json:"-"`
	Max              time.Duration `json:"-"`
	P50MS            float64       `json:"p50_ms"`
	P95MS            float64       `json:"p95_ms"`
	P99MS            float64       `json:"p99_ms"`
	Samples          uint64        `json:"samples"`
	LossPercent      float64       `json:"loss_percent"`
	ServerCPUSeconds float64       `json:"server_cpu_seconds"`
	WallSeconds      float64       `json:"wall_seconds"`
	UsersPerVCPU     float64       `json:"users_per_vcpu"`
	GeneratorBusy    bool          `json:"generator_saturated,omitempty"`
	Held             bool          `json:"held"`
	Why              string        `json:"why,omitempty"` // what broke
}

// StepFromResult condenses a run's result into a step.
func StepFromResult(res *Result) Step {
	st := Step{Users: res.Users, Failed: res.Users - res.Entered,
		P50: msDur(res.Delay.P50MS), P95: msDur(res.Delay.P95MS), P99: msDur(res.Delay.P99MS), Max: msDur(res.Delay.MaxMS),
		P50MS: res.Delay.P50MS, P95MS: res.Delay.P95MS, P99MS: res.Delay.P99MS,
		Samples: res.Delay.Samples, LossPercent: res.Loss.Percent, ServerCPUSeconds: res.Server.CPUSeconds,
		WallSeconds: res.WindowSeconds, GeneratorBusy: res.Generator.Saturated}
	if m := res.Media; m != nil {
		// With voice, a step holds only if voice holds too: the worse of the two counts, and people who got into
		// the room but not its media count as failed.
		st.Failed += m.Failed
		worse := func(d *time.Duration, dms *float64, v float64) {
			if v > *dms {
				*dms, *d = v, msDur(v)
			}
		}
		worse(&st.P50, &st.P50MS, m.Delay.P50MS)
		worse(&st.P95, &st.P95MS, m.Delay.P95MS)
		worse(&st.P99, &st.P99MS, m.Delay.P99MS)
		if d := msDur(m.Delay.MaxMS); d > st.Max {
			st.Max = d
		}
		st.LossPercent = max(st.LossPercent, m.Loss.Percent)
		if m.Talkers > 0 && m.Delay.Samples == 0 {
			st.Samples = 0 // voice was meant to flow and none was measured: the step cannot hold
		}
	}
	return st
}

func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// Prober runs the load at one level. The capacity search needs nothing else, so it can be tested against a
// simulated server.
type Prober interface {
	Probe(ctx context.Context, users int) (Step, error)
}

// SearchConfig bounds a capacity search.
type SearchConfig struct {
	Start    int     // people in the first step; rounded up to a whole Unit
	Unit     int     // people are added in whole units (a room's worth for rooms; a handful for one room)
	Max      int     // never more people than this
	Growth   float64 // each step while the SLO holds multiplies the people by this, default 2
	MaxSteps int     // at most this many steps, default 12
	// Precision ends the bisection once the gap between held and broken is within this share of the people
	// held, default 0.05; never finer than one Unit.
	Precision float64
	// OnStep, when set, is told about each step as it ends.
	OnStep func(Step)
}

// SearchResult is a capacity search's outcome.
type SearchResult struct {
	SLO    string `json:"slo"`
	Best   *Step  `json:"best"`   // the most people that held the SLO; nil when even the first level broke it
	Broken *Step  `json:"broken"` // the fewest that broke it; nil when the search stopped at Max or MaxSteps first
	Steps  []Step `json:"steps"`
	// Ceiling says how the search ended: "found" (between Best and Broken, within the precision), "max" (Max
	// people held), "steps" (out of steps) or "below start" (the smallest level broke the SLO).
	Ceiling string `json:"ceiling"`
}

func (c *SearchConfig) setDefaults() error {
	if c.Unit < 1 || c.Start < 1 || c.Max < c.Unit {
		return errors.New("capacity search: the unit, the start and the maximum must be at least 1, and the maximum at least one unit")
	}
	if c.Growth == 0 {
		c.Growth = 2
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = 12
	}
	if c.Precision == 0 {
		c.Precision = 0.05
	}
	if c.Growth <= 1 || c.Growth > 10 || c.MaxSteps < 1 || c.MaxSteps > 50 || c.Precision < 0 || c.Precision >= 1 {
		return errors.New("capacity search: growth must be above 1 and at most 10, steps 1 to 50, precision from 0 to 1")
	}
	return nil
}

// Search raises the number of people until the SLO breaks, then narrows the gap between the most that held and
// the fewest that broke by bisection. Every step is a whole number of units; the search ends within MaxSteps.
func Search(ctx context.Context, p Prober, slo SLO, cfg SearchConfig) (*SearchResult, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	res := &SearchResult{SLO: slo.String()}
	units := func(n int) int { return int(math.Ceil(float64(n) / float64(cfg.Unit))) }
	maxU := cfg.Max / cfg.Unit
	good, bad := 0, math.MaxInt // in units
	next := min(units(cfg.Start), maxU)
	for len(res.Steps) < cfg.MaxSteps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		st, err := p.Probe(ctx, next*cfg.Unit)
		if err != nil {
			return res, fmt.Errorf("step %d (%d people): %w", len(res.Steps)+1, next*cfg.Unit, err)
		}
		st.Held, st.Why = slo.Check(st)
		if st.ServerCPUSeconds > 0 && st.WallSeconds > 0 {
			st.UsersPerVCPU = round(float64(st.Users-st.Failed)/(st.ServerCPUSeconds/st.WallSeconds), 1)
		}
		res.Steps = append(res.Steps, st)
		if cfg.OnStep != nil {
			cfg.OnStep(st)
		}
		if st.Held {
			good = next
			s := st
			res.Best = &s
		} else {
			bad = next
			s := st
			res.Broken = &s
		}
		switch {
		case bad == math.MaxInt && good >= maxU:
			res.Ceiling = "max"
			return res, nil
		case bad == math.MaxInt:
			next = min(maxU, max(good+1, int(math.Floor(float64(good)*cfg.Growth))))
		case good == 0 && bad == 1:
			res.Ceiling = "below start"
			return res, nil
		case bad-good <= 1 || float64(bad-good) <= cfg.Precision*float64(good):
			res.Ceiling = "found"
			return res, nil
		default:
			next = (good + bad) / 2
		}
	}
	res.Ceiling = "steps"
	return res, nil
}
