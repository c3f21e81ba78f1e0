package cli

import (
	"context"
	"fmt"
)

// runCost is being written (issue: plan capacity and cost); until then it says so.
func runCost(ctx context.Context, args []string, env Env) int {
	fmt.Fprintln(env.Stderr, "toncon cost: not built yet")
	return exitError
}
