package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"toncon/internal/store"
)

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// AddUsage implements store.Usage with one upsert, so concurrent adders never lose each other's seconds.
func (d *DB) AddUsage(ctx context.Context, month string, userSeconds, serverSeconds float64) error {
	if !monthPattern.MatchString(month) || userSeconds < 0 || serverSeconds < 0 {
		return fmt.Errorf("add usage %q: %w: month must be YYYY-MM and seconds not negative", month, store.ErrInvalid)
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO usage_months (month, user_seconds, server_seconds) VALUES (?, ?, ?)
		ON CONFLICT (month) DO UPDATE SET user_seconds = user_seconds + excluded.user_seconds,
		server_seconds = server_seconds + excluded.server_seconds`, month, userSeconds, serverSeconds)
	if err != nil {
		return fmt.Errorf("add usage %s: %w", month, err)
	}
	return nil
}

// MonthUsage implements store.Usage.
func (d *DB) MonthUsage(ctx context.Context, month string) (store.UsageMonth, error) {
	u := store.UsageMonth{Month: month}
	err := d.db.QueryRowContext(ctx, `SELECT user_seconds, server_seconds FROM usage_months WHERE month = ?`, month).
		Scan(&u.UserSeconds, &u.ServerSeconds)
	if errors.Is(err, sql.ErrNoRows) {
		return u, nil
	}
	if err != nil {
		return u, fmt.Errorf("read usage %s: %w", month, err)
	}
	return u, nil
}
