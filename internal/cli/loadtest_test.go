package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"toncon/internal/cost"
	"toncon/internal/media"
	"toncon/internal/server"
	"toncon/internal/server/servertest"
)

// startToncon runs a toncon in the test process on 127.0.0.1:0 over plain HTTP with a fresh data folder.
func startToncon(t *testing.T) string {
	t.Helper()
	return servertest.Start(t, server.Config{}).URL().String()
}

// The short run make test requires: 2 rooms × 5 people × 5 seconds.
func TestLoadtestShortRun(t *testing.T) {
	url := startToncon(t)
	jsonOut := filepath.Join(t.TempDir(), "result.json")
	env, out, errb := testEnv(map[string]string{"TONCON_DURATION": "5s"}) // flags also come from the environment
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Run(ctx, []string{"loadtest", "--url", url, "--rooms", "2", "--per-room", "5",
		"--warmup", "500ms", "--drain", "500ms", "--chat-every", "2s", "--json-out", jsonOut}, env)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	summary := out.String()
	for _, want := range []string{"toncon loadtest: active profile, 2 room(s) × 5 = 10 people, 5.", "10 in rooms",
		"delay p50 / p95 / p99 / max", "loss", "messages per second", "server CPU", "users per vCPU"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	// Not a terminal: progress comes as whole lines, never carriage returns.
	if !strings.Contains(errb.String(), "measuring") || strings.Contains(errb.String(), "\r") {
		t.Errorf("progress on stderr:\n%q", errb.String())
	}

	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Users, Entered int
		Delay          struct {
			Samples int
			P50MS   float64 `json:"p50_ms"`
			P99MS   float64 `json:"p99_ms"`
		}
		Loss struct {
			Expected, Received int
			Percent            float64
		}
		Messages struct {
			OutPerSecond float64 `json:"out_per_second"`
			InPerSecond  float64 `json:"in_per_second"`
		}
		Server struct {
			CPUSeconds   float64 `json:"cpu_seconds"`
			UsersPerVCPU float64 `json:"users_per_vcpu"`
			Error        string
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("--json-out is not JSON: %v\n%s", err, b)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil || generic["delay"] == nil || generic["loss"] == nil || generic["server"] == nil {
		t.Fatalf("JSON %v: %s", err, b)
	}
	if res.Users != 10 || res.Entered != 10 {
		t.Errorf("users %d, entered %d", res.Users, res.Entered)
	}
	// Ten people at 10 updates a second, each heard by four: about 2,000 updates in 5 s.
	if res.Loss.Expected < 1000 || res.Loss.Received < res.Loss.Expected*9/10 || res.Delay.Samples != res.Loss.Received {
		t.Errorf("updates expected %d, received %d, delays measured %d", res.Loss.Expected, res.Loss.Received, res.Delay.Samples)
	}
	if res.Delay.P50MS <= 0 || res.Delay.P99MS < res.Delay.P50MS {
		t.Errorf("delays %+v", res.Delay)
	}
	if res.Messages.OutPerSecond < 50 || res.Messages.InPerSecond < 200 {
		t.Errorf("messages %+v", res.Messages)
	}
	if res.Server.Error != "" || res.Server.CPUSeconds <= 0 || res.Server.UsersPerVCPU <= 0 {
		t.Errorf("server %+v", res.Server)
	}
}

// The short voice run make test requires: 1 room × 3 people, one of them talking, 3 seconds, against a toncon
// with its SFU in the test process.
func TestLoadtestMediaShortRun(t *testing.T) {
	url := servertest.Start(t, server.Config{Media: media.Config{ListenIP: "127.0.0.1"}}).URL().String()
	jsonOut := filepath.Join(t.TempDir(), "result.json")
	env, out, errb := testEnv(nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Run(ctx, []string{"loadtest", "--url", url, "--media", "--rooms", "1", "--per-room", "3", "--talkers", "0.3",
		"--duration", "3s", "--warmup", "1s", "--drain", "1s", "--json-out", jsonOut}, env)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	for _, want := range []string{"voice  ", "1 talking of 3", "3 connected to media", "voice delay p50 / p95 / p99 / max",
		"voice loss", "media server", "forwarded"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errb.String(), "| voice 3 connected") {
		t.Errorf("progress lines without voice:\n%s", errb)
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Media *struct {
			Talkers, Connected, Failed int
			Delay                      struct {
				Samples int
				P50     float64 `json:"p50_ms"`
				P95     float64 `json:"p95_ms"`
				P99     float64 `json:"p99_ms"`
			}
			Loss struct {
				Expected, Received, Lost int
				Percent                  float64
			}
			Server struct {
				Forwarded float64 `json:"forwarded_packets_per_second"`
			}
		}
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Media == nil {
		t.Fatalf("--json-out: %v\n%s", err, b)
	}
	m := res.Media
	if m.Talkers != 1 || m.Connected != 3 || m.Failed != 0 {
		t.Errorf("talkers %d, connected %d, failed %d", m.Talkers, m.Connected, m.Failed)
	}
	// One talker, 50 packets a second for 3 s, two listeners: about 300.
	if m.Loss.Expected < 240 || m.Loss.Received < m.Loss.Expected*95/100 || m.Delay.Samples != m.Loss.Received {
		t.Errorf("voice packets expected %d, received %d, delays %d", m.Loss.Expected, m.Loss.Received, m.Delay.Samples)
	}
	if m.Delay.P50 <= 0 || m.Delay.P95 < m.Delay.P50 || m.Delay.P99 < m.Delay.P95 || m.Server.Forwarded < 80 {
		t.Errorf("voice delay %+v, server forwarded %v/s", m.Delay, m.Server.Forwarded)
	}
}

// A capacity search as small as it gets, one step per profile, to check the wiring end to end: the file it
// writes is one the cost planner reads.
func TestLoadtestCapacityWritesAFileTheCostPlannerReads(t *testing.T) {
	url := startToncon(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "capacity.json")
	env, out, errb := testEnv(nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Run(ctx, []string{"loadtest", "capacity", "--url", url, "--slo", "p99<5s,loss<50%", "--per-room", "2",
		"--max-users", "2", "--max-steps", "1", "--step-duration", "500ms", "--warmup", "0s", "--drain", "300ms",
		"--pause", "0s", "--machine", "test machine, server in the test process", "--out", capFile,
		"--json-out", filepath.Join(dir, "report.json")}, env)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	for _, want := range []string{"SLO p99<5s,loss<50%", "active", "inactive", "users/vCPU", "max", "wrote " + capFile} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	c, err := cost.LoadCapacity(capFile)
	if err != nil {
		t.Fatal(err)
	}
	if c.Machine != "test machine, server in the test process" || c.ActiveUsersPerVCPU <= 0 || c.InactiveUsersPerVCPU <= 0 || c.SLO != "p99<5s,loss<50%" {
		t.Errorf("capacity %+v", c)
	}
	env, out, errb = testEnv(nil)
	if code := Run(ctx, []string{"cost", "estimate", "--ccu", "100", "--hours", "2", "--capacity", capFile}, env); code != 0 {
		t.Fatalf("cost estimate --capacity: %d\n%s%s", code, out, errb)
	}
	var report map[string]any
	if b, err := os.ReadFile(filepath.Join(dir, "report.json")); err != nil || json.Unmarshal(b, &report) != nil || report["runs"] == nil {
		t.Errorf("--json-out: %v %.200s", err, b)
	}
}

func TestLoadtestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"loadtest"}, // no --url
		{"loadtest", "--url", "ftp://x"},
		{"loadtest", "--url", "http://127.0.0.1:1", "--profile", "lazy"},
		{"loadtest", "--url", "https://127.0.0.1:1", "--insecure", "--ca", "ca.pem"},
		{"loadtest", "--url", "https://127.0.0.1:1", "--ca", "/no/such/ca.pem"},
		{"loadtest", "--url", "http://127.0.0.1:1", "--profile", "single-room", "--rooms", "3"},
		{"loadtest", "--url", "http://127.0.0.1:1", "--duration", "0s"},
		{"loadtest", "capacity", "--url", "http://127.0.0.1:1", "--slo", "fast"},
		{"loadtest", "capacity", "--url", "http://127.0.0.1:1", "--profiles", "active,lazy"},
		{"loadtest", "capacity", "--url", "http://127.0.0.1:1", "--unit", "30"},
		{"loadtest", "capacity", "--url", "http://127.0.0.1:1", "--max-users", "0"},
		{"loadtest", "--url", "http://127.0.0.1:1", "--talkers", "0.5"}, // talkers without --media
		{"loadtest", "--url", "http://127.0.0.1:1", "--media", "--talkers", "2"},
		{"loadtest", "capacity", "--url", "http://127.0.0.1:1", "--talkers", "0.5"},
	} {
		env, _, errb := testEnv(nil)
		if code := Run(context.Background(), args, env); code != 2 || errb.String() == "" {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
	env, _, errb := testEnv(nil)
	if code := Run(context.Background(), []string{"loadtest", "--help"}, env); code != 0 {
		t.Fatalf("--help: %d", code)
	}
	for _, want := range []string{"--url", "TONCON_URL", "--rooms", "--per-room", "--duration", "--profile", "--insecure", "--ca", "--json-out", "--rate", "capacity", "--media", "--talkers"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("loadtest --help lacks %s", want)
		}
	}
	env, _, errb = testEnv(nil)
	if code := Run(context.Background(), []string{"loadtest", "capacity", "--help"}, env); code != 0 || !strings.Contains(errb.String(), "--slo") || !strings.Contains(errb.String(), "--out") {
		t.Fatalf("capacity --help: %d\n%s", code, errb.String())
	}
	// A server that is not there is a failed run, not a usage error.
	env, _, errb = testEnv(nil)
	if code := Run(context.Background(), []string{"loadtest", "--url", "http://127.0.0.1:1", "--duration", "1s"}, env); code != 1 {
		t.Fatalf("no server: exit %d %s", code, errb.String())
	}
}
