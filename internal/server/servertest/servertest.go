// Package servertest starts a whole toncon in the test process, on 127.0.0.1 with a random port and a fresh data
// folder, and stops it when the test ends: what tests of the pieces that talk to a running server need.
package servertest

import (
	"context"
	"testing"
	"time"

	"toncon/internal/server"
)

// Start runs a server with cfg (Addr and DataDir are filled in when empty) until the test ends, and checks that
// it stopped cleanly.
func Start(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
	})
	return srv
}
