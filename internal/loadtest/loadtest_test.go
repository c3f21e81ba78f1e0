package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/media"
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

// startMediaServer runs a toncon with its SFU on the loopback, as the browser tests do.
func startMediaServer(t *testing.T) string {
	t.Helper()
	srv := servertest.Start(t, server.Config{Media: media.Config{ListenIP: "127.0.0.1"}})
	return srv.URL().String()
}

func TestRunWithMediaMeasuresVoiceThroughTheSFU(t *testing.T) {
	checkNoLeaks(t)
	url := startMediaServer(t)
	before, err := scrapeURL(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	cfg := Config{URL: url, Profile: Profiles["active"], Rooms: 1, PerRoom: 3, Duration: 3 * time.Second,
		Warmup: 1500 * time.Millisecond, Drain: time.Second, Media: true, ProgressEvery: 250 * time.Millisecond,
		Progress: func(p Progress) { mu.Lock(); lines = append(lines, p.String()); mu.Unlock() }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Media
	if m == nil {
		t.Fatal("no media figures in the result")
	}
	if len(res.Errors) > 0 || m.Failed != 0 || m.Connected != 3 || m.Talkers != 1 {
		t.Fatalf("talkers %d, connected %d, failed %d, errors %v", m.Talkers, m.Connected, m.Failed, res.Errors)
	}
	// One talker at 50 packets a second for 3 s, heard by the two others: about 300 packets.
	if m.Loss.Expected < 240 || m.Loss.Expected > 330 {
		t.Errorf("expected %d in-window voice packets, want about 300", m.Loss.Expected)
	}
	if m.Loss.Percent > 2 || m.Loss.Foreign != 0 || m.Loss.Duplicates != 0 || m.Unreadable != 0 {
		t.Errorf("voice over an idle loopback: %+v, unreadable %d", m.Loss, m.Unreadable)
	}
	if m.Delay.Samples != uint64(m.Loss.Received) || m.Delay.Samples == 0 || m.Delay.P50MS <= 0 ||
		m.Delay.P99MS < m.Delay.P50MS || m.Delay.P99MS > 500 {
		t.Errorf("voice delays %+v for %d packets received", m.Delay, m.Loss.Received)
	}
	if m.TracksReceived != 2 {
		t.Errorf("%d voices started playing, want 2 (the talker's, at each listener)", m.TracksReceived)
	}
	if m.OutPerSecond < 40 || m.OutPerSecond > 62 || m.InPerSecond < 80 || m.InPerSecond > 124 {
		t.Errorf("voice packets out %.0f/s, in %.0f/s; want 50 and 100", m.OutPerSecond, m.InPerSecond)
	}
	// A server that forwards every voice leaves none out: what was offered arrived or was lost.
	if m.NotForwarded > m.Offered/100 || m.Server.SuppressedPerSecond != 0 {
		t.Errorf("offered %d, not forwarded %d, server suppressed %.0f/s with every voice forwarded", m.Offered, m.NotForwarded, m.Server.SuppressedPerSecond)
	}
	// The server's /metrics saw the same: three peers, one track forwarded to two, and the packets.
	if m.Server.Peers != 3 || m.Server.Tracks != 1 || m.Server.Streams != 2 || m.Server.ForwardedPerSecond < 80 {
		t.Errorf("media server figures %+v", m.Server)
	}
	after, err := scrapeURL(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if fwd := after.mediaForwarded - before.mediaForwarded; fwd < float64(m.Loss.Received) {
		t.Errorf("toncon_media_forwarded_packets_total moved by %.0f, but %d packets were received", fwd, m.Loss.Received)
	}
	// The pose updates were measured alongside.
	if res.Delay.Samples == 0 || res.Loss.Lost != 0 {
		t.Errorf("pose updates next to voice: delay %+v, loss %+v", res.Delay, res.Loss)
	}

	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Media struct {
			Talkers int `json:"talkers"`
			Delay   struct {
				P50 *float64 `json:"p50_ms"`
				P95 *float64 `json:"p95_ms"`
				P99 *float64 `json:"p99_ms"`
			} `json:"delay"`
			Loss map[string]any `json:"loss"`
		} `json:"media"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Media.Talkers != 1 || doc.Media.Delay.P50 == nil || doc.Media.Delay.P95 == nil || doc.Media.Delay.P99 == nil || doc.Media.Loss["percent"] == nil {
		t.Errorf("JSON %s: %v", b, err)
	}
	for _, key := range []string{`"packets_in_per_second"`, `"forwarded_packets_per_second"`} {
		if !strings.Contains(string(b[strings.Index(string(b), `"media"`):]), key) {
			t.Errorf("the media JSON lacks %s", key)
		}
	}
	var out strings.Builder
	WriteSummary(&out, res)
	t.Logf("summary:\n%s", out.String())
	for _, want := range []string{"voice delay p50 / p95 / p99 / max", "voice loss", "media server"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	voiceLine := false
	for _, l := range lines {
		voiceLine = voiceLine || strings.Contains(l, "voice 3 connected, p50")
	}
	if !voiceLine {
		t.Errorf("no progress line showed voice delays: %q", lines)
	}
}

func TestTalkersNeedMedia(t *testing.T) {
	c := Config{URL: "http://127.0.0.1:4000", Profile: Profiles["active"], Rooms: 1, PerRoom: 2, Duration: time.Second, Talkers: 0.5}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--media") {
		t.Errorf("talkers without media: %v", err)
	}
	c.Media, c.Talkers = true, 1.5
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--talkers") {
		t.Errorf("talkers 1.5: %v", err)
	}
	for _, tc := range []struct {
		size  int
		share float64
		want  int
	}{{24, 1.0 / 3, 8}, {3, 1.0 / 3, 1}, {24, 0, 1}, {2, 0.01, 1}, {5, 1, 5}} {
		if got := talkersIn(tc.size, tc.share); got != tc.want {
			t.Errorf("talkersIn(%d, %g) = %d, want %d", tc.size, tc.share, got, tc.want)
		}
	}
}

func TestVoicePayloads(t *testing.T) {
	sizes := map[int]bool{}
	for seq := uint32(1); seq < 500; seq++ {
		b := appendVoice(nil, 4242, seq, 1234567890123)
		if len(b) < voiceMinPayload || len(b) > voiceMaxPayload {
			t.Fatalf("payload of %d bytes", len(b))
		}
		sizes[len(b)] = true
		person, s, sent, ok := parseVoice(b)
		if !ok || person != 4242 || s != seq || sent != 1234567890123 {
			t.Fatalf("read back %d %d %d %v", person, s, sent, ok)
		}
	}
	if len(sizes) < 50 {
		t.Errorf("only %d payload sizes: a voice's sizes should vary", len(sizes))
	}
	for _, bad := range [][]byte{nil, []byte("lv"), make([]byte, 80), append([]byte("xx"), make([]byte, 40)...)} {
		if _, _, _, ok := parseVoice(bad); ok {
			t.Errorf("%q read as a voice payload", bad)
		}
	}
}

// scrapeURL reads a server's /metrics the way a run does.
func scrapeURL(ctx context.Context, u string) (*serverSample, error) {
	base, err := neturl.Parse(u)
	if err != nil {
		return nil, err
	}
	r := &run{base: base, http: newHTTPClient(nil)}
	defer r.http.CloseIdleConnections()
	return r.scrape(ctx)
}
