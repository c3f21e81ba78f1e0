// Package sqlite is the default store.Store: one SQLite file in the data folder, through the pure-Go
// modernc.org/sqlite driver so toncon stays a single static binary with no cgo. The schema comes from SQL files
// embedded in the binary and applied at Open.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"toncon/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// maxConns bounds the pool. WAL lets readers run alongside the one writer, so a few connections help reads; writers
// queue on SQLite's lock (busy_timeout) whatever the pool size, so more would only cost memory.
const maxConns = 8

// busyTimeout is how long a statement waits for another connection's write lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is a store.Store backed by one SQLite file. It is safe for concurrent use.
type DB struct {
	db        *sql.DB
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the SQLite database at path and brings its schema up to date. The folder holding
// path must exist. A database written by a newer toncon, with migrations this binary does not know, is refused.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, migrationFiles)
}

// open is Open with the migrations taken from fsys, so tests can feed broken or extra migrations.
func open(ctx context.Context, path string, fsys fs.FS) (*DB, error) {
	migrations, err := loadMigrations(fsys)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	db.SetMaxOpenConns(maxConns)
	// Keep idle connections: each new one re-runs the connection pragmas.
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	if err := migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	return &DB{db: db}, nil
}

// dsn builds the driver's connection string. Pragmas are per connection, so they go in the DSN, which the driver
// applies to every connection the pool opens:
//   - WAL: readers do not block the writer or each other;
//   - synchronous=NORMAL: the usual WAL pairing; a power cut can lose the last commits but never corrupts the file;
//   - foreign_keys: SQLite leaves them off unless asked, per connection;
//   - _txlock=immediate: transactions take the write lock at BEGIN, so a read-then-write transaction waits its turn
//     under busy_timeout instead of failing with SQLITE_BUSY when it tries to upgrade.
//
// The path is URI-escaped so names containing '?' or '#' still work.
func dsn(abs string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Close checkpoints the WAL into the main file and closes the pool, so the data folder holds just the database file
// (easy to copy for a backup). Calling it again returns the first result.
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if _, err := d.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
		if err := d.db.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			d.closeErr = fmt.Errorf("close database: %w", err)
		}
	})
	return d.closeErr
}

type migration struct {
	version int
	name    string // file name, recorded so a refusal can say which migration is unknown
	sql     string
}

// loadMigrations reads migrations/NNNN_name.sql from fsys in version order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, base, v)
		}
		seen[v] = base
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the migrations the database has not recorded, each in its own transaction with its record, so a
// failed migration leaves the database at the previous version rather than half-changed. Several processes opening
// the same file at once are safe: each transaction takes the write lock and re-checks before applying.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if err := refuseUnknown(ctx, db, ms); err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, db, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// refuseUnknown fails when the database records a migration this binary does not have: it was written by a newer
// toncon, and running older code against a newer schema can silently lose data.
func refuseUnknown(ctx context.Context, db *sql.DB, ms []migration) error {
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	rows, err := db.QueryContext(ctx, "SELECT version, name FROM schema_migrations ORDER BY version")
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if !known[v] {
			newest := 0
			if len(ms) > 0 {
				newest = ms[len(ms)-1].version
			}
			return fmt.Errorf("database has schema migration %d (%s) but this toncon only knows up to %d: "+
				"it was written by a newer toncon; run that version, or restore a backup taken before the upgrade",
				v, name, newest)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).
		Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// constraintCode returns the extended SQLite result code when err is a constraint violation, else 0.
func constraintCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return se.Code()
	}
	return 0
}

// classify maps constraint violations onto the store's sentinel errors, so callers never see driver errors for
// conditions the interface names.
func classify(err error) error {
	switch constraintCode(err) {
	case 0:
		return err
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return fmt.Errorf("%w: %v", store.ErrInvalid, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		// The input names a row that does not exist (a hub's creator account, say).
		return fmt.Errorf("%w: it refers to something that does not exist: %v", store.ErrInvalid, err)
	}
	return err
}

// rowScanner is what the scan functions read from: a *sql.Row or *sql.Rows.
type rowScanner = interface{ Scan(...any) error }

// collect reads every row of a query with scan and closes them. No rows is an empty, non-nil slice, so list
// answers encode as [] rather than null.
func collect[T any](rows *sql.Rows, err error, scan func(rowScanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// found turns a query's "no row" into store.ErrNotFound and leaves other errors as they are.
func found(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
