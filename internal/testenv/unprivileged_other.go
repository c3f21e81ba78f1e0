//go:build !unix

package testenv

import "testing"

// RunUnprivileged returns true: there is no root to step down from here, so the test goes on as it is.
func RunUnprivileged(t *testing.T) bool { return true }
