package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"toncon/internal/store/sqlite"
)

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(map[string]string{"TONCON_DATA": dir})
		code := Run(context.Background(), append([]string{"admin"}, args...), env)
		return code, out.String(), errb.String()
	}
	if code, out, _ := run("offline", "on", "--redirect", "https://example.org/later"); code != 0 || !strings.Contains(out, "redirect to https://example.org/later") {
		t.Fatalf("offline on: %d %q", code, out)
	}
	if code, out, _ := run("get", "offline"); code != 0 || out != "offline = true\n" {
		t.Fatalf("get offline: %d %q", code, out)
	}
	if code, out, _ := run("get", "offline_redirect_url"); code != 0 || out != "offline_redirect_url = https://example.org/later\n" {
		t.Fatalf("get redirect: %d %q", code, out)
	}
	if code, out, _ := run("offline", "off"); code != 0 || !strings.Contains(out, "off") {
		t.Fatalf("offline off: %d %q", code, out)
	}
	if code, _, _ := run("set", "monthly_budget_usd", "25"); code != 0 {
		t.Fatal("set budget failed")
	}
	code, out, _ := run("get")
	if code != 0 || !strings.Contains(out, "offline = false\n") || !strings.Contains(out, "monthly_budget_usd = 25\n") || !strings.Contains(out, "default_room_size = 24\n") {
		t.Fatalf("get all: %d %q", code, out)
	}
	if code, out, _ := run("usage"); code != 0 || !strings.Contains(out, "budget $25.00") {
		t.Fatalf("usage: %d %q", code, out)
	}
	for _, tc := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"offline"}, 2, "on or off"},
		{[]string{"offline", "maybe"}, 2, "on or off"},
		{[]string{"offline", "off", "--redirect", "https://x.org"}, 2, "--redirect goes with"},
		{[]string{"offline", "on", "--redirect", "not a url"}, 2, "http(s) URL"},
		{[]string{"set", "idle_minutes"}, 2, "key and a value"},
		{[]string{"set", "idle_minutes", "0"}, 2, "1 to 1440"},
		{[]string{"set", "colour", "blue"}, 2, "known settings"},
		{[]string{"get", "colour"}, 2, "unknown setting"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"get", "--data", filepath.Join(dir, "nowhere")}, 1, "no toncon database"},
	} {
		code, _, errOut := run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.mention) {
			t.Errorf("%v: %d %q, want %d mentioning %q", tc.args, code, errOut, tc.code, tc.mention)
		}
	}
	// Nothing the refused commands tried was stored.
	if _, out, _ := run("get", "idle_minutes"); out != "idle_minutes = 5\n" {
		t.Fatalf("refused set changed the setting: %q", out)
	}
}
