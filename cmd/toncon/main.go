// Command toncon is the whole toncon platform in one binary: rooms, media, web apps and the capacity planner.
// Everything lives in internal/cli so that it can be tested; main only wires the process to it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"toncon/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.OSEnv())
	stop()
	os.Exit(code)
}
