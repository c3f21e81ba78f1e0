// Package pausable wraps a store so its database connections can be released while the server is idle and
// reopened by the next call: toncon's equivalent of Aurora's database pausing, which let Hubs Cloud stop paying
// for a database nobody used.
package pausable

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"toncon/internal/store"
)

// Opener opens the underlying store.
type Opener func(ctx context.Context) (store.Store, error)

// Store is a store.Store that opens its backend on first use and closes it on Pause.
type Store struct {
	open Opener

	mu     sync.RWMutex // guards inner and closed; held for reading during every call, so Pause waits for calls
	inner  store.Store
	closed bool

	pauses, resumes int // guarded by mu
}

// New returns a pausable store around an already open backend.
func New(inner store.Store, open Opener) *Store {
	return &Store{open: open, inner: inner}
}

var _ store.Store = (*Store)(nil)

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("store closed")

// with runs fn on an open backend, opening it first when paused.
func with[T any](s *Store, ctx context.Context, fn func(store.Store) (T, error)) (T, error) {
	s.mu.RLock()
	if s.inner != nil {
		defer s.mu.RUnlock()
		return fn(s.inner)
	}
	s.mu.RUnlock()
	s.mu.Lock()
	var zero T
	if s.closed {
		s.mu.Unlock()
		return zero, ErrClosed
	}
	if s.inner == nil {
		inner, err := s.open(ctx)
		if err != nil {
			s.mu.Unlock()
			return zero, fmt.Errorf("reopen the database after a pause: %w", err)
		}
		s.inner = inner
		s.resumes++
	}
	s.mu.Unlock()
	return with(s, ctx, fn) // take the read lock for the call itself
}

// Pause closes the backend if it is open; the next call reopens it. It waits for calls in progress.
func (s *Store) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inner == nil {
		return nil
	}
	err := s.inner.Close()
	s.inner = nil
	s.pauses++
	return err
}

// Paused reports whether the backend is closed right now.
func (s *Store) Paused() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.inner == nil && !s.closed
}

// Counts returns how often the store was paused and resumed.
func (s *Store) Counts() (pauses, resumes int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pauses, s.resumes
}

// Close closes the backend for good.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.inner == nil {
		return nil
	}
	err := s.inner.Close()
	s.inner = nil
	return err
}

type none struct{}

func (s *Store) CreateHub(ctx context.Context, h store.Hub) (store.Hub, error) {
	return with(s, ctx, func(in store.Store) (store.Hub, error) { return in.CreateHub(ctx, h) })
}

func (s *Store) GetHub(ctx context.Context, sid store.HubSID) (store.Hub, error) {
	return with(s, ctx, func(in store.Store) (store.Hub, error) { return in.GetHub(ctx, sid) })
}

func (s *Store) UpdateHub(ctx context.Context, sid store.HubSID, u store.HubUpdate) (store.Hub, error) {
	return with(s, ctx, func(in store.Store) (store.Hub, error) { return in.UpdateHub(ctx, sid, u) })
}

func (s *Store) TouchHub(ctx context.Context, sid store.HubSID, at time.Time) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) { return none{}, in.TouchHub(ctx, sid, at) })
	return err
}

func (s *Store) SiteSettings(ctx context.Context) (store.SiteSettings, error) {
	return with(s, ctx, func(in store.Store) (store.SiteSettings, error) { return in.SiteSettings(ctx) })
}

func (s *Store) SetSiteSetting(ctx context.Context, key, value string) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) { return none{}, in.SetSiteSetting(ctx, key, value) })
	return err
}

func (s *Store) AddUsage(ctx context.Context, month string, userSeconds, serverSeconds float64) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) {
		return none{}, in.AddUsage(ctx, month, userSeconds, serverSeconds)
	})
	return err
}

func (s *Store) MonthUsage(ctx context.Context, month string) (store.UsageMonth, error) {
	return with(s, ctx, func(in store.Store) (store.UsageMonth, error) { return in.MonthUsage(ctx, month) })
}

func (s *Store) FindOrCreateAccount(ctx context.Context, email string) (store.Account, bool, bool, error) {
	type result struct {
		a                  store.Account
		created, madeAdmin bool
	}
	r, err := with(s, ctx, func(in store.Store) (result, error) {
		a, created, madeAdmin, err := in.FindOrCreateAccount(ctx, email)
		return result{a, created, madeAdmin}, err
	})
	return r.a, r.created, r.madeAdmin, err
}

func (s *Store) GetAccount(ctx context.Context, id store.AccountID) (store.Account, error) {
	return with(s, ctx, func(in store.Store) (store.Account, error) { return in.GetAccount(ctx, id) })
}

func (s *Store) AccountByEmail(ctx context.Context, email string) (store.Account, error) {
	return with(s, ctx, func(in store.Store) (store.Account, error) { return in.AccountByEmail(ctx, email) })
}

func (s *Store) UpdateAccount(ctx context.Context, id store.AccountID, u store.AccountUpdate) (store.Account, error) {
	return with(s, ctx, func(in store.Store) (store.Account, error) { return in.UpdateAccount(ctx, id, u) })
}

func (s *Store) AdminCount(ctx context.Context) (int, error) {
	return with(s, ctx, func(in store.Store) (int, error) { return in.AdminCount(ctx) })
}

func (s *Store) SaveLoginToken(ctx context.Context, tokenHash []byte, email string, expires time.Time) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) {
		return none{}, in.SaveLoginToken(ctx, tokenHash, email, expires)
	})
	return err
}

func (s *Store) TakeLoginToken(ctx context.Context, tokenHash []byte, now time.Time) (string, error) {
	return with(s, ctx, func(in store.Store) (string, error) { return in.TakeLoginToken(ctx, tokenHash, now) })
}

func (s *Store) AddHubOwner(ctx context.Context, sid store.HubSID, a store.AccountID) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) { return none{}, in.AddHubOwner(ctx, sid, a) })
	return err
}

func (s *Store) RemoveHubOwner(ctx context.Context, sid store.HubSID, a store.AccountID) error {
	_, err := with(s, ctx, func(in store.Store) (none, error) { return none{}, in.RemoveHubOwner(ctx, sid, a) })
	return err
}

func (s *Store) HubOwners(ctx context.Context, sid store.HubSID) ([]store.AccountID, error) {
	return with(s, ctx, func(in store.Store) ([]store.AccountID, error) { return in.HubOwners(ctx, sid) })
}

func (s *Store) HubInvite(ctx context.Context, sid store.HubSID) (string, error) {
	return with(s, ctx, func(in store.Store) (string, error) { return in.HubInvite(ctx, sid) })
}

func (s *Store) RevokeHubInvite(ctx context.Context, sid store.HubSID, inviteID string) (string, error) {
	return with(s, ctx, func(in store.Store) (string, error) { return in.RevokeHubInvite(ctx, sid, inviteID) })
}

func (s *Store) ValidHubInvite(ctx context.Context, sid store.HubSID, inviteID string) (bool, error) {
	return with(s, ctx, func(in store.Store) (bool, error) { return in.ValidHubInvite(ctx, sid, inviteID) })
}
