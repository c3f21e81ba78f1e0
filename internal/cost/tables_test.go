package cost

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

const cent = 0.01

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// The seed's two charts, typed in again from the seed so that a change to the data has to change both.
func TestSeedChartsEveryRow(t *testing.T) {
	type want struct {
		server             string
		vcpu, ccuMin, ccum int
		usd                float64
		notRecommended     bool
	}
	single := []want{
		{"t3.micro", 2, 0, 0, 0.024, true},
		{"t3.small", 2, 10, 20, 0.035, false},
		{"t3.medium", 2, 20, 40, 0.056, false},
		{"t3.large", 2, 40, 80, 0.183, false},
		{"t3.xlarge", 4, 80, 160, 0.266, false},
		{"t3.2xlarge", 8, 160, 320, 0.433, false},
		{"c4.large", 2, 40, 80, 0.200, false},
		{"c5.large", 2, 40, 80, 0.185, false},
		{"c5.xlarge", 4, 80, 160, 0.270, false},
		{"c5.2xlarge", 8, 160, 320, 0.440, false},
		{"c5.4xlarge", 16, 320, 640, 0.780, false},
		{"c5.9xlarge", 36, 720, 1440, 1.630, false},
		{"c5.12xlarge", 48, 960, 1920, 2.140, false},
		{"c5.18xlarge", 72, 1440, 2880, 3.160, false},
		{"c5.24xlarge", 96, 1920, 3840, 4.180, false},
	}
	four := []want{
		{"t3.micro", 8, 0, 0, 0.096, true},
		{"t3.small", 8, 80, 160, 0.140, false},
		{"t3.medium", 8, 80, 160, 0.224, false},
		{"t3.large", 8, 240, 400, 0.732, false},
		{"t3.xlarge", 16, 480, 800, 1.064, false},
		{"t3.2xlarge", 32, 960, 1600, 1.732, false},
		{"c4.large", 8, 240, 400, 0.800, false},
		{"c5.large", 8, 240, 400, 0.740, false},
		{"c5.xlarge", 16, 480, 800, 1.080, false},
		{"c5.2xlarge", 32, 960, 1600, 1.760, false},
		{"c5.4xlarge", 64, 1920, 3200, 3.120, false},
		{"c5.9xlarge", 144, 4320, 7200, 6.520, false},
		{"c5.12xlarge", 192, 5760, 9600, 8.560, false},
		{"c5.18xlarge", 288, 8640, 14400, 12.640, false},
		{"c5.24xlarge", 384, 11520, 19200, 16.720, false},
	}
	charts := SeedCharts()
	if len(charts) != 2 || charts[0].Topology.Servers != 1 || charts[1].Topology.Servers != 4 {
		t.Fatalf("want the 1-server and 4-server charts, got %+v", charts)
	}
	for ci, rows := range [][]want{single, four} {
		ch := charts[ci]
		if len(ch.Rows) != len(rows) {
			t.Errorf("%s: %d rows, want %d", ch.Topology.Name, len(ch.Rows), len(rows))
		}
		for _, w := range rows {
			t.Run(ch.Topology.Name+"/"+w.server, func(t *testing.T) {
				r, ok := ch.Row(w.server)
				if !ok {
					t.Fatalf("missing")
				}
				if r.VCPU != w.vcpu || r.CCUMin != w.ccuMin || r.CCUMax != w.ccum || r.NotRecommended != w.notRecommended {
					t.Errorf("got %+v, want %+v", r, w)
				}
				if !near(float64(r.HourlyUSD), w.usd, 1e-9) {
					t.Errorf("$/h %v, want %v", r.HourlyUSD, w.usd)
				}
				if r.Rated() == w.notRecommended {
					t.Errorf("Rated() = %v for a row with N/A = %v", r.Rated(), w.notRecommended)
				}
			})
		}
	}
}

// The fact the seed's example trips on: the 4-server chart's prices are four single servers, so one server of
// the 2×2 costs what the single-server chart says.
func TestEnterprisePricesAreForAllFourServers(t *testing.T) {
	charts := SeedCharts()
	for _, r := range charts[1].Rows {
		one, _ := charts[0].Row(r.Server)
		if !near(float64(r.HourlyUSD), 4*float64(one.HourlyUSD), 1e-9) {
			t.Errorf("%s: 2×2 $%v is not 4 × $%v", r.Server, r.HourlyUSD, one.HourlyUSD)
		}
		if got := charts[1].PerServer(r); got != one.HourlyUSD {
			t.Errorf("%s: per-server %v, want %v", r.Server, got, one.HourlyUSD)
		}
		if r.VCPU != 4*one.VCPU {
			t.Errorf("%s: 2×2 vCPU %d is not 4 × %d", r.Server, r.VCPU, one.VCPU)
		}
	}
}

func TestDerivedChartsScaleTwoByTwo(t *testing.T) {
	charts := Charts(nil)
	if len(charts) != 4 {
		t.Fatalf("%d charts, want personal, 2x2, 4x4, 8x8", len(charts))
	}
	base := charts[1]
	for _, tc := range []struct {
		i, k int
	}{{2, 2}, {3, 4}} {
		ch := charts[tc.i]
		if !ch.Topology.Derived || ch.Topology.Servers != 4*tc.k {
			t.Errorf("%s: %+v", ch.Topology.Name, ch.Topology)
		}
		for j, r := range ch.Rows {
			b := base.Rows[j]
			if r.Server != b.Server || r.VCPU != tc.k*b.VCPU || r.CCUMin != tc.k*b.CCUMin || r.CCUMax != tc.k*b.CCUMax ||
				!near(float64(r.HourlyUSD), float64(tc.k)*float64(b.HourlyUSD), 1e-9) {
				t.Errorf("%s %s: %+v is not %d × %+v", ch.Topology.Name, r.Server, r, tc.k, b)
			}
			if ch.PerServer(r) != base.PerServer(b) {
				t.Errorf("%s %s: one server costs %v, want %v", ch.Topology.Name, r.Server, ch.PerServer(r), base.PerServer(b))
			}
		}
	}
	// Charts hands out copies: changing one must not change the next call's.
	charts[0].Rows[0].CCUMin = 99
	if SeedCharts()[0].Rows[0].CCUMin != 0 {
		t.Fatal("Charts shares its rows")
	}
}

func TestParseTopologyAndActivity(t *testing.T) {
	for in, want := range map[string]string{"personal": "personal", "1": "personal", "2x2": "2x2", "2×2": "2x2",
		"Enterprise-4x4": "4x4", "8x8": "8x8"} {
		got, err := ParseTopology(in)
		if err != nil || got.Name != want {
			t.Errorf("ParseTopology(%q) = %v, %v; want %s", in, got.Name, err, want)
		}
	}
	for _, in := range []string{"3x3", "", "auto"} {
		if _, err := ParseTopology(in); !errors.Is(err, ErrUnknownTopology) {
			t.Errorf("ParseTopology(%q) error %v, want ErrUnknownTopology", in, err)
		}
	}
	for in, want := range map[string]Activity{"active": Active, "Inactive": Inactive, " active ": Active} {
		if got, err := ParseActivity(in); err != nil || got != want {
			t.Errorf("ParseActivity(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseActivity("busy"); !errors.Is(err, ErrUnknownActivity) {
		t.Errorf("ParseActivity(busy) error %v", err)
	}
}

func TestMoneyPrintsToTheCent(t *testing.T) {
	for _, tc := range []struct {
		in   USD
		want string
		json string
	}{
		{25.920000000000002, "$25.92", "25.92"},
		{43.008, "$43.01", "43.01"},
		{43.005, "$43.01", "43.01"}, // half away from zero, even though 43.005 is 43.00499… in binary
		{0, "$0.00", "0"},
		{1234567.891, "$1,234,567.89", "1234567.89"},
		{-2.5, "-$2.50", "-2.5"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("USD(%v).String() = %s, want %s", float64(tc.in), got, tc.want)
		}
		if b, _ := json.Marshal(tc.in); string(b) != tc.json {
			t.Errorf("json(%v) = %s, want %s", float64(tc.in), b, tc.json)
		}
	}
	for in, want := range map[Rate]string{0.27: "$0.270", 1.08: "$1.080", 0.0675: "$0.0675", 16.72: "$16.720", 2: "$2.000"} {
		if got := in.String(); got != want {
			t.Errorf("Rate(%v) = %s, want %s", float64(in), got, want)
		}
	}
}
