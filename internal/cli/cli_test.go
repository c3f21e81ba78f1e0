package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine writing while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testEnv(vars map[string]string) (Env, *syncBuffer, *syncBuffer) {
	out, errb := &syncBuffer{}, &syncBuffer{}
	return Env{Stdout: out, Stderr: errb, Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}, out, errb
}

var servingLine = regexp.MustCompile(`msg="toncon is serving" .*url=(http://127\.0\.0\.1:\d+)`)

// waitServing waits for a serve started in the test to log that it is serving over plain HTTP on loopback, and
// returns its base URL.
func waitServing(t *testing.T, errb *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !servingLine.MatchString(errb.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no serving line:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return servingLine.FindStringSubmatch(errb.String())[1]
}

func TestVersionAndHelp(t *testing.T) {
	env, out, _ := testEnv(nil)
	if code := Run(context.Background(), []string{"version"}, env); code != 0 || !strings.HasPrefix(out.String(), "toncon ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	env, out, _ = testEnv(nil)
	if code := Run(context.Background(), []string{"--help"}, env); code != 0 || !strings.Contains(out.String(), "serve") || !strings.Contains(out.String(), "cost") {
		t.Fatalf("help: %d %q", code, out.String())
	}
	env, _, errb := testEnv(nil)
	if code := Run(context.Background(), []string{"serve", "--help"}, env); code != 0 {
		t.Fatalf("serve --help: %d", code)
	}
	for _, want := range []string{"--addr", "TONCON_ADDR", "--data", "TONCON_DATA", "--tls", "--public-url", "--idle-timeout", "--max-frame-bytes"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("serve --help does not mention %s:\n%s", want, errb.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nonsense"}, {"serve", "--no-such-flag"}, {"serve", "--tls=maybe"}, {"serve", "--log-level=loud"}, {"version", "extra-flag", "--x"}} {
		env, _, errb := testEnv(nil)
		if code := Run(context.Background(), args, env); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
	env, _, errb := testEnv(map[string]string{"TONCON_IDLE_TIMEOUT": "soon"})
	if code := Run(context.Background(), []string{"serve"}, env); code != 2 || !strings.Contains(errb.String(), "TONCON_IDLE_TIMEOUT") {
		t.Fatalf("bad env value: %d %q", code, errb.String())
	}
}

func TestServeRunsUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	// Flags come from the environment; the command line wins over it.
	env, _, errb := testEnv(map[string]string{"TONCON_DATA": dir, "TONCON_ADDR": "127.0.0.1:1", "TONCON_TLS": "off"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, env) }()
	waitServing(t, errb)
	if !strings.Contains(errb.String(), "data="+dir) {
		t.Fatalf("TONCON_DATA not used:\n%s", errb.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(errb.String(), "msg=stopped") {
			t.Fatalf("exit %d:\n%s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeReportsABusyDataFolder(t *testing.T) {
	dir := t.TempDir()
	env, _, errb := testEnv(map[string]string{"TONCON_TLS": "off"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, env) }()
	waitServing(t, errb)
	env2, _, errb2 := testEnv(map[string]string{"TONCON_TLS": "off"})
	if code := Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, env2); code != 1 || !strings.Contains(errb2.String(), "in use by another toncon") {
		t.Fatalf("second serve: %d %s", code, errb2.String())
	}
	cancel()
	<-done
}
