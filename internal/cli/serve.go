package cli

import (
	"context"
	"fmt"
)

func runServe(ctx context.Context, args []string, env Env) int {
	fmt.Fprintln(env.Stderr, "toncon serve: not built yet")
	return exitError
}
