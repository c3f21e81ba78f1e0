package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"toncon/internal/store"
)

// querier is what both *sql.DB and *sql.Tx offer, so settings can be read inside or outside a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// SiteSettings implements store.Settings.
func (d *DB) SiteSettings(ctx context.Context) (store.SiteSettings, error) {
	s, err := readSettings(ctx, d.db)
	if err != nil {
		return store.SiteSettings{}, fmt.Errorf("read site settings: %w", err)
	}
	return s, nil
}

// SetSiteSetting implements store.Settings. The read, check and write share one transaction, which takes the write
// lock at BEGIN (_txlock=immediate), so two operators raising default_room_size and lowering max_room_size at the
// same moment cannot end up with default > max.
func (d *DB) SetSiteSetting(ctx context.Context, key, value string) error {
	if err := d.setSiteSetting(ctx, key, value); err != nil {
		return fmt.Errorf("set site setting %s: %w", key, err)
	}
	return nil
}

func (d *DB) setSiteSetting(ctx context.Context, key, value string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cur, err := readSettings(ctx, tx)
	if err != nil {
		return err
	}
	_, canonical, err := cur.With(key, value)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO site_settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, canonical); err != nil {
		return err
	}
	return tx.Commit()
}

func readSettings(ctx context.Context, q querier) (store.SiteSettings, error) {
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM site_settings")
	if err != nil {
		return store.SiteSettings{}, err
	}
	defer rows.Close()
	stored := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return store.SiteSettings{}, err
		}
		stored[k] = v
	}
	if err := rows.Err(); err != nil {
		return store.SiteSettings{}, err
	}
	return store.SiteSettingsFrom(stored)
}
