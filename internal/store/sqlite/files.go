package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"toncon/internal/store"
)

const fileColumns = `id, sha256, content_type, size, name, access_token, account_id, created_at, expires_at`

func scanFile(row rowScanner) (store.File, error) {
	var f store.File
	var account sql.NullInt64
	var created int64
	var expires sql.NullInt64
	if err := row.Scan(&f.ID, &f.SHA256, &f.ContentType, &f.Size, &f.Name, &f.AccessToken, &account, &created,
		&expires); err != nil {
		return store.File{}, err
	}
	f.Account = store.AccountID(account.Int64)
	f.CreatedAt = time.UnixMilli(created).UTC()
	if expires.Valid {
		f.ExpiresAt = time.UnixMilli(expires.Int64).UTC()
	}
	return f, nil
}

// CreateFile implements store.Files.
func (d *DB) CreateFile(ctx context.Context, f store.File) (store.File, error) {
	if err := f.Validate(); err != nil {
		return store.File{}, fmt.Errorf("create file: %w", err)
	}
	if f.ExpiresAt.IsZero() {
		return store.File{}, fmt.Errorf("create file: %w: a new file needs an expiry", store.ErrInvalid)
	}
	if f.CreatedAt.IsZero() {
		f.CreatedAt = time.Now()
	}
	got, err := scanFile(d.db.QueryRowContext(ctx, `INSERT INTO files (`+fileColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+fileColumns,
		string(f.ID), f.SHA256, f.ContentType, f.Size, f.Name, f.AccessToken, accountOrNull(f.Account),
		f.CreatedAt.UnixMilli(), f.ExpiresAt.UnixMilli()))
	if err != nil {
		return store.File{}, fmt.Errorf("create file %s: %w", f.ID, classify(err))
	}
	return got, nil
}

// GetFile implements store.Files.
func (d *DB) GetFile(ctx context.Context, id store.FileID) (store.File, error) {
	f, err := scanFile(d.db.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM files WHERE id = ?`, string(id)))
	if err != nil {
		return store.File{}, fmt.Errorf("get file %s: %w", id, found(err))
	}
	return f, nil
}

// AccountFiles implements store.Files.
func (d *DB) AccountFiles(ctx context.Context, a store.AccountID) ([]store.File, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+fileColumns+` FROM files WHERE account_id = ?
		ORDER BY created_at DESC, id DESC`, int64(a))
	files, err := collect(rows, err, scanFile)
	if err != nil {
		return nil, fmt.Errorf("list files of account %d: %w", a, err)
	}
	return files, nil
}

// AddFileRef implements store.Files.
func (d *DB) AddFileRef(ctx context.Context, id store.FileID, ref string, now time.Time) error {
	if err := store.ValidFileRef(ref); err != nil {
		return fmt.Errorf("keep file %s: %w", id, err)
	}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		// Only a file that has not expired may be kept: the sweeper may be about to delete an expired one.
		res, err := tx.ExecContext(ctx, `UPDATE files SET expires_at = NULL
			WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)`, string(id), now.UnixMilli())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO file_refs (file_id, ref, created_at) VALUES (?, ?, ?)
			ON CONFLICT (file_id, ref) DO NOTHING`, string(id), ref, now.UnixMilli())
		return classify(err)
	})
	if err != nil {
		return fmt.Errorf("keep file %s for %s: %w", id, ref, err)
	}
	return nil
}

// RemoveFileRef implements store.Files.
func (d *DB) RemoveFileRef(ctx context.Context, id store.FileID, ref string, expiresAt time.Time) (int, error) {
	var remaining int
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE id = ?)`, string(id)).
			Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM file_refs WHERE file_id = ? AND ref = ?`, string(id), ref)
		if err != nil {
			return err
		}
		removed, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM file_refs WHERE file_id = ?`, string(id)).
			Scan(&remaining); err != nil {
			return err
		}
		if removed > 0 && remaining == 0 {
			_, err = tx.ExecContext(ctx, `UPDATE files SET expires_at = ? WHERE id = ?`,
				expiresAt.UnixMilli(), string(id))
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release file %s from %s: %w", id, ref, err)
	}
	return remaining, nil
}

// FileRefs implements store.Files.
func (d *DB) FileRefs(ctx context.Context, id store.FileID) ([]string, error) {
	refs := []string{}
	err := func() error {
		var exists bool
		if err := d.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE id = ?)`, string(id)).
			Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return store.ErrNotFound
		}
		rows, err := d.db.QueryContext(ctx, `SELECT ref FROM file_refs WHERE file_id = ? ORDER BY ref`, string(id))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				return err
			}
			refs = append(refs, r)
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, fmt.Errorf("list refs of file %s: %w", id, err)
	}
	return refs, nil
}

// DeleteExpiredFiles implements store.Files.
func (d *DB) DeleteExpiredFiles(ctx context.Context, now time.Time, limit int) ([]store.File, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("delete expired files: %w: limit must be positive", store.ErrInvalid)
	}
	var files []store.File
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM files WHERE id IN (SELECT id FROM files
			WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING `+fileColumns,
			now.UnixMilli(), limit)
		files, err = collect(rows, err, scanFile)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete expired files: %w", err)
	}
	return files, nil
}

// DeleteFile implements store.Files.
func (d *DB) DeleteFile(ctx context.Context, id store.FileID) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM files WHERE id = ?`, string(id))
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("delete file %s: %w", id, err)
	}
	return nil
}

// BlobInUse implements store.Files.
func (d *DB) BlobInUse(ctx context.Context, sha256 string) (bool, error) {
	var used bool
	if err := d.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE sha256 = ?)`, sha256).
		Scan(&used); err != nil {
		return false, fmt.Errorf("is blob %s in use: %w", sha256, err)
	}
	return used, nil
}
