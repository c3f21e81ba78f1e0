package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/server"
	"toncon/internal/server/servertest"
)

// startServer runs a real toncon in the test process on a loopback port, as make test does everywhere.
func startServer(t *testing.T, withTLS bool) (url string, dataDir string) {
	t.Helper()
	dataDir = t.TempDir()
	srv := servertest.Start(t, server.Config{DataDir: dataDir, TLS: withTLS})
	return srv.URL().String(), dataDir
}

// checkNoLeaks fails when goroutines the test started are still running a moment after it ends.
func checkNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

func TestRunMeasuresDelayAndLossAgainstARealServer(t *testing.T) {
	checkNoLeaks(t) // first, so that its cleanup runs after the server's
	url, _ := startServer(t, false)
	var mu sync.Mutex
	var progress []Progress
	cfg := Config{URL: url, Profile: Profiles["active"], Rooms: 2, PerRoom: 3, Duration: 1500 * time.Millisecond,
		Warmup: 300 * time.Millisecond, Drain: 500 * time.Millisecond, ChatEvery: time.Second,
		ProgressEvery: 250 * time.Millisecond, Progress: func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Entered != 6 || res.Failed != 0 || res.Lobby != 0 || len(res.Errors) > 0 {
		t.Fatalf("entered %d, failed %d, lobby %d, errors %v", res.Entered, res.Failed, res.Lobby, res.Errors)
	}
	// Six people at 10 a second for 1.5 s, each heard by the two others in its room: about 180 updates.
	if res.Loss.Expected < 120 || res.Loss.Expected > 240 {
		t.Errorf("expected %d in-window updates, want about 180", res.Loss.Expected)
	}
	if res.Loss.Lost != 0 || res.Loss.Gaps != 0 || res.Loss.Duplicates != 0 || res.Loss.Foreign != 0 {
		t.Errorf("an idle loopback server lost updates: %+v", res.Loss)
	}
	if res.Delay.Samples != uint64(res.Loss.Received) || res.Delay.P50MS <= 0 || res.Delay.P99MS < res.Delay.P50MS || res.Delay.MaxMS < res.Delay.P99MS*0.9 {
		t.Errorf("delays %+v for %d updates received", res.Delay, res.Loss.Received)
	}
	// A first sync reaches those already in the room: with three joining one after another, 0+1+2 per room,
	// give or take the order the joins finished in.
	if n := res.Messages.FirstSyncsIn; n < 2 || n > 12 {
		t.Errorf("first syncs received %d, want about 6", n)
	}
	if res.Messages.OutPerSecond < 40 || res.Messages.InPerSecond < 80 {
		t.Errorf("messages %+v", res.Messages)
	}
	if res.Server.Error != "" || res.Server.CPUSeconds <= 0 || res.Server.UsersPerVCPU <= 0 || res.Server.FramesOutPerSecond <= 0 {
		t.Errorf("server %+v", res.Server)
	}
	var out strings.Builder
	WriteSummary(&out, res)
	for _, want := range []string{"delay p50 / p95 / p99 / max", "loss", "messages per second", "server CPU", "users per vCPU"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	phases := map[string]bool{}
	for _, p := range progress {
		phases[p.Phase] = true
		if line := p.String(); strings.Contains(line, "\n") {
			t.Errorf("progress line with a newline: %q", line)
		}
	}
	if !phases["measuring"] {
		t.Errorf("progress never said measuring: %v", phases)
	}
}

func TestRunOverTLSNeedsTheCertificate(t *testing.T) {
	url, dir := startServer(t, true)
	cfg := Config{URL: url, Profile: Profiles["inactive"], Rooms: 1, PerRoom: 2, Duration: 300 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a self-signed server was accepted without its CA: %v", err)
	}
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg.TLS = &tls.Config{RootCAs: pool}
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Entered != 2 || res.Server.Error != "" {
		t.Fatalf("over TLS: entered %d, server %+v, errors %v", res.Entered, res.Server, res.Errors)
	}
}

func TestRunRefusesMoreThanTheRoomHolds(t *testing.T) {
	url, _ := startServer(t, false)
	cfg := Config{URL: url, Profile: Profiles["single-room"], Rooms: 1, PerRoom: 25, Duration: time.Second}
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "rooms of 24") || !strings.Contains(err.Error(), "default_room_size") {
		t.Fatalf("error %v", err)
	}
}

func TestConfigChecks(t *testing.T) {
	good := Config{URL: "http://127.0.0.1:4000", Profile: Profiles["active"], Rooms: 1, PerRoom: 2, Duration: time.Second}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, tweak := range map[string]func(*Config){
		"no scheme":          func(c *Config) { c.URL = "127.0.0.1:4000" },
		"ws scheme":          func(c *Config) { c.URL = "ws://127.0.0.1:4000" },
		"a path":             func(c *Config) { c.URL = "http://127.0.0.1:4000/socket" },
		"no rooms":           func(c *Config) { c.Rooms = 0 },
		"too many":           func(c *Config) { c.Rooms, c.PerRoom = 1000, 1000 },
		"single room of two": func(c *Config) { c.Profile = Profiles["single-room"]; c.Rooms = 2 },
		"no duration":        func(c *Config) { c.Duration = 0 },
		"endless":            func(c *Config) { c.Duration = 2 * MaxDuration },
		"zero rate":          func(c *Config) { c.Profile.Rate = 0 },
		"absurd rate":        func(c *Config) { c.Profile.StillRate = 1000 },
		"moving one in zero": func(c *Config) { c.Profile.MovingOneIn = 0 },
		"chat flood":         func(c *Config) { c.ChatEvery = time.Millisecond },
	} {
		c := good
		tweak(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
