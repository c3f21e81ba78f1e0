//go:build unix

package testenv

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// nobody is the user and group id an unprivileged copy of a test runs as.
const nobody = 65534

// childEnv marks the copy of the test binary that RunUnprivileged starts.
const childEnv = "TONCON_TEST_UNPRIVILEGED"

// RunUnprivileged makes a test about file permissions mean the same under root, which reads and writes
// whatever the modes say. Called first in such a test, it returns at once for an ordinary user, and the test
// goes on. Under root it runs this one test again in a copy of the test binary as user nobody, reports that
// run's output, and returns false: the calling test must then return, and it passes only if the copy passed.
//
//	if !testenv.RunUnprivileged(t) {
//		return
//	}
func RunUnprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	if os.Getenv(childEnv) != "" {
		t.Fatal("still root in the unprivileged copy of the test")
	}
	// The go tool builds the test binary in a folder only root may enter, so nobody runs a copy of it.
	dir, err := os.MkdirTemp("", "toncon-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "test")
	if err := copyExecutable(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), childEnv+"=1", "HOME="+os.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	t.Logf("run again as user %d:\n%s", nobody, out)
	if err != nil {
		t.Fatalf("the unprivileged run failed: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name()+" ")) {
		t.Fatal("the unprivileged run did not run the test")
	}
	return false
}

func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
