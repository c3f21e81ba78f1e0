package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"toncon/internal/cost"
)

// RunProber probes a load level with a real run against a server.
type RunProber struct {
	// Base is the run at every level; Rooms (or PerRoom, for the single-room profile) is set from the people.
	Base Config
	// Pause between steps lets the server close the last step's sockets before the next begins.
	Pause time.Duration
	// OnResult, when set, gets each run's full result.
	OnResult func(*Result)
}

// Probe implements Prober.
func (p *RunProber) Probe(ctx context.Context, users int) (Step, error) {
	cfg := p.Base
	if cfg.Profile.SingleRoom {
		cfg.Rooms, cfg.PerRoom = 1, users
	} else {
		cfg.Rooms = int(math.Ceil(float64(users) / float64(cfg.PerRoom)))
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		return Step{}, err
	}
	if p.OnResult != nil {
		p.OnResult(res)
	}
	if res.Server.Error != "" {
		return Step{}, fmt.Errorf("the server's CPU time is needed for users per vCPU: %s", res.Server.Error)
	}
	sleep(ctx, p.Pause)
	return StepFromResult(res), nil
}

// CapacityReport is what `toncon loadtest capacity` found, per profile.
type CapacityReport struct {
	Machine    string                   `json:"machine"`
	MeasuredAt time.Time                `json:"measured_at"`
	SLO        string                   `json:"slo"`
	PerRoom    int                      `json:"per_room"`
	Version    string                   `json:"toncon_version,omitempty"`
	Profiles   map[string]*SearchResult `json:"profiles"`
	// Media says whether the steps included voice (--media), and Talkers the share of each room that talked
	// when --talkers set it (0: the profiles' own).
	Media   bool    `json:"media"`
	Talkers float64 `json:"talkers,omitempty"`
}

// voiceNote says in words what voice the measurement included.
func (r *CapacityReport) voiceNote() string {
	switch {
	case !r.Media:
		return "no voice (measured without --media)"
	case r.Talkers > 0:
		return fmt.Sprintf("voice through the SFU, %g of each room talking", r.Talkers)
	}
	return "voice through the SFU: a third of each room talking (active), one speaker per room (inactive)"
}

// capacityFile is the file `toncon cost --capacity` reads (cost.Capacity) with the searches behind it, which
// the planner ignores and a reader may want.
type capacityFile struct {
	cost.Capacity
	PerRoom         int                      `json:"per_room"`
	Media           bool                     `json:"media"` // the steps included voice (--media)
	SingleRoomUsers int                      `json:"single_room_users,omitempty"`
	Profiles        map[string]*SearchResult `json:"profiles"`
}

// CapacityFile renders the report as a capacity file. It needs the active and the inactive searches, each with
// a level that held the SLO.
func (r *CapacityReport) CapacityFile() ([]byte, error) {
	perVCPU := func(name string) (float64, error) {
		s := r.Profiles[name]
		switch {
		case s == nil:
			return 0, fmt.Errorf("the capacity file needs the %s profile: measure it with --profiles active,inactive", name)
		case s.Best == nil || s.Best.UsersPerVCPU <= 0:
			return 0, fmt.Errorf("the %s profile broke the SLO at its first step: there is no figure to write; start lower (--start)", name)
		}
		return s.Best.UsersPerVCPU, nil
	}
	active, err := perVCPU("active")
	if err != nil {
		return nil, err
	}
	inactive, err := perVCPU("inactive")
	if err != nil {
		return nil, err
	}
	f := capacityFile{
		Capacity: cost.Capacity{Version: cost.CapacityVersion, MeasuredAt: r.MeasuredAt.UTC().Truncate(time.Second),
			Machine: r.Machine, ActiveUsersPerVCPU: active, InactiveUsersPerVCPU: inactive, SLO: r.SLO,
			TonconVersion: r.Version,
			Notes: fmt.Sprintf("toncon loadtest capacity: rooms of %d; active: everyone moving, %g updates/s; "+
				"inactive: one in %d moving, the rest still at %g a second; %s",
				r.PerRoom, Profiles["active"].Rate, Profiles["inactive"].MovingOneIn, Profiles["inactive"].StillRate, r.voiceNote())},
		PerRoom: r.PerRoom, Media: r.Media, Profiles: r.Profiles,
	}
	if s := r.Profiles["single-room"]; s != nil && s.Best != nil {
		f.SingleRoomUsers = s.Best.Users - s.Best.Failed
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "p99<200ms" readable: the file is for people too
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DescribeMachine names the CPU this program runs on and the cores it may use, as a default for the capacity
// file's machine field. How the server was pinned is for the person running the test to add.
func DescribeMachine() string {
	model := runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores visible to the load generator", model, runtime.NumCPU())
}
