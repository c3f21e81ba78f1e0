package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"toncon/internal/auth"
	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

func TestAdminAccountCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "toncon.db")
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	// Someone signed in first and became admin by default; the operator names the admin they want.
	first, _, madeAdmin, err := db.FindOrCreateAccount(ctx, "first@example.org")
	if err != nil || !madeAdmin {
		t.Fatal(err)
	}
	keys, _, err := auth.LoadOrCreateKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(map[string]string{"TONCON_DATA": dir})
		code := Run(ctx, append([]string{"admin"}, args...), env)
		return code, out.String(), errb.String()
	}
	reopen := func() *sqlite.DB {
		db, err := sqlite.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}

	if code, out, errs := run("create-admin", "Boss@Example.org"); code != 0 || !strings.Contains(out, "boss@example.org is an admin") || !strings.Contains(out, "new account") {
		t.Fatalf("create-admin: %d %q %q", code, out, errs)
	}
	if code, out, _ := run("create-admin", "boss@example.org"); code != 0 || !strings.Contains(out, "already an admin") {
		t.Fatalf("create-admin again: %d %q", code, out)
	}
	if code, out, _ := run("create-admin", "first@example.org"); code != 0 || !strings.Contains(out, "already an admin") {
		t.Fatalf("create-admin of the first admin: %d %q", code, out)
	}
	if a, err := reopen().AccountByEmail(ctx, "boss@example.org"); err != nil || !a.IsAdmin || a.State != store.AccountEnabled {
		t.Fatalf("after create-admin: %+v %v", a, err)
	}

	// Disable: the account's token stops working, also after enabling it again.
	tok, err := keys.MintAccountToken(first.ID, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run("disable-account", "FIRST@example.org"); code != 0 || !strings.Contains(out, "first@example.org is disabled") || !strings.Contains(out, "admin") {
		t.Fatalf("disable-account: %d %q %q", code, out, errs)
	}
	db = reopen()
	if _, err := auth.Authenticate(ctx, keys, db, tok, time.Now()); !errors.Is(err, auth.ErrAccountDisabled) {
		t.Errorf("token of a disabled account: %v", err)
	}
	if code, out, _ := run("create-admin", "first@example.org"); code != 0 || !strings.Contains(out, "enable-account") {
		t.Errorf("create-admin of a disabled account does not say it is disabled: %d %q", code, out)
	}
	if code, out, _ := run("enable-account", "first@example.org"); code != 0 || !strings.Contains(out, "enabled") {
		t.Fatalf("enable-account: %d %q", code, out)
	}
	if _, err := auth.Authenticate(ctx, keys, db, tok, time.Now()); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("old token after enabling again: %v, want revoked", err)
	}
	fresh, _ := keys.MintAccountToken(first.ID, time.Now().Add(time.Second))
	if _, err := auth.Authenticate(ctx, keys, db, fresh, time.Now().Add(time.Second)); err != nil {
		t.Errorf("a new sign-in after enabling: %v", err)
	}

	for _, tc := range []struct {
		args    []string
		code    int
		mention string
	}{
		{[]string{"create-admin"}, 2, "one email address"},
		{[]string{"create-admin", "a@example.org", "b@example.org"}, 2, "one email address"},
		{[]string{"create-admin", "not-an-address"}, 2, "not an email address"},
		{[]string{"disable-account", "nobody@example.org"}, 1, "no account has the address"},
		{[]string{"enable-account", "nobody@example.org"}, 1, "no account has the address"},
		{[]string{"disable-account"}, 2, "one email address"},
	} {
		code, _, errs := run(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.mention) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tc.args, code, errs, tc.code, tc.mention)
		}
	}
	if code, out, _ := run("--help"); code != 0 || !strings.Contains(out, "create-admin EMAIL") {
		t.Errorf("help does not list create-admin: %q", out)
	}
}
