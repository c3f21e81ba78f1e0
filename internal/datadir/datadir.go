// Package datadir owns toncon's data folder (./data by default): it lays the folder out and locks it, so that two
// toncon processes never write the same database, uploads, certificate and keys at once.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Names inside the data folder.
const (
	FilesDir = "files"       // uploaded and stored files
	TLSDir   = "tls"         // the self-signed certificate
	KeysDir  = "keys"        // token signing keys
	LockFile = "toncon.lock" // locked while a toncon uses the folder; holds its pid
)

// ErrInUse matches the error Open returns when another toncon holds the folder; errors.As with *InUseError gives
// its pid.
var ErrInUse = errors.New("data folder in use")

// InUseError says which process holds a data folder.
type InUseError struct {
	Root string // as given to Open
	PID  int    // 0 when the holder had not written it yet
}

func (e *InUseError) Error() string {
	holder := "another toncon"
	if e.PID > 0 {
		holder += fmt.Sprintf(" (pid %d)", e.PID)
	}
	return fmt.Sprintf("data folder %q is in use by %s; stop it or choose another folder with --data", e.Root, holder)
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// Dir is an open, locked data folder.
type Dir struct {
	Root string // as given to Open

	mu   sync.Mutex // guards lock
	lock *os.File   // the locked toncon.lock; nil once closed
}

// Open creates the data folder layout if needed (root 0700; subfolders files/, tls/, keys/) and takes an exclusive
// lock (flock on root/toncon.lock, which also records the holder's pid) so that a second toncon on the same folder
// fails at once with an *InUseError (matching ErrInUse) like: data folder "./data" is in use by another toncon
// (pid 1234); stop it or choose another folder with --data. The lock is released by Close or when the process
// dies. On systems without flock (Windows) the folder is laid out but not locked.
func Open(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("no data folder given: choose one with --data")
	}
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("data folder %q is a file, not a folder: choose another folder with --data", root)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %q: %w", root, err)
	}

	// Lock before touching anything else, so that a second toncon changes nothing.
	f, err := os.OpenFile(filepath.Join(root, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data folder %q: open lock: %w", root, err)
	}
	locked, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data folder %q: lock %s: %w", root, LockFile, err)
	}
	if !locked {
		pid := readPID(f)
		f.Close()
		return nil, &InUseError{Root: root, PID: pid}
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("data folder %q: write %s: %w", root, LockFile, err)
	}

	for _, sub := range []string{FilesDir, TLSDir, KeysDir} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o700); err != nil {
			f.Close()
			return nil, fmt.Errorf("data folder %q: create %s: %w", root, sub, err)
		}
	}
	return &Dir{Root: root, lock: f}, nil
}

// Path returns filepath.Join(root, elem...).
func (d *Dir) Path(elem ...string) string {
	return filepath.Join(append([]string{d.Root}, elem...)...)
}

// Close releases the lock. Closing again does nothing.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lock == nil {
		return nil
	}
	// Closing the only descriptor of the lock file releases the flock.
	err := d.lock.Close()
	d.lock = nil
	if err != nil {
		return fmt.Errorf("data folder %q: release lock: %w", d.Root, err)
	}
	return nil
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID returns the pid recorded in the lock file, or 0.
func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
