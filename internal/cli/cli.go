// Package cli implements toncon's subcommands and their flags. Run is the whole program, so tests call it directly.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"toncon/internal/version"
)

// Env is what a command may use of the outside world, so tests can supply their own.
type Env struct {
	Stdout, Stderr io.Writer
	// Lookup reads an environment variable.
	Lookup func(key string) (string, bool)
}

// OSEnv is the process's own standard streams and environment.
func OSEnv() Env { return Env{Stdout: os.Stdout, Stderr: os.Stderr, Lookup: os.LookupEnv} }

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the input was wrong; the message says what to change
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, env Env) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":    {"run the toncon server (rooms, API, web apps, media)", runServe},
		"version":  {"print the version", runVersion},
		"cost":     {"plan capacity and cost for an event", runCost},
		"loadtest": {"simulate people in rooms and measure capacity", runLoadtest},
		"admin":    {"change settings of a toncon's data folder: offline mode, budget, room sizes", runAdmin},
	}
}

// Run runs toncon with the given arguments (without the program name) and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Lookup == nil {
		env.Lookup = func(string) (string, bool) { return "", false }
	}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "toncon: unknown command %q\n\n", args[0])
		usage(env.Stderr, cmds)
		return exitUsage
	}
	return cmd.run(ctx, args[1:], env)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintf(w, "toncon %s: virtual events in the browser, self-hosted, in one binary.\n\nUsage: toncon <command> [flags]\n\nCommands:\n", version.String())
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'toncon <command> --help' for a command's flags.\n")
}

// parseFlags parses and turns the result into an exit code when the command should stop here.
func parseFlags(fs *flagSet, args []string, env Env) (code int, stop bool) {
	err := fs.Parse(args, env)
	if err == nil && len(fs.Args()) > 0 {
		err = fmt.Errorf("unexpected argument %q (flags start with --)", fs.Args()[0])
	}
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	default:
		fmt.Fprintf(env.Stderr, "toncon %s: %v\n", fs.command, err)
		return exitUsage, true
	}
}

func runVersion(ctx context.Context, args []string, env Env) int {
	fs := newFlagSet("version", "Print the version of this build.", env.Stderr)
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	fmt.Fprintf(env.Stdout, "toncon %s\n", version.String())
	return exitOK
}
