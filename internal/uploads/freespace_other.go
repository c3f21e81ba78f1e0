//go:build !(darwin || freebsd || linux)

package uploads

import "errors"

// freeSpace is not known here: the floor is then not checked (the service logs that once at start).
func freeSpace(string) (uint64, error) { return 0, errors.ErrUnsupported }
