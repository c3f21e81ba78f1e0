package pausable

import (
	"context"

	"toncon/internal/store"
)

// The store.RoomObjects, store.Avatars and store.Scenes methods.

type pinResult struct {
	prev     store.RoomObject
	replaced bool
}

func (s *Store) PinObject(ctx context.Context, o store.RoomObject) (store.RoomObject, bool, error) {
	r, err := with(s, ctx, func(in store.Store) (pinResult, error) {
		prev, replaced, err := in.PinObject(ctx, o)
		return pinResult{prev, replaced}, err
	})
	return r.prev, r.replaced, err
}

func (s *Store) UnpinObject(ctx context.Context, hub store.HubSID, objectID string) (store.RoomObject, error) {
	return with(s, ctx, func(in store.Store) (store.RoomObject, error) { return in.UnpinObject(ctx, hub, objectID) })
}

func (s *Store) RoomObjects(ctx context.Context, hub store.HubSID) ([]store.RoomObject, error) {
	return with(s, ctx, func(in store.Store) ([]store.RoomObject, error) { return in.RoomObjects(ctx, hub) })
}

func (s *Store) CreateAvatar(ctx context.Context, a store.Avatar) (store.Avatar, error) {
	return with(s, ctx, func(in store.Store) (store.Avatar, error) { return in.CreateAvatar(ctx, a) })
}

func (s *Store) GetAvatar(ctx context.Context, sid store.AvatarSID) (store.Avatar, error) {
	return with(s, ctx, func(in store.Store) (store.Avatar, error) { return in.GetAvatar(ctx, sid) })
}

func (s *Store) ListAvatars(ctx context.Context, account store.AccountID) ([]store.Avatar, error) {
	return with(s, ctx, func(in store.Store) ([]store.Avatar, error) { return in.ListAvatars(ctx, account) })
}

func (s *Store) UpdateAvatar(ctx context.Context, sid store.AvatarSID, u store.AvatarUpdate) (store.Avatar, store.Avatar, error) {
	r, err := with(s, ctx, func(in store.Store) ([2]store.Avatar, error) {
		before, after, err := in.UpdateAvatar(ctx, sid, u)
		return [2]store.Avatar{before, after}, err
	})
	return r[0], r[1], err
}

func (s *Store) DeleteAvatar(ctx context.Context, sid store.AvatarSID) (store.Avatar, error) {
	return with(s, ctx, func(in store.Store) (store.Avatar, error) { return in.DeleteAvatar(ctx, sid) })
}

func (s *Store) CreateScene(ctx context.Context, sc store.Scene) (store.Scene, error) {
	return with(s, ctx, func(in store.Store) (store.Scene, error) { return in.CreateScene(ctx, sc) })
}

func (s *Store) GetScene(ctx context.Context, sid store.SceneSID) (store.Scene, error) {
	return with(s, ctx, func(in store.Store) (store.Scene, error) { return in.GetScene(ctx, sid) })
}

func (s *Store) ListScenes(ctx context.Context) ([]store.Scene, error) {
	return with(s, ctx, func(in store.Store) ([]store.Scene, error) { return in.ListScenes(ctx) })
}

func (s *Store) UpdateScene(ctx context.Context, sid store.SceneSID, u store.SceneUpdate) (store.Scene, store.Scene, error) {
	r, err := with(s, ctx, func(in store.Store) ([2]store.Scene, error) {
		before, after, err := in.UpdateScene(ctx, sid, u)
		return [2]store.Scene{before, after}, err
	})
	return r[0], r[1], err
}
