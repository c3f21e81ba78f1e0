//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package datadir

import "os"

// tryLock does not lock where there is no flock: the folder is shared unguarded.
func tryLock(*os.File) (bool, error) { return true, nil }
