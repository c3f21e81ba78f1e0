package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"toncon/internal/store"
	"toncon/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "toncon.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return db
	})
}

func countMigrations(t *testing.T, path string) int {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReopenKeepsDataAndAppliesMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "toncon.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.CreateHub(ctx, store.Hub{Name: "Persistent", EntryMode: store.EntryAllow, RoomSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSiteSetting(ctx, store.SettingPermissiveRooms, "true"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Close checkpoints the WAL, so the folder holds only the database: a plain copy is a complete backup.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "toncon.db" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("after Close the folder holds %v, want just toncon.db", names)
	}

	want, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if n := countMigrations(t, path); n != len(want) {
		t.Fatalf("%d migrations recorded, want %d", n, len(want))
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	got, err := db.GetHub(ctx, h.SID)
	if err != nil {
		t.Fatalf("GetHub after reopen: %v", err)
	}
	if got.ID != h.ID || got.Name != h.Name || !got.CreatedAt.Equal(h.CreatedAt) {
		t.Errorf("after reopen: %+v, want %+v", got, h)
	}
	if s, err := db.SiteSettings(ctx); err != nil || !s.PermissiveRooms {
		t.Errorf("after reopen: SiteSettings = %+v, %v; want PermissiveRooms", s, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countMigrations(t, path); n != len(want) {
		t.Errorf("after reopen %d migrations recorded, want %d (re-applied?)", n, len(want))
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "toncon.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at)
		VALUES (9999, '9999_from_the_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	if err == nil {
		t.Fatal("Open accepted a database with an unknown future migration")
	}
	for _, want := range []string{"9999", "9999_from_the_future.sql", "newer toncon"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "toncon.db")
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		// The first statement succeeds, the second fails: neither may stick.
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER); INSERT INTO no_such_table VALUES (1);")},
	}
	if _, err := open(ctx, path, fsys); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("open with a broken migration: err = %v, want one naming 0002_b.sql", err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var versions, tablesB int
	if err := raw.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'b'").Scan(&tablesB); err != nil {
		t.Fatal(err)
	}
	if versions != 1 || tablesB != 0 {
		t.Errorf("after failed 0002: %d migrations recorded and table b exists=%v; want 1 and false",
			versions, tablesB == 1)
	}
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number": {"migrations/hubs.sql": {}},
		"zero":      {"migrations/0000_x.sql": {}},
		"duplicate": {"migrations/0001_a.sql": {}, "migrations/001_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations accepted it", name)
		}
	}
}

func TestEmbeddedMigrationsAreNumberedInOrder(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	// Gaps usually mean a migration was lost in a merge.
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s has version %d, want %d", m.name, m.version, i+1)
		}
	}
}

func TestPathWithURICharacters(t *testing.T) {
	// The DSN is a URI; a data folder name with '?' or '#' must not be cut short or taken as parameters.
	dir := filepath.Join(t.TempDir(), "odd ?#% name")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), filepath.Join(dir, "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "toncon.db")); err != nil {
		t.Errorf("database not created where asked: %v", err)
	}
}

func TestCheckConstraintIsInvalid(t *testing.T) {
	// Defence in depth below the store's own validation: a row that bypassed it is still refused as ErrInvalid.
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.db.Exec(`INSERT INTO hubs (hub_sid, name, entry_mode, room_size, member_permissions, created_at,
		last_active_at) VALUES ('abcdefg', 'x', 'open', 1, 0, 0, 0)`)
	if err = classify(err); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CHECK violation classified as %v, want ErrInvalid", err)
	}
}

func TestConnectionPragmas(t *testing.T) {
	// The pragmas ride in the DSN; check they reach every pooled connection, not just the first, and were not lost
	// to URI escaping.
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var conns []*sql.Conn
	for range 3 {
		c, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var fk, busy, sync int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy != int(busyTimeout.Milliseconds()) || sync != 1 {
			t.Errorf("conn %d: journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d; want wal 1 %d 1",
				i, mode, fk, busy, sync, busyTimeout.Milliseconds())
		}
	}
	for _, c := range conns {
		c.Close()
	}
}
