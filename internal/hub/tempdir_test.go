package hub

import (
	"os"
	"testing"
)

func tempDir() (string, error) { return os.MkdirTemp("", "toncon-hub-keys-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if keysDir != "" {
		os.RemoveAll(keysDir)
	}
	os.Exit(code)
}
