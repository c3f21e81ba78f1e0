package cost

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func plan(ccu int, a Activity) Plan {
	p := DefaultPlan()
	p.CCU, p.Activity, p.HoursPerDay, p.Days = ccu, a, 4, 2
	return p
}

func TestRecommendBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ccu      int
		activity Activity
		topology string // forced, or ""
		server   string // forced, or ""
		wantTop  string
		wantSrv  string
	}{
		{"exactly t3.small's limit", 10, Active, "", "", "personal", "t3.small"},
		{"one more than t3.small", 11, Active, "", "", "personal", "t3.medium"},
		{"exactly t3.medium's limit", 20, Active, "", "", "personal", "t3.medium"},
		{"one more than t3.medium: cheapest 40-user server", 21, Active, "", "", "personal", "t3.large"},
		{"inactive use the max column", 40, Inactive, "", "", "personal", "t3.medium"},
		{"one more than t3.large", 41, Active, "", "", "personal", "t3.xlarge"},
		{"the seed's 500, active", 500, Active, "", "", "personal", "c5.9xlarge"},
		{"the seed's 500, inactive", 500, Inactive, "", "", "personal", "c5.4xlarge"},
		{"exactly the largest single server", 1920, Active, "", "", "personal", "c5.24xlarge"},
		{"more than the largest single server: more servers", 1921, Active, "", "", "2x2", "c5.9xlarge"},
		{"exactly the largest single server, inactive", 3840, Inactive, "", "", "personal", "c5.24xlarge"},
		{"more than it, inactive", 3841, Inactive, "", "", "2x2", "c5.9xlarge"},
		{"exactly the largest 2x2", 11520, Active, "", "", "2x2", "c5.24xlarge"},
		{"more than the largest 2x2", 11521, Active, "", "", "4x4", "c5.18xlarge"},
		{"more than the largest 4x4", 23041, Active, "", "", "8x8", "c5.18xlarge"},
		{"exactly the largest 8x8", 46080, Active, "", "", "8x8", "c5.24xlarge"},
		{"exactly the largest 8x8, inactive", 76800, Inactive, "", "", "8x8", "c5.24xlarge"},
		{"forced server, first layout that holds them", 80, Active, "", "c5.large", "2x2", "c5.large"},
		{"forced topology, cheapest there", 20, Active, "2x2", "", "2x2", "t3.small"},
		{"both forced", 500, Inactive, "2x2", "c5.xlarge", "2x2", "c5.xlarge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(tc.ccu, tc.activity)
			p.Topology, p.Server = tc.topology, tc.server
			res, err := Estimate(p)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Choice
			if c.Topology.Name != tc.wantTop || c.Server != tc.wantSrv {
				t.Fatalf("got %s %s, want %s %s", c.Topology.Name, c.Server, tc.wantTop, tc.wantSrv)
			}
			if c.Holds < tc.ccu || c.TooSmall {
				t.Errorf("%s holds %d < %d", c.Server, c.Holds, tc.ccu)
			}
			if (c.Topology.Servers > 1) != (res.SeedMethod != nil) {
				t.Errorf("seed-method note for %d servers: %v", c.Topology.Servers, res.SeedMethod)
			}
		})
	}
}

func TestForcedTooSmallWarns(t *testing.T) {
	p := plan(500, Active)
	p.Topology, p.Server = "2x2", "c5.xlarge"
	res, err := Estimate(p)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Choice.TooSmall || res.Choice.Holds != 480 {
		t.Fatalf("choice %+v", res.Choice)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "holds 480 active users, fewer than the 500") {
		t.Fatalf("warnings %q", res.Warnings)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Plan)
		field string
		err   error
	}{
		{"no users", func(p *Plan) { p.CCU = 0 }, "ccu", ErrOutOfRange},
		{"negative hours", func(p *Plan) { p.HoursPerDay = -4 }, "hours", ErrOutOfRange},
		{"no hours", func(p *Plan) { p.HoursPerDay = 0 }, "hours", ErrOutOfRange},
		{"more hours than a day", func(p *Plan) { p.HoursPerDay = 25 }, "hours", ErrOutOfRange},
		{"NaN hours", func(p *Plan) { p.HoursPerDay = math.NaN() }, "hours", ErrOutOfRange},
		{"no days", func(p *Plan) { p.Days = 0 }, "days", ErrOutOfRange},
		{"negative setup hours", func(p *Plan) { p.SetupHours = -16 }, "setup-hours", ErrOutOfRange},
		{"infinite off hours", func(p *Plan) { p.OffHours = math.Inf(1) }, "off-hours", ErrOutOfRange},
		{"unknown activity", func(p *Plan) { p.Activity = "dancing" }, "activity", ErrUnknownActivity},
		{"unknown server", func(p *Plan) { p.Server = "m5.large" }, "server", ErrUnknownServer},
		{"unknown setup server", func(p *Plan) { p.SetupServer = "t2.nano" }, "setup-server", ErrUnknownServer},
		{"empty off server", func(p *Plan) { p.OffServer = "" }, "off-server", ErrUnknownServer},
		{"unknown topology", func(p *Plan) { p.Topology = "3x3" }, "topology", ErrUnknownTopology},
		{"t3.micro is not rated", func(p *Plan) { p.Server = "t3.micro" }, "server", ErrNotRated},
		{"negative scalar", func(p *Plan) { p.Scalars.Off = -1 }, "state-scalar", ErrOutOfRange},
		{"min above max", func(p *Plan) { p.Scalars.TopMin = 6 }, "state-scalar", ErrOutOfRange},
		{"more than the largest layout", func(p *Plan) { p.CCU = 46081 }, "ccu", ErrTooManyUsers},
		{"more than the largest layout, inactive", func(p *Plan) { p.CCU, p.Activity = 76801, Inactive }, "ccu", ErrTooManyUsers},
		{"more than a forced server holds", func(p *Plan) { p.CCU, p.Server = 961, "c5.large" }, "ccu", ErrTooManyUsers},
		{"more than a forced topology holds", func(p *Plan) { p.CCU, p.Topology = 2000, "personal" }, "ccu", ErrTooManyUsers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(100, Active)
			tc.edit(&p)
			_, err := Estimate(p)
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want an InputError wrapping %v", err, tc.err)
			}
			if ie.Field != tc.field || ie.Fix == "" {
				t.Errorf("field %q fix %q, want field %q and a fix", ie.Field, ie.Fix, tc.field)
			}
		})
	}
}

func TestTooManyUsersSaysWhatHolds(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Plan)
		want string
	}{
		{func(p *Plan) { p.CCU = 46081 }, "holds 46080 active users"},
		{func(p *Plan) { p.CCU, p.Server = 961, "c5.large" }, "c5.large holds at most 960 active users"},
		{func(p *Plan) { p.CCU, p.Topology = 2000, "personal" }, "Personal (1 server) holds at most 1920"},
	} {
		p := plan(1, Active)
		tc.edit(&p)
		if _, err := Estimate(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to say %q", err, tc.want)
		}
	}
}

func TestEstimateLinesAndTotals(t *testing.T) {
	p := plan(500, Active)
	p.SetupHours, p.OffHours = 16, 100
	p.Scalars.Off = 1.2
	res, err := Estimate(p)
	if err != nil {
		t.Fatal(err)
	}
	// Personal c5.9xlarge at $1.63: top 8 h × 1.63 × 1 × 3..5, setup 16 × 0.056 × 3, off 100 × 0.056 × 1.2.
	want := []struct {
		usd     float64
		formula string
	}{
		{39.12, "(4 h × 2 days) × $1.630/h (c5.9xlarge) × 1 server × 3 = $39.12"},
		{65.20, "(4 h × 2 days) × $1.630/h (c5.9xlarge) × 1 server × 5 = $65.20"},
		{2.688, "16 h × $0.056/h (t3.medium) × 1 server × 3 = $2.69"},
		{6.72, "100 h × $0.056/h (t3.medium) × 1 server × 1.2 = $6.72"},
	}
	for i, w := range want {
		l := res.Lines[i]
		if !near(float64(l.USD), w.usd, 1e-9) || l.Formula != w.formula {
			t.Errorf("line %d: %v %q, want %v %q", i, float64(l.USD), l.Formula, w.usd, w.formula)
		}
	}
	f := res.Figures
	for name, pair := range map[string][2]float64{
		"base": {float64(f.Base), 2.688 + 6.72}, "total min": {float64(f.TotalMin), 39.12 + 9.408},
		"total max": {float64(f.TotalMax), 65.20 + 9.408},
	} {
		if !near(pair[0], pair[1], 1e-9) {
			t.Errorf("%s = %v, want %v", name, pair[0], pair[1])
		}
	}
	if len(res.Alternatives) != 1 || res.Alternatives[0].Topology.Name != "2x2" {
		t.Errorf("alternatives %+v, want the 2x2 fit", res.Alternatives)
	}
}

// The seed's worked example, both ways.
func TestSeedExample(t *testing.T) {
	ex := SeedExample()
	for _, tc := range []struct {
		name      string
		got, want USD
		tol       float64
	}{
		// The seed's method reproduces every figure it prints, to the cent, but for the slip in its upper total.
		{"seed top min", ex.Seed.TopMin, 103.68, 1e-9},
		{"seed top max", ex.Seed.TopMax, 172.80, 1e-9},
		{"seed development = 16 × 0.224 × 4 × 3", ex.Seed.Setup, 43.008, 1e-9},
		{"seed development as printed", ex.Seed.Setup, ex.Printed.Setup, cent},
		{"seed off-time", ex.Seed.Off, 0, 1e-9},
		{"seed total min", ex.Seed.TotalMin, ex.Printed.TotalMin, cent},
		{"seed total max, its own sum", ex.Seed.TotalMax, ex.Printed.TopMax + ex.Printed.Base, cent},
		{"seed total max as printed is $1 over its own sum", ex.Printed.TotalMax - (ex.Printed.TopMax + ex.Printed.Base), 1, 1e-9},
		{"printed totals", ex.Printed.TotalMin + ex.Printed.TotalMax, 146.68 + 216.80, 1e-9},
		// One server's price × 4 servers.
		{"top min", ex.Correct.TopMin, 25.92, 1e-9},
		{"top max", ex.Correct.TopMax, 43.20, 1e-9},
		{"development", ex.Correct.Setup, 10.752, 1e-9},
		{"total min", ex.Correct.TotalMin, 36.672, 1e-9},
		{"total max", ex.Correct.TotalMax, 53.952, 1e-9},
		{"the seed counts the servers twice", ex.Seed.TotalMax, 4 * ex.Correct.TotalMax, 1e-9},
	} {
		if !near(float64(tc.got), float64(tc.want), tc.tol) {
			t.Errorf("%s: %v, want %v ± %v", tc.name, float64(tc.got), float64(tc.want), tc.tol)
		}
	}
	for _, s := range []string{"$103.68–$172.80", "$25.92–$43.20", "$146.68–$216.80", "$43.01", "$10.75",
		"$36.67–$53.95", "4 × $0.270", "4 × $0.056", "$215.80"} {
		if !strings.Contains(ex.Explanation, s) {
			t.Errorf("explanation lacks %q:\n%s", s, ex.Explanation)
		}
	}
	if p := ex.Plan; p.CCU != 500 || p.HoursPerDay != 4 || p.Days != 2 || p.SetupHours != 16 || p.SetupServer != "t3.medium" {
		t.Errorf("plan %+v", p)
	}
}

// Vertical before horizontal can cost more; the plan must say so rather than hide the cheaper 2×2.
func TestVerticalFirstSaysWhenTwoByTwoIsCheaper(t *testing.T) {
	res, err := Estimate(plan(1900, Active))
	if err != nil {
		t.Fatal(err)
	}
	if res.Choice.Server != "c5.24xlarge" || res.Choice.Topology.Name != "personal" {
		t.Fatalf("choice %+v", res.Choice)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "c5.4xlarge there holds 1920 at $3.120/h for all 4 servers, less than this one server's $4.180/h") {
		t.Errorf("notes %q", res.Notes)
	}
}
