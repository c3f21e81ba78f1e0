// Package ops runs the seed's cost operations inside toncon: a usage meter (people now, user-hours and
// server-hours this month, and the spend they add up to), a monthly budget that takes the server offline by
// itself, offline mode set by an operator, and an idle signal (nobody connected for N minutes) during which
// the database is released, as Hubs Cloud paused its database.
package ops

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"toncon/internal/store"
)

// Offline reasons.
const (
	ReasonManual = "manual" // an operator turned offline mode on
	ReasonBudget = "budget" // the estimated spend passed the monthly budget
)

// Config is what the meter needs.
type Config struct {
	Store store.Store
	// Connected returns how many people are connected right now (in rooms and lobbies).
	Connected func() int
	// Pause releases the database while idle; nil when the store cannot pause.
	Pause func() error
	Now   func() time.Time
	Log   *slog.Logger
	// Tick is how often the meter samples, checks offline mode and the budget, and tells rooms; default 5 s.
	Tick time.Duration
	// SettingsTTL is how long settings are cached, so `toncon admin` changes reach a running server within it;
	// default 2 s.
	SettingsTTL time.Duration
}

// Status is the meter's view, served at /api/v1/usage.
type Status struct {
	Month          string    `json:"month"`
	UsersNow       int       `json:"users_now"`
	UserHours      float64   `json:"user_hours"`
	ServerHours    float64   `json:"server_hours"`
	CostPerHourUSD float64   `json:"cost_per_hour_usd"`
	CostScalar     float64   `json:"cost_scalar"`
	SpendUSD       float64   `json:"estimated_spend_usd"`
	BudgetUSD      float64   `json:"monthly_budget_usd"`
	Offline        bool      `json:"offline"`
	OfflineReason  string    `json:"offline_reason,omitempty"`
	RedirectURL    string    `json:"offline_redirect_url,omitempty"`
	Idle           bool      `json:"idle"`
	IdleSince      time.Time `json:"idle_since,omitzero"`
	IdleMinutes    int       `json:"idle_minutes"`
}

// Ops meters usage and decides offline and idle.
type Ops struct {
	cfg Config

	mu sync.Mutex // guards everything below
	// settings cache
	settings   store.SiteSettings
	settingsAt time.Time
	// meter: stored holds what the store had for month when loaded; pending is not yet flushed.
	month                   string
	storedUser, storedSrv   float64
	pendingUser, pendingSrv float64
	loaded                  bool
	lastSample              time.Time
	lastActive              time.Time
	idle                    bool
	idleSince               time.Time
	offline                 bool
	offlineReason           string
	listeners               []func(Status)
}

// New makes the meter. Call Run to start it.
func New(cfg Config) *Ops {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 5 * time.Second
	}
	if cfg.SettingsTTL <= 0 {
		cfg.SettingsTTL = 2 * time.Second
	}
	now := cfg.Now()
	return &Ops{cfg: cfg, settings: store.DefaultSiteSettings(), lastSample: now, lastActive: now}
}

// OnChange registers fn to be called (without locks held) when the server goes offline or comes back.
// Register before Run.
func (o *Ops) OnChange(fn func(Status)) { o.listeners = append(o.listeners, fn) }

func monthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// Run samples every Tick until ctx ends, then flushes what it metered.
func (o *Ops) Run(ctx context.Context) {
	t := time.NewTicker(o.cfg.Tick)
	defer t.Stop()
	o.Step(ctx)
	for {
		select {
		case <-ctx.Done():
			o.sample()
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			o.flush(flushCtx)
			cancel()
			return
		case <-t.C:
			o.Step(ctx)
		}
	}
}

// Step samples usage, updates idle and offline, and flushes to the store when not idle. Run calls it every
// Tick; tests call it with an injected clock.
func (o *Ops) Step(ctx context.Context) {
	o.sample()
	o.mu.Lock()
	idle := o.idle
	o.mu.Unlock()
	if !idle {
		o.refreshSettings(ctx, false)
		o.flush(ctx)
	}
	o.evaluate(ctx)
}

// sample adds the time since the last sample to the meter, split at a month boundary.
func (o *Ops) sample() {
	now := o.cfg.Now()
	users := 0
	if o.cfg.Connected != nil {
		users = o.cfg.Connected()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	from := o.lastSample
	o.lastSample = now
	if users > 0 {
		o.lastActive = now
	}
	if o.month == "" {
		o.startMonthLocked(monthOf(now))
	}
	for from.Before(now) {
		end := now
		next := time.Date(from.UTC().Year(), from.UTC().Month()+1, 1, 0, 0, 0, 0, time.UTC)
		if next.Before(end) {
			end = next
		}
		m := monthOf(from)
		if m != o.month {
			o.startMonthLocked(m)
		}
		dt := end.Sub(from).Seconds()
		o.pendingSrv += dt
		o.pendingUser += dt * float64(users)
		from = end
	}
}

// startMonthLocked moves the meter to month m; totals of the old month must have been flushed (a month change
// loses nothing: flush writes per month, and the old pending amounts are written before the switch).
func (o *Ops) startMonthLocked(m string) {
	if o.month != "" && (o.pendingSrv > 0 || o.pendingUser > 0) {
		// Keep the old month's pending seconds: write them now, in the background of this lock, via a copy.
		old, u, s := o.month, o.pendingUser, o.pendingSrv
		go o.addUsage(old, u, s)
	}
	o.month, o.loaded = m, false
	o.storedUser, o.storedSrv, o.pendingUser, o.pendingSrv = 0, 0, 0, 0
}

func (o *Ops) addUsage(month string, user, srv float64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.cfg.Store.AddUsage(ctx, month, user, srv); err != nil {
		o.cfg.Log.Error("record usage", "month", month, "err", err)
	}
}

// flush writes pending seconds to the store and loads the month's stored totals the first time.
func (o *Ops) flush(ctx context.Context) {
	o.mu.Lock()
	month, user, srv, loaded := o.month, o.pendingUser, o.pendingSrv, o.loaded
	o.mu.Unlock()
	if month == "" {
		return
	}
	if !loaded {
		u, err := o.cfg.Store.MonthUsage(ctx, month)
		if err != nil {
			o.cfg.Log.Error("read usage", "month", month, "err", err)
			return
		}
		o.mu.Lock()
		if o.month == month && !o.loaded {
			o.storedUser, o.storedSrv, o.loaded = u.UserSeconds, u.ServerSeconds, true
		}
		o.mu.Unlock()
	}
	if user == 0 && srv == 0 {
		return
	}
	if err := o.cfg.Store.AddUsage(ctx, month, user, srv); err != nil {
		o.cfg.Log.Error("record usage", "month", month, "err", err)
		return
	}
	o.mu.Lock()
	if o.month == month {
		o.pendingUser -= user
		o.pendingSrv -= srv
		o.storedUser += user
		o.storedSrv += srv
	}
	o.mu.Unlock()
}

// refreshSettings reloads settings when the cache is older than SettingsTTL (or always, when force is set).
func (o *Ops) refreshSettings(ctx context.Context, force bool) store.SiteSettings {
	o.mu.Lock()
	fresh := !force && o.cfg.Now().Sub(o.settingsAt) < o.cfg.SettingsTTL && !o.settingsAt.IsZero()
	s := o.settings
	o.mu.Unlock()
	if fresh {
		return s
	}
	s, err := o.cfg.Store.SiteSettings(ctx)
	if err != nil {
		o.cfg.Log.Error("read site settings", "err", err)
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.settings
	}
	o.mu.Lock()
	o.settings, o.settingsAt = s, o.cfg.Now()
	o.mu.Unlock()
	return s
}

// evaluate decides idle and offline from the cached settings and the meter, and reports changes.
func (o *Ops) evaluate(ctx context.Context) {
	now := o.cfg.Now()
	o.mu.Lock()
	s := o.settings
	wasIdle, wasOffline := o.idle, o.offline
	users := 0
	if o.cfg.Connected != nil {
		users = o.cfg.Connected()
	}
	o.idle = users == 0 && now.Sub(o.lastActive) >= time.Duration(s.IdleMinutes)*time.Minute
	if o.idle && !wasIdle {
		o.idleSince = o.lastActive.Add(time.Duration(s.IdleMinutes) * time.Minute)
	}
	spend := o.spendLocked(s)
	reason := ""
	switch {
	case s.Offline:
		reason = ReasonManual
	case s.MonthlyBudget > 0 && spend >= s.MonthlyBudget:
		reason = ReasonBudget
	}
	o.offline, o.offlineReason = reason != "", reason
	becameIdle, becameOffline, cameBack := o.idle && !wasIdle, o.offline && !wasOffline, !o.offline && wasOffline
	o.mu.Unlock()

	switch {
	case becameOffline && reason == ReasonBudget:
		o.cfg.Log.Warn("going offline: the estimated spend this month passed the monthly budget; raise monthly_budget_usd or wait for the new month",
			"spend_usd", round2(spend), "budget_usd", s.MonthlyBudget)
	case becameOffline:
		o.cfg.Log.Info("offline mode is on: rooms refuse people until it is turned off", "redirect", s.OfflineRedirectURL)
	case cameBack:
		o.cfg.Log.Info("back online")
	}
	if becameOffline || cameBack {
		st := o.Status(ctx)
		for _, fn := range o.listeners {
			fn(st)
		}
	}
	if becameIdle {
		o.flush(ctx)
		o.cfg.Log.Info("idle: nobody has been connected for a while; releasing the database until the next request",
			"idle_minutes", s.IdleMinutes)
		if o.cfg.Pause != nil {
			if err := o.cfg.Pause(); err != nil {
				o.cfg.Log.Warn("release the database", "err", err)
			}
		}
	}
}

func (o *Ops) spendLocked(s store.SiteSettings) float64 {
	hours := (o.storedSrv + o.pendingSrv) / 3600
	return hours * s.CostPerHour * s.CostScalar
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Activity tells the meter someone connected, so an idle server wakes at once rather than at the next tick.
func (o *Ops) Activity() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lastActive = o.cfg.Now()
	o.idle = false
}

// Offline reports whether rooms must refuse people now, why, and where to send them. It is asked on page
// requests and joins; a stale settings cache is refreshed from the store, which wakes a paused database, as a
// real request should.
func (o *Ops) Offline(ctx context.Context) (offline bool, reason, redirect string) {
	s := o.refreshSettings(ctx, false)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case s.Offline:
		return true, ReasonManual, s.OfflineRedirectURL
	case s.MonthlyBudget > 0 && o.spendLocked(s) >= s.MonthlyBudget:
		return true, ReasonBudget, s.OfflineRedirectURL
	}
	return false, "", ""
}

// Status returns the meter's current view. While idle it answers from memory, so an orchestrator polling
// /health does not keep waking the database it is meant to let sleep.
func (o *Ops) Status(ctx context.Context) Status {
	o.mu.Lock()
	idle := o.idle
	s := o.settings
	o.mu.Unlock()
	if !idle {
		s = o.refreshSettings(ctx, false)
	}
	users := 0
	if o.cfg.Connected != nil {
		users = o.cfg.Connected()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	st := Status{
		Month: o.month, UsersNow: users,
		UserHours:      (o.storedUser + o.pendingUser) / 3600,
		ServerHours:    (o.storedSrv + o.pendingSrv) / 3600,
		CostPerHourUSD: s.CostPerHour, CostScalar: s.CostScalar, SpendUSD: round2(o.spendLocked(s)),
		BudgetUSD: s.MonthlyBudget, Offline: o.offline, OfflineReason: o.offlineReason,
		Idle: o.idle, IdleMinutes: s.IdleMinutes,
	}
	if o.offline {
		st.RedirectURL = s.OfflineRedirectURL
	}
	if o.idle {
		st.IdleSince = o.idleSince
	}
	return st
}
