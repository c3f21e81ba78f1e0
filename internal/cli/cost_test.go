package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runToncon runs toncon in-process with the given environment variables and returns exit code, stdout, stderr.
func runToncon(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errOut, Lookup: func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}}
	code := Run(context.Background(), args, env)
	return code, out.String(), errOut.String()
}

func nearUSD(a, b float64) bool { return math.Abs(a-b) < 0.005 }

func TestCostEstimateText(t *testing.T) {
	code, out, errOut := runToncon(t, nil, "cost", "estimate", "--ccu", "500", "--activity", "active",
		"--hours", "4", "--days", "2", "--setup-hours", "16")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Recommended: Personal (1 server), c5.9xlarge",
		"holds 720 active users",
		"THE FORMULA: estimate for a state ($) = hours in state × EC2 $/h for one server × number of servers × scalar",
		"(4 h × 2 days) × $1.630/h (c5.9xlarge) × 1 server × 3 = $39.12",
		"16 h × $0.056/h (t3.medium) × 1 server × 3 = $2.69",
		"$39.12 – $65.20",
		"$41.81 – $67.89",
		"Enterprise 2×2", // the resilient alternative
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "About the seed's figures") {
		t.Errorf("one server cannot be double-counted, but the note is there:\n%s", out)
	}
}

// The seed's example, asked for on the command line, gives the per-server figures and shows the seed's beside them.
func TestCostEstimateSeedExampleJSON(t *testing.T) {
	code, out, errOut := runToncon(t, nil, "cost", "estimate", "--ccu", "500", "--activity", "inactive",
		"--hours", "4", "--days", "2", "--setup-hours", "16", "--topology", "2x2", "--server", "c5.xlarge", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Choice struct {
			Server   string `json:"server"`
			Topology struct {
				Servers int `json:"servers"`
			} `json:"topology"`
			PerServer float64 `json:"usd_per_server_hour"`
		} `json:"choice"`
		Lines []struct {
			Formula string  `json:"formula"`
			USD     float64 `json:"usd"`
		} `json:"lines"`
		Figures    map[string]float64 `json:"figures"`
		SeedMethod struct {
			Figures     map[string]float64 `json:"figures"`
			Explanation string             `json:"explanation"`
		} `json:"seed_method"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if res.Choice.Server != "c5.xlarge" || res.Choice.Topology.Servers != 4 || res.Choice.PerServer != 0.27 {
		t.Errorf("choice %+v", res.Choice)
	}
	for key, want := range map[string]float64{"top_capacity_min": 25.92, "top_capacity_max": 43.20, "setup": 10.75,
		"base": 10.75, "total_min": 36.67, "total_max": 53.95} {
		if !nearUSD(res.Figures[key], want) {
			t.Errorf("figures.%s = %v, want %v", key, res.Figures[key], want)
		}
	}
	for key, want := range map[string]float64{"top_capacity_min": 103.68, "top_capacity_max": 172.80, "setup": 43.01,
		"total_min": 146.69, "total_max": 215.81} {
		if !nearUSD(res.SeedMethod.Figures[key], want) {
			t.Errorf("seed_method.figures.%s = %v, want %v", key, res.SeedMethod.Figures[key], want)
		}
	}
	if !strings.Contains(res.SeedMethod.Explanation, "4 × $0.270") {
		t.Errorf("explanation %q", res.SeedMethod.Explanation)
	}
	if len(res.Lines) != 4 || res.Lines[0].Formula != "(4 h × 2 days) × $0.270/h (c5.xlarge) × 4 servers × 3 = $25.92" {
		t.Errorf("lines %+v", res.Lines)
	}
}

func TestCostEstimateFromEnvironment(t *testing.T) {
	vars := map[string]string{"TONCON_CCU": "500", "TONCON_HOURS": "4", "TONCON_DAYS": "2",
		"TONCON_ACTIVITY": "inactive", "TONCON_JSON": "true"}
	code, out, errOut := runToncon(t, vars, "cost", "estimate")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Plan   map[string]any `json:"plan"`
		Choice struct {
			Server string `json:"server"`
		} `json:"choice"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if res.Plan["ccu"] != 500.0 || res.Plan["activity"] != "inactive" || res.Choice.Server != "c5.4xlarge" {
		t.Errorf("plan %v choice %s", res.Plan, res.Choice.Server)
	}
	// The command line wins over the environment.
	code, out, _ = runToncon(t, vars, "cost", "estimate", "--ccu", "20", "--activity", "active")
	if code != exitOK || !strings.Contains(out, "t3.medium") {
		t.Errorf("exit %d, flags over env:\n%s", code, out)
	}
	// A bad environment value is a usage error naming the variable.
	code, _, errOut = runToncon(t, map[string]string{"TONCON_CCU": "lots"}, "cost", "estimate", "--hours", "4")
	if code != exitUsage || !strings.Contains(errOut, "TONCON_CCU") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestCostEstimateBadInput(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(malformed, []byte("{\"version\": 1,\n \"machine\" \"x\"}"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"cost", "estimate", "--ccu", "500", "--hours", "4"}
	for _, tc := range []struct {
		name string
		args []string
		says []string
	}{
		{"negative hours", []string{"cost", "estimate", "--ccu", "500", "--hours", "-4"}, []string{"--hours", "more than 0"}},
		{"negative setup hours", slices.Concat(base, []string{"--setup-hours", "-1"}), []string{"--setup-hours", "0 or more"}},
		{"no days", slices.Concat(base, []string{"--days", "0"}), []string{"--days", "at least 1"}},
		{"unknown server", slices.Concat(base, []string{"--server", "m5.large"}), []string{"--server", "unknown server type", "c5.xlarge"}},
		{"unknown setup server", slices.Concat(base, []string{"--setup-server", "t2.nano"}), []string{"--setup-server", "t3.medium"}},
		{"unknown activity", slices.Concat(base, []string{"--activity", "dancing"}), []string{"--activity", "active", "inactive"}},
		{"unknown topology", slices.Concat(base, []string{"--topology", "3x3"}), []string{"--topology", "2x2"}},
		{"not recommended", slices.Concat(base, []string{"--server", "t3.micro"}), []string{"--server", "memory"}},
		{"bad scalar", slices.Concat(base, []string{"--state-scalar", "off=lots"}), []string{"--state-scalar", "online-paused"}},
		{"beyond the largest layout", []string{"cost", "estimate", "--ccu", "46081", "--hours", "4"}, []string{"--ccu", "46080"}},
		{"malformed capacity file", slices.Concat(base, []string{"--capacity", malformed}), []string{"--capacity", "line 2"}},
		{"missing capacity file", slices.Concat(base, []string{"--capacity", filepath.Join(dir, "none.json")}), []string{"--capacity", "check the path"}},
		{"no inputs", []string{"cost", "estimate"}, []string{"--ccu", "--hours"}},
		{"stray argument", slices.Concat(base, []string{"now"}), []string{"unexpected argument"}},
		{"unknown flag", slices.Concat(base, []string{"--budget", "5"}), []string{"budget"}},
		{"unknown subcommand", []string{"cost", "guess"}, []string{"unknown subcommand", "estimate"}},
		{"no subcommand", []string{"cost"}, []string{"estimate", "table"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runToncon(t, nil, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUsage, errOut)
			}
			if out != "" {
				t.Errorf("stdout should be empty on error, got:\n%s", out)
			}
			for _, s := range tc.says {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestCostEstimateCapacityFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "capacity.json")
	capacity := `{"version":1,"measured_at":"2026-03-01T12:00:00Z","machine":"test box, 1 core",
		"active_users_per_vcpu":100,"inactive_users_per_vcpu":300,"slo":"p99<200ms,loss<1%"}`
	if err := os.WriteFile(path, []byte(capacity), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"cost", "estimate", "--ccu", "500", "--hours", "4", "--json"}
	_, seedOut, _ := runToncon(t, nil, args...)
	code, out, errOut := runToncon(t, map[string]string{"TONCON_CAPACITY": path}, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var seed, measured struct {
		Choice struct {
			Server string `json:"server"`
			Holds  int    `json:"holds"`
		} `json:"choice"`
		Source string `json:"capacity_source"`
	}
	if err := json.Unmarshal([]byte(seedOut), &seed); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &measured); err != nil {
		t.Fatal(err)
	}
	if seed.Choice.Server != "c5.9xlarge" || measured.Choice.Server != "t3.2xlarge" || measured.Choice.Holds != 800 {
		t.Errorf("seed %+v, measured %+v", seed.Choice, measured.Choice)
	}
	if !strings.Contains(measured.Source, "test box") || !strings.Contains(measured.Source, "p99<200ms") {
		t.Errorf("source %q", measured.Source)
	}
}

func TestCostTable(t *testing.T) {
	code, out, errOut := runToncon(t, nil, "cost", "table")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Personal (1 server)", "Enterprise 2×2", "c5.24xlarge", "N/A", "not recommended",
		"$16.720", "$4.180", "online-paused", "1.2×", "THE FORMULA"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if strings.Contains(out, "Enterprise 4×4 (") {
		t.Error("derived charts printed without --all")
	}

	for _, tc := range []struct {
		args   []string
		charts int
	}{{[]string{"cost", "table", "--json"}, 2}, {[]string{"cost", "table", "--all", "--json"}, 4}} {
		code, out, errOut = runToncon(t, nil, tc.args...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got struct {
			Charts []struct {
				Rows []struct {
					Server    string  `json:"server"`
					USD       float64 `json:"usd_per_hour"`
					PerServer float64 `json:"usd_per_server_hour"`
				} `json:"rows"`
			} `json:"charts"`
			States []struct {
				Name string `json:"name"`
			} `json:"states"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("JSON: %v", err)
		}
		if len(got.Charts) != tc.charts || len(got.Charts[1].Rows) != 15 || len(got.States) != 6 {
			t.Fatalf("%v: %d charts, %d states", tc.args, len(got.Charts), len(got.States))
		}
		if r := got.Charts[1].Rows[8]; r.Server != "c5.xlarge" || r.USD != 1.08 || r.PerServer != 0.27 {
			t.Errorf("2x2 c5.xlarge row %+v", r)
		}
	}
}

func TestCostExample(t *testing.T) {
	code, out, errOut := runToncon(t, nil, "cost", "example")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"$103.68", "$172.80", "$25.92", "$43.20", "$146.68", "$216.80", "$36.67", "$53.95",
		"counts the servers twice"} {
		if !strings.Contains(out, want) {
			t.Errorf("example lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runToncon(t, nil, "cost", "example", "--json")
	var ex struct {
		Printed, Seed, Correct map[string]float64
		Explanation            string
	}
	if code != exitOK || json.Unmarshal([]byte(out), &ex) != nil || ex.Printed["total_max"] != 216.8 ||
		ex.Correct["top_capacity_min"] != 25.92 || ex.Explanation == "" {
		t.Errorf("exit %d, example JSON %+v", code, ex)
	}
}

func TestCostHelp(t *testing.T) {
	code, out, _ := runToncon(t, nil, "cost", "--help")
	if code != exitOK || !strings.Contains(out, "estimate") || !strings.Contains(out, "table") {
		t.Errorf("cost --help: exit %d\n%s", code, out)
	}
	code, _, errOut := runToncon(t, nil, "cost", "estimate", "--help")
	if code != exitOK {
		t.Errorf("cost estimate --help: exit %d", code)
	}
	for _, want := range []string{"--ccu", "TONCON_CCU", "--activity", "--hours", "--days", "--setup-hours",
		"--setup-server", "--off-hours", "--state-scalar", "--server", "--topology", "--capacity", "--json",
		"vertical before horizontal"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("estimate --help lacks %q", want)
		}
	}
	if code, _, errOut := runToncon(t, nil, "cost", "table", "-h"); code != exitOK || !strings.Contains(errOut, "--all") {
		t.Errorf("table -h: exit %d\n%s", code, errOut)
	}
}
