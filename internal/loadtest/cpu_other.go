//go:build !unix

package loadtest

import "time"

// processCPU is not measured on this platform: the load generator's CPU shows as 0.
func processCPU() time.Duration { return 0 }
