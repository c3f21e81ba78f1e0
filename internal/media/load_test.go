//go:build unix && mediaload

package media

// The load run behind the numbers in docs/media.md: an audio room where everyone talks at once. The SFU runs in
// a child process (this test binary, run again) so that its CPU time and allocations are measured apart from the
// clients', which are Pion peers in this process. It is a measurement, not a check, so it is built only with
// the mediaload tag and `make test` leaves it out:
//
//	go test -tags mediaload -run TestLoadAudioRoom -v -timeout 10m ./internal/media/
//
// TONCON_MEDIA_LOAD_PEERS (default 24) and TONCON_MEDIA_LOAD_SECONDS (default 20) change the room size and the
// measuring window; TONCON_MEDIA_LOAD_PROFILE=<file> writes a CPU profile of the SFU over the window (and <file>.allocs).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"toncon/internal/auth"
)

// loadStats is what the server process reports about itself.
type loadStats struct {
	CPUNanos  int64 `json:"cpu_ns"` // user + system CPU time of the process
	Mallocs   uint64
	Bytes     uint64
	Forwarded int64
	Streams   int64
}

func TestLoadAudioRoom(t *testing.T) {
	peers, secs := envInt("TONCON_MEDIA_LOAD_PEERS", 24), envInt("TONCON_MEDIA_LOAD_SECONDS", 20)

	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadServerProcess$")
	cmd.Env = append(os.Environ(), "TONCON_MEDIA_LOAD_SERVER="+filepath.Join(testKeysDir, "perms.pub.pem"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the server process stops when its stdin closes
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	var url string
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "LISTEN "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatal("the server process did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	e := &env{t: t, url: url, keys: testKeys, now: time.Now}
	clients := make([]*client, peers)
	for i := range clients {
		clients[i] = e.dial(fmt.Sprintf("p%02d", i))
		clients[i].join(e, hub, e.token(hub, nil))
	}
	for _, c := range clients {
		c.publish(true, false)
	}
	eventually(t, 2*time.Minute, "everyone hears everyone", func() bool {
		for _, c := range clients {
			for _, o := range clients {
				if c != o && c.got(o.name, "audio") == 0 {
					return false
				}
			}
		}
		return true
	})
	time.Sleep(2 * time.Second) // let negotiation settle before measuring

	stats := func() loadStats {
		resp, err := http.Get(url + "/load/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s loadStats
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	toggleProfile := func() {
		if resp, err := http.Get(url + "/load/profile"); err == nil {
			resp.Body.Close()
		}
	}
	toggleProfile()
	s0, t0 := stats(), time.Now()
	time.Sleep(time.Duration(secs) * time.Second) // the measuring window
	s1, wall := stats(), time.Since(t0).Seconds()
	toggleProfile()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)

	fwd := float64(s1.Forwarded - s0.Forwarded)
	cpu := float64(s1.CPUNanos-s0.CPUNanos) / 1e9
	clientCPU := float64(rusageNanos(&ru1)-rusageNanos(&ru0)) / 1e9
	t.Logf("machine: %s, %d CPUs, %s", cpuModel(), runtime.NumCPU(), runtime.Version())
	t.Logf("room of %d, audio 50 packets/s each, everyone receives everyone: %d streams, %d packets/s wanted",
		peers, s1.Streams, peers*(peers-1)*50)
	t.Logf("forwarded %.0f packets/s; SFU CPU %.2f cores (clients in the other process: %.2f cores)", fwd/wall, cpu/wall, clientCPU/wall)
	t.Logf("per forwarded packet: %.2f µs CPU, %.3f allocations, %.0f bytes allocated; %.0f forwarded packets/s per core",
		cpu/fwd*1e6, float64(s1.Mallocs-s0.Mallocs)/fwd, float64(s1.Bytes-s0.Bytes)/fwd, fwd/cpu)
}

// TestLoadServerProcess is the SFU side of the load run, started by TestLoadAudioRoom.
func TestLoadServerProcess(t *testing.T) {
	keyPath := os.Getenv("TONCON_MEDIA_LOAD_SERVER")
	if keyPath == "" {
		t.Skip("the server process of TestLoadAudioRoom")
	}
	pub, err := auth.LoadPermsPublicKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{PermsKey: pub, ListenIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/media/socket", s)
	var profile *os.File
	mux.HandleFunc("/load/profile", func(w http.ResponseWriter, r *http.Request) {
		path := os.Getenv("TONCON_MEDIA_LOAD_PROFILE")
		switch {
		case path == "":
		case profile == nil:
			if profile, err = os.Create(path); err == nil {
				err = pprof.StartCPUProfile(profile)
			}
		default:
			pprof.StopCPUProfile()
			profile.Close()
			if f, err := os.Create(path + ".allocs"); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	})
	mux.HandleFunc("/load/stats", func(w http.ResponseWriter, r *http.Request) {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		l := s.Load()
		_ = json.NewEncoder(w).Encode(loadStats{CPUNanos: rusageNanos(&ru), Mallocs: ms.Mallocs, Bytes: ms.TotalAlloc,
			Forwarded: l.ForwardedPackets, Streams: l.Streams})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Close(ctx)
	_ = srv.Close()
}

func rusageNanos(ru *syscall.Rusage) int64 {
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
