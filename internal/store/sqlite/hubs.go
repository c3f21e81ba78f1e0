package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"toncon/internal/store"
)

const hubColumns = `id, hub_sid, slug, name, description, entry_mode, room_size, member_permissions, scene_ref,
	creator_assignment_token, created_at, last_active_at, created_by_account_id`

func scanHub(row rowScanner) (store.Hub, error) {
	var h store.Hub
	var created, lastActive int64
	var perms int64
	var createdBy sql.NullInt64
	if err := row.Scan(&h.ID, &h.SID, &h.Slug, &h.Name, &h.Description, &h.EntryMode, &h.RoomSize, &perms,
		&h.SceneRef, &h.CreatorAssignmentToken, &created, &lastActive, &createdBy); err != nil {
		return store.Hub{}, err
	}
	h.CreatedBy = store.AccountID(createdBy.Int64) // NULL reads as 0, nobody
	h.MemberPermissions = store.MemberPermissions(perms)
	h.CreatedAt = time.UnixMilli(created).UTC()
	h.LastActiveAt = time.UnixMilli(lastActive).UTC()
	return h, nil
}

// CreateHub implements store.Hubs.
func (d *DB) CreateHub(ctx context.Context, h store.Hub) (store.Hub, error) {
	h, err := store.PrepareHub(h, time.Now())
	if err != nil {
		return store.Hub{}, fmt.Errorf("create hub: %w", err)
	}
	var id any // NULL lets SQLite assign the next id
	if h.ID != 0 {
		id = h.ID
	}
	err = d.db.QueryRowContext(ctx, `INSERT INTO hubs (`+hubColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id, string(h.SID), h.Slug, h.Name, h.Description, string(h.EntryMode), h.RoomSize,
		int64(h.MemberPermissions), h.SceneRef, h.CreatorAssignmentToken,
		h.CreatedAt.UnixMilli(), h.LastActiveAt.UnixMilli(), accountOrNull(h.CreatedBy)).Scan(&h.ID)
	if err != nil {
		return store.Hub{}, fmt.Errorf("create hub %s: %w", h.SID, classify(err))
	}
	return h, nil
}

// GetHub implements store.Hubs.
func (d *DB) GetHub(ctx context.Context, sid store.HubSID) (store.Hub, error) {
	h, err := scanHub(d.db.QueryRowContext(ctx, `SELECT `+hubColumns+` FROM hubs WHERE hub_sid = ?`, string(sid)))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Hub{}, fmt.Errorf("get hub %s: %w", sid, err)
	}
	return h, nil
}

// opt turns a nil pointer into SQL NULL (so COALESCE keeps the column) and a set one into its value.
func opt[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// UpdateHub implements store.Hubs. One UPDATE ... RETURNING statement, so the change and the row returned are the
// same atomic snapshot without an explicit transaction.
func (d *DB) UpdateHub(ctx context.Context, sid store.HubSID, u store.HubUpdate) (store.Hub, error) {
	u, err := store.PrepareUpdate(u)
	if err != nil {
		return store.Hub{}, fmt.Errorf("update hub %s: %w", sid, err)
	}
	var entryMode, perms any
	setCreatedBy, createdBy := false, any(nil)
	if u.CreatedBy != nil {
		setCreatedBy, createdBy = true, accountOrNull(*u.CreatedBy)
	}
	if u.EntryMode != nil {
		entryMode = string(*u.EntryMode)
	}
	if u.MemberPermissions != nil {
		perms = int64(*u.MemberPermissions)
	}
	h, err := scanHub(d.db.QueryRowContext(ctx, `UPDATE hubs SET
			name                     = coalesce(?, name),
			slug                     = coalesce(?, slug),
			description              = coalesce(?, description),
			entry_mode               = coalesce(?, entry_mode),
			room_size                = coalesce(?, room_size),
			member_permissions       = coalesce(?, member_permissions),
			scene_ref                = coalesce(?, scene_ref),
			creator_assignment_token = coalesce(?, creator_assignment_token),
			created_by_account_id    = CASE WHEN ? THEN ? ELSE created_by_account_id END
		WHERE hub_sid = ? RETURNING `+hubColumns,
		opt(u.Name), opt(u.Slug), opt(u.Description), entryMode, opt(u.RoomSize), perms,
		opt(u.SceneRef), opt(u.CreatorAssignmentToken), setCreatedBy, createdBy, string(sid)))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Hub{}, fmt.Errorf("update hub %s: %w", sid, classify(err))
	}
	return h, nil
}

// accountOrNull stores "no account" (0) as NULL, which the foreign key to accounts allows.
func accountOrNull(a store.AccountID) any {
	if a == 0 {
		return nil
	}
	return int64(a)
}

// TouchHub implements store.Hubs.
func (d *DB) TouchHub(ctx context.Context, sid store.HubSID, at time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE hubs SET last_active_at = ? WHERE hub_sid = ?`,
		at.UnixMilli(), string(sid))
	if err != nil {
		return fmt.Errorf("touch hub %s: %w", sid, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("touch hub %s: %w", sid, err)
	}
	if n == 0 {
		return fmt.Errorf("touch hub %s: %w", sid, store.ErrNotFound)
	}
	return nil
}
