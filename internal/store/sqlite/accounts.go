package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"toncon/internal/store"
)

// inTx runs fn in a transaction and commits when it returns nil. The DSN's _txlock=immediate makes BEGIN take the
// write lock, so a transaction that reads and then writes (is there an admin yet? then insert) cannot interleave
// with another one doing the same.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// rowQuerier is what *sql.DB and *sql.Tx share for single-row reads.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const accountColumns = `id, email, is_admin, state, min_token_issued_at, created_at`

func scanAccount(row rowScanner) (store.Account, error) {
	var a store.Account
	var minIssued, created int64
	if err := row.Scan(&a.ID, &a.Email, &a.IsAdmin, &a.State, &minIssued, &created); err != nil {
		return store.Account{}, err
	}
	if minIssued != 0 {
		a.MinTokenIssuedAt = time.UnixMilli(minIssued).UTC()
	}
	a.CreatedAt = time.UnixMilli(created).UTC()
	return a, nil
}

func accountByEmail(ctx context.Context, q rowQuerier, email string) (store.Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE email = ?`, email))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return a, err
}

// FindOrCreateAccount implements store.Accounts.
func (d *DB) FindOrCreateAccount(ctx context.Context, email string) (a store.Account, created, madeAdmin bool, err error) {
	norm, err := store.NormalizeEmail(email)
	if err != nil {
		return store.Account{}, false, false, fmt.Errorf("find or create account: %w", err)
	}
	// Most calls find an existing account: look without taking the write lock first.
	if a, err := accountByEmail(ctx, d.db, norm); err == nil {
		return a, false, false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Account{}, false, false, fmt.Errorf("find account %s: %w", norm, err)
	}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		// Someone may have created it since the read above; the write lock is ours now, so this answer holds.
		found, err := accountByEmail(ctx, tx, norm)
		if err == nil {
			a = found
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var adminExists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE is_admin = 1)`).
			Scan(&adminExists); err != nil {
			return err
		}
		a, err = scanAccount(tx.QueryRowContext(ctx, `INSERT INTO accounts (email, is_admin, state, created_at)
			VALUES (?, ?, 'enabled', ?) RETURNING `+accountColumns,
			norm, !adminExists, time.Now().UnixMilli()))
		if err != nil {
			return classify(err)
		}
		created, madeAdmin = true, !adminExists
		return nil
	})
	if err != nil {
		return store.Account{}, false, false, fmt.Errorf("create account %s: %w", norm, err)
	}
	return a, created, madeAdmin, nil
}

// GetAccount implements store.Accounts.
func (d *DB) GetAccount(ctx context.Context, id store.AccountID) (store.Account, error) {
	a, err := scanAccount(d.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %d: %w", id, err)
	}
	return a, nil
}

// AccountByEmail implements store.Accounts.
func (d *DB) AccountByEmail(ctx context.Context, email string) (store.Account, error) {
	norm, err := store.NormalizeEmail(email)
	if err != nil {
		return store.Account{}, fmt.Errorf("get account: %w", err)
	}
	a, err := accountByEmail(ctx, d.db, norm)
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %s: %w", norm, err)
	}
	return a, nil
}

// UpdateAccount implements store.Accounts with one UPDATE ... RETURNING, so the change and the row returned are
// one atomic snapshot.
func (d *DB) UpdateAccount(ctx context.Context, id store.AccountID, u store.AccountUpdate) (store.Account, error) {
	var state, minIssued any
	if u.State != nil {
		if !u.State.Valid() {
			return store.Account{}, fmt.Errorf("update account %d: %w: state %q must be enabled or disabled",
				id, store.ErrInvalid, *u.State)
		}
		state = string(*u.State)
	}
	if u.MinTokenIssuedAt != nil && !u.MinTokenIssuedAt.IsZero() {
		minIssued = u.MinTokenIssuedAt.UnixMilli()
	}
	a, err := scanAccount(d.db.QueryRowContext(ctx, `UPDATE accounts SET
			is_admin            = coalesce(?, is_admin),
			state               = coalesce(?, state),
			min_token_issued_at = max(min_token_issued_at, coalesce(?, min_token_issued_at))
		WHERE id = ? RETURNING `+accountColumns,
		opt(u.IsAdmin), state, minIssued, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("update account %d: %w", id, classify(err))
	}
	return a, nil
}

// AdminCount implements store.Accounts.
func (d *DB) AdminCount(ctx context.Context) (int, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE is_admin = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// maxTokenHashLen bounds what SaveLoginToken accepts: a SHA-512 at most; callers store SHA-256 (32 bytes).
const maxTokenHashLen = 64

// SaveLoginToken implements store.LoginTokens.
func (d *DB) SaveLoginToken(ctx context.Context, tokenHash []byte, email string, expires time.Time) error {
	if len(tokenHash) == 0 || len(tokenHash) > maxTokenHashLen {
		return fmt.Errorf("save login token: %w: the token hash must be 1 to %d bytes, got %d",
			store.ErrInvalid, maxTokenHashLen, len(tokenHash))
	}
	norm, err := store.NormalizeEmail(email)
	if err != nil {
		return fmt.Errorf("save login token: %w", err)
	}
	if _, err := d.db.ExecContext(ctx, `INSERT INTO login_tokens (token_hash, email, expires_at) VALUES (?, ?, ?)`,
		tokenHash, norm, expires.UnixMilli()); err != nil {
		return fmt.Errorf("save login token for %s: %w", norm, classify(err))
	}
	return nil
}

// TakeLoginToken implements store.LoginTokens. The delete that returns the row is what makes a token single-use:
// of two takes racing for one token, only one gets the row.
func (d *DB) TakeLoginToken(ctx context.Context, tokenHash []byte, now time.Time) (string, error) {
	var email string
	var expires int64
	found := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM login_tokens WHERE token_hash = ? RETURNING email, expires_at`,
			tokenHash).Scan(&email, &expires)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// Sweep the tokens nobody used (Reticulum runs LoginToken.expire_stale from cron for this).
		_, err = tx.ExecContext(ctx, `DELETE FROM login_tokens WHERE expires_at <= ?`, now.UnixMilli())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("take login token: %w", err)
	}
	if !found {
		return "", fmt.Errorf("take login token: %w", store.ErrNotFound)
	}
	if expires <= now.UnixMilli() {
		return "", fmt.Errorf("take login token: expired at %s: %w",
			time.UnixMilli(expires).UTC().Format(time.RFC3339), store.ErrNotFound)
	}
	return email, nil
}
