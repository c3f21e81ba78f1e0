package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"toncon/internal/store"
)

// Pinned room objects, avatars and scenes (migration 0006).

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func scanRoomObject(row rowScanner, hub store.HubSID) (store.RoomObject, error) {
	o := store.RoomObject{HubSID: hub}
	var node string
	var account sql.NullInt64
	var file sql.NullString
	var updated int64
	if err := row.Scan(&o.ObjectID, &node, &account, &file, &updated); err != nil {
		return store.RoomObject{}, err
	}
	o.GLTFNode, o.AccountID, o.FileID = json.RawMessage(node), store.AccountID(account.Int64), store.FileID(file.String)
	o.UpdatedAt = time.UnixMilli(updated).UTC()
	return o, nil
}

const roomObjectColumns = `object_id, gltf_node, account_id, file_id, updated_at`

// PinObject implements store.RoomObjects.
func (d *DB) PinObject(ctx context.Context, o store.RoomObject) (store.RoomObject, bool, error) {
	if err := o.Validate(); err != nil {
		return store.RoomObject{}, false, fmt.Errorf("pin %s in hub %s: %w", o.ObjectID, o.HubSID, err)
	}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = time.Now()
	}
	var prev store.RoomObject
	replaced := false
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		hub, err := hubID(ctx, tx, o.HubSID)
		if err != nil {
			return err
		}
		prev, err = scanRoomObject(tx.QueryRowContext(ctx, `SELECT `+roomObjectColumns+` FROM room_objects
			WHERE hub_id = ? AND object_id = ?`, hub, o.ObjectID), o.HubSID)
		switch {
		case err == nil:
			replaced = true
		case !errors.Is(err, sql.ErrNoRows):
			return err
		default:
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM room_objects WHERE hub_id = ?`, hub).Scan(&n); err != nil {
				return err
			}
			if n >= store.MaxPinnedPerRoom {
				return fmt.Errorf("%w: a room holds at most %d pinned objects; unpin one first", store.ErrInvalid, store.MaxPinnedPerRoom)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO room_objects (hub_id, object_id, gltf_node, account_id, file_id,
			updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (hub_id, object_id) DO UPDATE SET gltf_node = excluded.gltf_node,
				account_id = excluded.account_id, file_id = coalesce(excluded.file_id, room_objects.file_id),
				updated_at = excluded.updated_at`,
			hub, o.ObjectID, string(o.GLTFNode), accountOrNull(o.AccountID), nullString(string(o.FileID)),
			o.UpdatedAt.UnixMilli())
		return classify(err)
	})
	if err != nil {
		return store.RoomObject{}, false, fmt.Errorf("pin %s in hub %s: %w", o.ObjectID, o.HubSID, err)
	}
	if !replaced {
		prev = store.RoomObject{}
	}
	return prev, replaced, nil
}

// UnpinObject implements store.RoomObjects.
func (d *DB) UnpinObject(ctx context.Context, sid store.HubSID, objectID string) (store.RoomObject, error) {
	var o store.RoomObject
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		hub, err := hubID(ctx, tx, sid)
		if err != nil {
			return err
		}
		o, err = scanRoomObject(tx.QueryRowContext(ctx, `DELETE FROM room_objects WHERE hub_id = ? AND object_id = ?
			RETURNING `+roomObjectColumns, hub, objectID), sid)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("object %q: %w", objectID, store.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return store.RoomObject{}, fmt.Errorf("unpin from hub %s: %w", sid, err)
	}
	return o, nil
}

// RoomObjects implements store.RoomObjects.
func (d *DB) RoomObjects(ctx context.Context, sid store.HubSID) ([]store.RoomObject, error) {
	hub, err := hubID(ctx, d.db, sid)
	if err != nil {
		return nil, fmt.Errorf("list pinned objects: %w", err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+roomObjectColumns+` FROM room_objects WHERE hub_id = ?
		ORDER BY id`, hub)
	objects, err := collect(rows, err, func(r rowScanner) (store.RoomObject, error) { return scanRoomObject(r, sid) })
	if err != nil {
		return nil, fmt.Errorf("list pinned objects of hub %s: %w", sid, err)
	}
	return objects, nil
}

const avatarColumns = `avatar_sid, name, file_id, account_id, featured, created_at, updated_at`

func scanAvatar(row rowScanner) (store.Avatar, error) {
	var a store.Avatar
	var account sql.NullInt64
	var created, updated int64
	if err := row.Scan(&a.SID, &a.Name, &a.FileID, &account, &a.Featured, &created, &updated); err != nil {
		return store.Avatar{}, err
	}
	a.AccountID = store.AccountID(account.Int64)
	a.CreatedAt, a.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return a, nil
}

// CreateAvatar implements store.Avatars.
func (d *DB) CreateAvatar(ctx context.Context, a store.Avatar) (store.Avatar, error) {
	a, err := store.PrepareAvatar(a, time.Now())
	if err != nil {
		return store.Avatar{}, fmt.Errorf("create avatar: %w", err)
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO avatars (avatar_sid, name, file_id, account_id, featured, created_at,
		updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, string(a.SID), a.Name, a.FileID, accountOrNull(a.AccountID),
		a.Featured, a.CreatedAt.UnixMilli(), a.UpdatedAt.UnixMilli())
	if err != nil {
		return store.Avatar{}, fmt.Errorf("create avatar %s: %w", a.SID, classify(err))
	}
	return a, nil
}

// GetAvatar implements store.Avatars.
func (d *DB) GetAvatar(ctx context.Context, sid store.AvatarSID) (store.Avatar, error) {
	a, err := scanAvatar(d.db.QueryRowContext(ctx, `SELECT `+avatarColumns+` FROM avatars WHERE avatar_sid = ?`,
		string(sid)))
	if err != nil {
		return store.Avatar{}, fmt.Errorf("get avatar %s: %w", sid, found(err))
	}
	return a, nil
}

// ListAvatars implements store.Avatars.
func (d *DB) ListAvatars(ctx context.Context, account store.AccountID) ([]store.Avatar, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+avatarColumns+` FROM avatars
		WHERE featured = 1 OR (? <> 0 AND account_id = ?) ORDER BY created_at DESC, id DESC LIMIT ?`,
		int64(account), int64(account), store.MaxListRows)
	out, err := collect(rows, err, scanAvatar)
	if err != nil {
		return nil, fmt.Errorf("list avatars: %w", err)
	}
	return out, nil
}

// UpdateAvatar implements store.Avatars.
func (d *DB) UpdateAvatar(ctx context.Context, sid store.AvatarSID, u store.AvatarUpdate) (store.Avatar, store.Avatar, error) {
	if err := u.Validate(); err != nil {
		return store.Avatar{}, store.Avatar{}, fmt.Errorf("update avatar %s: %w", sid, err)
	}
	var before, after store.Avatar
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanAvatar(tx.QueryRowContext(ctx, `SELECT `+avatarColumns+` FROM avatars WHERE avatar_sid = ?`,
			string(sid)))
		if err != nil {
			return found(err)
		}
		after, err = scanAvatar(tx.QueryRowContext(ctx, `UPDATE avatars SET
			name = coalesce(?, name), file_id = coalesce(?, file_id), featured = coalesce(?, featured),
			updated_at = ? WHERE avatar_sid = ? RETURNING `+avatarColumns,
			opt(u.Name), opt(u.FileID), opt(u.Featured), time.Now().UnixMilli(), string(sid)))
		return classify(err)
	})
	if err != nil {
		return store.Avatar{}, store.Avatar{}, fmt.Errorf("update avatar %s: %w", sid, err)
	}
	return before, after, nil
}

// DeleteAvatar implements store.Avatars.
func (d *DB) DeleteAvatar(ctx context.Context, sid store.AvatarSID) (store.Avatar, error) {
	a, err := scanAvatar(d.db.QueryRowContext(ctx, `DELETE FROM avatars WHERE avatar_sid = ? RETURNING `+avatarColumns,
		string(sid)))
	if err != nil {
		return store.Avatar{}, fmt.Errorf("delete avatar %s: %w", sid, found(err))
	}
	return a, nil
}

const sceneColumns = `scene_sid, name, description, attributions, allow_remixing, file_id, account_id, created_at,
	updated_at`

func scanScene(row rowScanner) (store.Scene, error) {
	var s store.Scene
	var account sql.NullInt64
	var created, updated int64
	if err := row.Scan(&s.SID, &s.Name, &s.Description, &s.Attributions, &s.AllowRemixing, &s.FileID, &account,
		&created, &updated); err != nil {
		return store.Scene{}, err
	}
	s.AccountID = store.AccountID(account.Int64)
	s.CreatedAt, s.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return s, nil
}

// CreateScene implements store.Scenes.
func (d *DB) CreateScene(ctx context.Context, s store.Scene) (store.Scene, error) {
	s, err := store.PrepareScene(s, time.Now())
	if err != nil {
		return store.Scene{}, fmt.Errorf("create scene: %w", err)
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO scenes (scene_sid, name, description, attributions, allow_remixing,
		file_id, account_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, string(s.SID), s.Name,
		s.Description, s.Attributions, s.AllowRemixing, s.FileID, accountOrNull(s.AccountID), s.CreatedAt.UnixMilli(),
		s.UpdatedAt.UnixMilli())
	if err != nil {
		return store.Scene{}, fmt.Errorf("create scene %s: %w", s.SID, classify(err))
	}
	return s, nil
}

// GetScene implements store.Scenes.
func (d *DB) GetScene(ctx context.Context, sid store.SceneSID) (store.Scene, error) {
	s, err := scanScene(d.db.QueryRowContext(ctx, `SELECT `+sceneColumns+` FROM scenes WHERE scene_sid = ?`,
		string(sid)))
	if err != nil {
		return store.Scene{}, fmt.Errorf("get scene %s: %w", sid, found(err))
	}
	return s, nil
}

// ListScenes implements store.Scenes.
func (d *DB) ListScenes(ctx context.Context) ([]store.Scene, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sceneColumns+` FROM scenes ORDER BY created_at DESC, id DESC
		LIMIT ?`, store.MaxListRows)
	out, err := collect(rows, err, scanScene)
	if err != nil {
		return nil, fmt.Errorf("list scenes: %w", err)
	}
	return out, nil
}

// UpdateScene implements store.Scenes.
func (d *DB) UpdateScene(ctx context.Context, sid store.SceneSID, u store.SceneUpdate) (store.Scene, store.Scene, error) {
	if err := u.Validate(); err != nil {
		return store.Scene{}, store.Scene{}, fmt.Errorf("update scene %s: %w", sid, err)
	}
	var before, after store.Scene
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		before, err = scanScene(tx.QueryRowContext(ctx, `SELECT `+sceneColumns+` FROM scenes WHERE scene_sid = ?`,
			string(sid)))
		if err != nil {
			return found(err)
		}
		after, err = scanScene(tx.QueryRowContext(ctx, `UPDATE scenes SET
			name = coalesce(?, name), description = coalesce(?, description),
			attributions = coalesce(?, attributions), allow_remixing = coalesce(?, allow_remixing),
			file_id = coalesce(?, file_id), updated_at = ? WHERE scene_sid = ? RETURNING `+sceneColumns,
			opt(u.Name), opt(u.Description), opt(u.Attributions), opt(u.AllowRemixing), opt(u.FileID),
			time.Now().UnixMilli(), string(sid)))
		return classify(err)
	})
	if err != nil {
		return store.Scene{}, store.Scene{}, fmt.Errorf("update scene %s: %w", sid, err)
	}
	return before, after, nil
}
