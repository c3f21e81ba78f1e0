package pausable

import (
	"context"
	"time"

	"toncon/internal/store"
)

func (s *Store) CreateFile(ctx context.Context, f store.File) (store.File, error) {
	return with(s, ctx, func(in store.Store) (store.File, error) { return in.CreateFile(ctx, f) })
}

func (s *Store) GetFile(ctx context.Context, id store.FileID) (store.File, error) {
	return with(s, ctx, func(in store.Store) (store.File, error) { return in.GetFile(ctx, id) })
}

func (s *Store) AccountFiles(ctx context.Context, a store.AccountID) ([]store.File, error) {
	return with(s, ctx, func(in store.Store) ([]store.File, error) { return in.AccountFiles(ctx, a) })
}

func (s *Store) AddFileRef(ctx context.Context, id store.FileID, ref string, now time.Time) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) { return none{}, in.AddFileRef(ctx, id, ref, now) })
	return err
}

func (s *Store) RemoveFileRef(ctx context.Context, id store.FileID, ref string, expiresAt time.Time) (int, error) {
	return with(s, ctx, func(in store.Store) (int, error) { return in.RemoveFileRef(ctx, id, ref, expiresAt) })
}

func (s *Store) FileRefs(ctx context.Context, id store.FileID) ([]string, error) {
	return with(s, ctx, func(in store.Store) ([]string, error) { return in.FileRefs(ctx, id) })
}

func (s *Store) DeleteExpiredFiles(ctx context.Context, now time.Time, limit int) ([]store.File, error) {
	return with(s, ctx, func(in store.Store) ([]store.File, error) { return in.DeleteExpiredFiles(ctx, now, limit) })
}

func (s *Store) DeleteFile(ctx context.Context, id store.FileID) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) { return none{}, in.DeleteFile(ctx, id) })
	return err
}

func (s *Store) BlobInUse(ctx context.Context, sha256 string) (bool, error) {
	return with(s, ctx, func(in store.Store) (bool, error) { return in.BlobInUse(ctx, sha256) })
}
