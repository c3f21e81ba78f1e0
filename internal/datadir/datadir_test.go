package datadir

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"toncon/internal/testenv"
)

func canLock() bool {
	switch runtime.GOOS {
	case "darwin", "dragonfly", "freebsd", "linux", "netbsd", "openbsd":
		return true
	}
	return false
}

func inUseMessage(root string, pid int) string {
	return fmt.Sprintf("data folder %q is in use by another toncon (pid %d); stop it or choose another folder with --data", root, pid)
}

func TestOpenCreatesLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "data")
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	if d.Root != root {
		t.Errorf("Root %q, want %q", d.Root, root)
	}
	for _, p := range []string{root, d.Path(FilesDir), d.Path(TLSDir), d.Path(KeysDir)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != fs.ModeDir|0o700 {
			t.Errorf("%s: mode %v, want drwx------", p, fi.Mode())
		}
	}
	lock, err := os.ReadFile(d.Path(LockFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(lock)); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid %d", got, os.Getpid())
	}
	if fi, _ := os.Stat(d.Path(LockFile)); fi.Mode() != 0o600 {
		t.Errorf("lock file mode %v, want -rw-------", fi.Mode())
	}
}

func TestPath(t *testing.T) {
	d := &Dir{Root: "data"}
	tests := []struct {
		elem []string
		want string
	}{
		{nil, "data"},
		{[]string{"tls"}, filepath.Join("data", "tls")},
		{[]string{"tls", "cert.pem"}, filepath.Join("data", "tls", "cert.pem")},
		{[]string{"files", "..", "keys"}, filepath.Join("data", "keys")},
	}
	for _, tc := range tests {
		if got := d.Path(tc.elem...); got != tc.want {
			t.Errorf("Path(%q) = %q, want %q", tc.elem, got, tc.want)
		}
	}
}

func TestOpenKeepsExistingContents(t *testing.T) {
	root := t.TempDir()
	db := filepath.Join(root, "toncon.db")
	if err := os.WriteFile(db, []byte("db"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A lock file left by a toncon that died still holds its old pid; it must not block anyone.
	if err := os.WriteFile(filepath.Join(root, LockFile), []byte("99999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if b, err := os.ReadFile(db); err != nil || string(b) != "db" {
		t.Errorf("toncon.db changed: %q, %v", b, err)
	}
	if b, _ := os.ReadFile(d.Path(LockFile)); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("stale pid not replaced: %q", b)
	}
}

func TestSecondOpenInProcess(t *testing.T) {
	if !canLock() {
		t.Skip("no flock here")
	}
	// A relative path, as a person types it, appears in the message as typed.
	t.Chdir(t.TempDir())
	const root = "./data"
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		d2, err := Open(root)
		if err == nil {
			d2.Close()
			t.Fatalf("attempt %d: second Open of a locked folder succeeded", i)
		}
		if !errors.Is(err, ErrInUse) {
			t.Errorf("error %v does not match ErrInUse", err)
		}
		var inUse *InUseError
		if !errors.As(err, &inUse) || inUse.PID != os.Getpid() {
			t.Errorf("error %#v, want an *InUseError with pid %d", err, os.Getpid())
		}
		if got, want := err.Error(), inUseMessage(root, os.Getpid()); got != want {
			t.Errorf("message\n%s\nwant\n%s", got, want)
		}
	}
	// The failed attempts left the holder's pid in place.
	if b, _ := os.ReadFile(d.Path(LockFile)); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q after failed opens", b)
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	d3, err := Open(root)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := d3.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInUseErrorWithoutPID(t *testing.T) {
	err := &InUseError{Root: "./data"}
	want := `data folder "./data" is in use by another toncon; stop it or choose another folder with --data`
	if err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestOpenBadFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		root string
		want []string
	}{
		{"folder is a file", file, []string{strconv.Quote(file), "is a file, not a folder", "--data"}},
		{"parent is a file", filepath.Join(file, "sub"), []string{"create data folder", strconv.Quote(filepath.Join(file, "sub"))}},
		{"empty", "", []string{"--data"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(tc.root)
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestOpenSubfolderIsAFile(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, TLSDir), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(root)
	if err == nil {
		d.Close()
		t.Fatal("Open succeeded with tls/ a file")
	}
	if !strings.Contains(err.Error(), "create tls") {
		t.Errorf("error %q does not say which subfolder", err)
	}
	// The failed Open released its lock.
	d, err = Open(filepath.Join(root, "..", filepath.Base(root)))
	if err != nil && errors.Is(err, ErrInUse) {
		t.Errorf("lock kept after a failed Open: %v", err)
	}
	if d != nil {
		d.Close()
	}
}

func TestOpenUnwritableParent(t *testing.T) {
	if !testenv.RunUnprivileged(t) {
		return
	}
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(parent, 0o700)
	root := filepath.Join(parent, "data")
	_, err := Open(root)
	if err == nil || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), strconv.Quote(root)) {
		t.Errorf("error %v, want a permission error naming %q", err, root)
	}
}

const helperEnv = "TONCON_DATADIR_TEST_HOLD"

// TestHelperHoldLock is not a test: TestOtherProcess runs the test binary again with helperEnv set, and this
// holds the folder until its stdin closes or it is killed.
func TestHelperHoldLock(t *testing.T) {
	root := os.Getenv(helperEnv)
	if root == "" {
		t.Skip("helper process for TestOtherProcess")
	}
	d, err := Open(root)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	d.Close()
	os.Exit(0)
}

func TestOtherProcess(t *testing.T) {
	if !canLock() {
		t.Skip("no flock here")
	}
	tests := []struct {
		name    string
		release func(*exec.Cmd, io.Closer) error
	}{
		{"holder exits", func(_ *exec.Cmd, stdin io.Closer) error { return stdin.Close() }},
		{"holder is killed", func(cmd *exec.Cmd, _ io.Closer) error { return cmd.Process.Kill() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "data")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperHoldLock$")
			// GORACE: a race-enabled helper would otherwise linger a second at exit.
			cmd.Env = append(os.Environ(), helperEnv+"="+root, "GORACE=atexit_sleep_ms=0")
			cmd.Stderr = os.Stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				cmd.Process.Kill()
				cmd.Wait()
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || line != "locked\n" {
				t.Fatalf("helper said %q, %v; want locked", line, err)
			}

			_, err = Open(root)
			if err == nil {
				t.Fatal("Open succeeded while another process holds the folder")
			}
			var inUse *InUseError
			if !errors.As(err, &inUse) || inUse.PID != cmd.Process.Pid {
				t.Errorf("error %v, want an *InUseError with the helper's pid %d", err, cmd.Process.Pid)
			}
			if got, want := err.Error(), inUseMessage(root, cmd.Process.Pid); got != want {
				t.Errorf("message\n%s\nwant\n%s", got, want)
			}

			if err := tc.release(cmd, stdin); err != nil {
				t.Fatal(err)
			}
			cmd.Wait() // the helper is gone once Wait returns, and with it its lock
			d, err := Open(root)
			if err != nil {
				t.Fatalf("Open after the holder went away: %v", err)
			}
			d.Close()
		})
	}
}
