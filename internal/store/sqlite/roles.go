package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"toncon/internal/store"
)

// hubID returns the internal id of the hub with this SID, or ErrNotFound.
func hubID(ctx context.Context, q rowQuerier, sid store.HubSID) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM hubs WHERE hub_sid = ?`, string(sid)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("hub %s: %w", sid, store.ErrNotFound)
	}
	return id, err
}

// AddHubOwner implements store.HubRoles.
func (d *DB) AddHubOwner(ctx context.Context, sid store.HubSID, a store.AccountID) error {
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		hub, err := hubID(ctx, tx, sid)
		if err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, int64(a)).
			Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("account %d: %w", a, store.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hub_role_memberships (hub_id, account_id, created_at)
			VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, hub, int64(a), time.Now().UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("add owner %d to hub %s: %w", a, sid, err)
	}
	return nil
}

// RemoveHubOwner implements store.HubRoles.
func (d *DB) RemoveHubOwner(ctx context.Context, sid store.HubSID, a store.AccountID) error {
	hub, err := hubID(ctx, d.db, sid)
	if err == nil {
		_, err = d.db.ExecContext(ctx, `DELETE FROM hub_role_memberships WHERE hub_id = ? AND account_id = ?`,
			hub, int64(a))
	}
	if err != nil {
		return fmt.Errorf("remove owner %d from hub %s: %w", a, sid, err)
	}
	return nil
}

// HubOwners implements store.HubRoles.
func (d *DB) HubOwners(ctx context.Context, sid store.HubSID) ([]store.AccountID, error) {
	hub, err := hubID(ctx, d.db, sid)
	if err != nil {
		return nil, fmt.Errorf("list owners: %w", err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT account_id FROM hub_role_memberships WHERE hub_id = ?
		ORDER BY account_id`, hub)
	if err != nil {
		return nil, fmt.Errorf("list owners of hub %s: %w", sid, err)
	}
	defer rows.Close()
	owners := []store.AccountID{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list owners of hub %s: %w", sid, err)
		}
		owners = append(owners, store.AccountID(id))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list owners of hub %s: %w", sid, err)
	}
	return owners, nil
}

// newInvite inserts a fresh active invite for hub; lock must be held (inside a transaction). Invite ids share the
// hub SID alphabet and length; a collision with an existing id (about 2^-41 per pair) is retried.
func newInvite(ctx context.Context, tx *sql.Tx, hub int64) (string, error) {
	for range 5 {
		id := string(store.NewSID())
		_, err := tx.ExecContext(ctx, `INSERT INTO hub_invites (hub_id, invite_sid, state, created_at)
			VALUES (?, ?, 'active', ?)`, hub, id, time.Now().UnixMilli())
		if err == nil {
			return id, nil
		}
		if !errors.Is(classify(err), store.ErrConflict) {
			return "", err
		}
	}
	return "", errors.New("could not find an unused invite id")
}

// HubInvite implements store.Invites.
func (d *DB) HubInvite(ctx context.Context, sid store.HubSID) (string, error) {
	var invite string
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		hub, err := hubID(ctx, tx, sid)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT invite_sid FROM hub_invites WHERE hub_id = ? AND state = 'active'`,
			hub).Scan(&invite)
		if errors.Is(err, sql.ErrNoRows) {
			invite, err = newInvite(ctx, tx, hub)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("invite for hub %s: %w", sid, err)
	}
	return invite, nil
}

// RevokeHubInvite implements store.Invites.
func (d *DB) RevokeHubInvite(ctx context.Context, sid store.HubSID, inviteID string) (string, error) {
	var next string
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		hub, err := hubID(ctx, tx, sid)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE hub_invites SET state = 'revoked'
			WHERE hub_id = ? AND invite_sid = ? AND state = 'active'`, hub, inviteID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("invite %q is not the hub's active invite: %w", inviteID, store.ErrNotFound)
		}
		next, err = newInvite(ctx, tx, hub)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("revoke invite of hub %s: %w", sid, err)
	}
	return next, nil
}

// ValidHubInvite implements store.Invites.
func (d *DB) ValidHubInvite(ctx context.Context, sid store.HubSID, inviteID string) (bool, error) {
	hub, err := hubID(ctx, d.db, sid)
	if err != nil {
		return false, fmt.Errorf("check invite: %w", err)
	}
	var ok bool
	if err := d.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM hub_invites
		WHERE hub_id = ? AND invite_sid = ? AND state = 'active')`, hub, inviteID).Scan(&ok); err != nil {
		return false, fmt.Errorf("check invite for hub %s: %w", sid, err)
	}
	return ok, nil
}
