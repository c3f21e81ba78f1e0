package cost

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodCapacity = `{
  "version": 1,
  "measured_at": "2026-03-01T12:00:00Z",
  "machine": "EPYC 7B13, server pinned to 1 core",
  "active_users_per_vcpu": 100,
  "inactive_users_per_vcpu": 250.5,
  "slo": "p99<200ms,loss<1%",
  "toncon_version": "v0.1.0",
  "runs": [{"users": 100, "p99_ms": 120}]
}`

func TestParseCapacityGood(t *testing.T) {
	c, err := ParseCapacity(strings.NewReader(goodCapacity))
	if err != nil {
		t.Fatal(err)
	}
	want := Capacity{Version: 1, MeasuredAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Machine: "EPYC 7B13, server pinned to 1 core", ActiveUsersPerVCPU: 100, InactiveUsersPerVCPU: 250.5,
		SLO: "p99<200ms,loss<1%", TonconVersion: "v0.1.0"}
	if !c.MeasuredAt.Equal(want.MeasuredAt) {
		t.Errorf("measured_at %v", c.MeasuredAt)
	}
	c.MeasuredAt = want.MeasuredAt
	if *c != want {
		t.Errorf("got %+v\nwant %+v", *c, want)
	}
	if s := c.Source(); !strings.Contains(s, "EPYC") || !strings.Contains(s, "p99<200ms") || !strings.Contains(s, "100 active") {
		t.Errorf("source %q", s)
	}
}

func TestParseCapacityBad(t *testing.T) {
	for _, tc := range []struct {
		name, in, field, says string
	}{
		{"empty", ``, "", "empty"},
		{"not JSON", `version: 1`, "", "line 1 column 1"},
		{"syntax error on line 3", "{\n \"version\": 1,\n \"machine\" \"x\"\n}", "", "line 3"},
		{"two values", `{"version":1} {}`, "", "more than one"},
		{"missing version", `{"measured_at":"2026-03-01T12:00:00Z","machine":"m","active_users_per_vcpu":1,"inactive_users_per_vcpu":2}`, "version", "missing"},
		{"future version", `{"version":2}`, "version", "not supported"},
		{"missing measured_at", `{"version":1,"machine":"m","active_users_per_vcpu":1,"inactive_users_per_vcpu":2}`, "measured_at", "missing"},
		{"bad measured_at", `{"version":1,"measured_at":"yesterday","machine":"m","active_users_per_vcpu":1,"inactive_users_per_vcpu":2}`, "measured_at", "not a time"},
		{"missing machine", `{"version":1,"measured_at":"2026-03-01T12:00:00Z","active_users_per_vcpu":1,"inactive_users_per_vcpu":2}`, "machine", "missing"},
		{"blank machine", `{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":" ","active_users_per_vcpu":1,"inactive_users_per_vcpu":2}`, "machine", "missing"},
		{"missing active", `{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":"m","inactive_users_per_vcpu":2}`, "active_users_per_vcpu", "missing"},
		{"missing inactive", `{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":"m","active_users_per_vcpu":1}`, "inactive_users_per_vcpu", "missing"},
		{"zero active", `{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":"m","active_users_per_vcpu":0,"inactive_users_per_vcpu":2}`, "active_users_per_vcpu", "out of range"},
		{"negative inactive", `{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":"m","active_users_per_vcpu":1,"inactive_users_per_vcpu":-2}`, "inactive_users_per_vcpu", "out of range"},
		{"string where a number goes", `{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":"m","active_users_per_vcpu":"200","inactive_users_per_vcpu":2}`, "active_users_per_vcpu", "want float64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCapacity(strings.NewReader(tc.in))
			var ce *CapacityError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCapacityFile) {
				t.Fatalf("error %v, want a CapacityError", err)
			}
			if ce.Field != tc.field || !strings.Contains(err.Error(), tc.says) || ce.Fix == "" {
				t.Errorf("field %q error %q fix %q; want field %q saying %q", ce.Field, err, ce.Fix, tc.field, tc.says)
			}
		})
	}
}

func TestLoadCapacity(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "capacity.json")
	if err := os.WriteFile(good, []byte(goodCapacity), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCapacity(good); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCapacity(bad); !errors.Is(err, ErrCapacityFile) || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v, want the path in a capacity error", err)
	}
	missing := filepath.Join(dir, "nope.json")
	if _, err := LoadCapacity(missing); !errors.Is(err, ErrCapacityFile) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCapacityReplacesCCUKeepsPrices(t *testing.T) {
	c, err := ParseCapacity(strings.NewReader(goodCapacity))
	if err != nil {
		t.Fatal(err)
	}
	seed, measured := Charts(nil), Charts(c)
	for i := range seed {
		if !strings.HasPrefix(measured[i].Source, "measured on") {
			t.Errorf("%s source %q", measured[i].Topology.Name, measured[i].Source)
		}
		for j, r := range measured[i].Rows {
			s := seed[i].Rows[j]
			if r.HourlyUSD != s.HourlyUSD || r.VCPU != s.VCPU {
				t.Errorf("%s %s: price or vCPU changed", measured[i].Topology.Name, r.Server)
			}
			wantMin, wantMax := r.VCPU*100, int(float64(r.VCPU)*250.5)
			if r.NotRecommended {
				wantMin, wantMax = 0, 0
			}
			if r.CCUMin != wantMin || r.CCUMax != wantMax {
				t.Errorf("%s %s: CCU %d/%d, want %d/%d", measured[i].Topology.Name, r.Server, r.CCUMin, r.CCUMax, wantMin, wantMax)
			}
		}
	}
}

func TestCapacityChangesRecommendation(t *testing.T) {
	c, err := ParseCapacity(strings.NewReader(goodCapacity))
	if err != nil {
		t.Fatal(err)
	}
	p := plan(500, Active)
	seed, err := Estimate(p)
	if err != nil {
		t.Fatal(err)
	}
	p.Capacity = c
	measured, err := Estimate(p)
	if err != nil {
		t.Fatal(err)
	}
	// The seed's 20 users per vCPU need c5.9xlarge (36 vCPU); 100 per vCPU need 5 vCPU, so the cheapest 8-vCPU server.
	if seed.Choice.Server != "c5.9xlarge" || measured.Choice.Server != "t3.2xlarge" || measured.Choice.Holds != 800 {
		t.Errorf("seed %s, measured %s holding %d", seed.Choice.Server, measured.Choice.Server, measured.Choice.Holds)
	}
	if !strings.HasPrefix(measured.CapacitySource, "measured on EPYC") {
		t.Errorf("source %q", measured.CapacitySource)
	}
	// And it lifts the ceiling: 46,081 active users fit the largest 8×8 once each vCPU holds 100.
	p.CCU = 46081
	if _, err := Estimate(p); err != nil {
		t.Errorf("46081 with measured capacity: %v", err)
	}
}

// The capacity file comes from outside; no input may panic the parser or yield a capacity the planner can't use.
func FuzzParseCapacity(f *testing.F) {
	f.Add(goodCapacity)
	f.Add(`{"version":1}`)
	f.Add(`{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":"m","active_users_per_vcpu":1e308,"inactive_users_per_vcpu":1e-308}`)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseCapacity(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrCapacityFile) {
				t.Fatalf("error %v is not a capacity error", err)
			}
			return
		}
		if c.Version != CapacityVersion || !(c.ActiveUsersPerVCPU > 0) || !(c.InactiveUsersPerVCPU > 0) || c.Machine == "" {
			t.Fatalf("accepted %+v", c)
		}
		p := plan(100, Active)
		p.Capacity = c
		_, _ = Estimate(p) // must not panic whatever the figures
	})
}
