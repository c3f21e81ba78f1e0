package store

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Site setting keys, as stored and as typed by operators (`toncon admin`, the admin app).
const (
	SettingDefaultRoomSize       = "default_room_size"
	SettingMaxRoomSize           = "max_room_size"
	SettingPermissiveRooms       = "permissive_rooms"
	SettingRequireAccountForJoin = "require_account_for_join"
	SettingDisableRoomCreation   = "disable_room_creation"
	SettingOffline               = "offline"
	SettingOfflineRedirectURL    = "offline_redirect_url"
	SettingMonthlyBudget         = "monthly_budget_usd"
	SettingCostPerHour           = "cost_per_hour_usd"
	SettingCostScalar            = "cost_scalar"
	SettingIdleMinutes           = "idle_minutes"
)

// SiteSettingKeys lists every known key, in the order help texts show them.
var SiteSettingKeys = []string{
	SettingDefaultRoomSize,
	SettingMaxRoomSize,
	SettingPermissiveRooms,
	SettingRequireAccountForJoin,
	SettingDisableRoomCreation,
	SettingOffline,
	SettingOfflineRedirectURL,
	SettingMonthlyBudget,
	SettingCostPerHour,
	SettingCostScalar,
	SettingIdleMinutes,
}

// DefaultSiteSettings are Reticulum's defaults: rooms of 24, at most 50, restrictive member permissions, anyone may
// join and create rooms.
// The operations settings default to online, no budget, no price known, a scalar of 1 and 5 idle minutes
// (Aurora's pause delay, which Hubs Cloud used).
func DefaultSiteSettings() SiteSettings {
	return SiteSettings{DefaultRoomSize: 24, MaxRoomSize: 50, CostScalar: 1, IdleMinutes: 5}
}

// DefaultMemberPermissions is what a new room gets under these settings.
func (s SiteSettings) DefaultMemberPermissions() MemberPermissions {
	if s.PermissiveRooms {
		return PermAll
	}
	return PermRestrictiveDefault
}

// Value returns the stored (canonical) text of one setting, and false for an unknown key.
func (s SiteSettings) Value(key string) (string, bool) {
	switch key {
	case SettingDefaultRoomSize:
		return strconv.Itoa(s.DefaultRoomSize), true
	case SettingMaxRoomSize:
		return strconv.Itoa(s.MaxRoomSize), true
	case SettingPermissiveRooms:
		return strconv.FormatBool(s.PermissiveRooms), true
	case SettingRequireAccountForJoin:
		return strconv.FormatBool(s.RequireAccountForJoin), true
	case SettingDisableRoomCreation:
		return strconv.FormatBool(s.DisableRoomCreation), true
	case SettingOffline:
		return strconv.FormatBool(s.Offline), true
	case SettingOfflineRedirectURL:
		return s.OfflineRedirectURL, true
	case SettingMonthlyBudget:
		return strconv.FormatFloat(s.MonthlyBudget, 'f', -1, 64), true
	case SettingCostPerHour:
		return strconv.FormatFloat(s.CostPerHour, 'f', -1, 64), true
	case SettingCostScalar:
		return strconv.FormatFloat(s.CostScalar, 'f', -1, 64), true
	case SettingIdleMinutes:
		return strconv.Itoa(s.IdleMinutes), true
	}
	return "", false
}

// set parses one setting into s without the cross-field check, so stored values can be loaded in any order.
func (s *SiteSettings) set(key, value string) error {
	parseSize := func(dst *int) error {
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > MaxRoomSize {
			return invalid("%s must be a whole number from 1 to %d, got %q", key, MaxRoomSize, value)
		}
		*dst = n
		return nil
	}
	parseBool := func(dst *bool) error {
		switch value {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return invalid("%s must be true or false, got %q", key, value)
		}
		return nil
	}
	parseMoney := func(dst *float64, max float64) error {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || f < 0 || f > max || f != f {
			return invalid("%s must be a number from 0 to %g, got %q", key, max, value)
		}
		*dst = f
		return nil
	}
	switch key {
	case SettingOffline:
		return parseBool(&s.Offline)
	case SettingOfflineRedirectURL:
		if value != "" {
			u, err := url.Parse(value)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return invalid("%s must be empty or a full http(s) URL, got %q", key, value)
			}
		}
		s.OfflineRedirectURL = value
		return nil
	case SettingMonthlyBudget:
		return parseMoney(&s.MonthlyBudget, 1e9)
	case SettingCostPerHour:
		return parseMoney(&s.CostPerHour, 1e6)
	case SettingCostScalar:
		return parseMoney(&s.CostScalar, 100)
	case SettingIdleMinutes:
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > 24*60 {
			return invalid("%s must be a whole number of minutes from 1 to 1440, got %q", key, value)
		}
		s.IdleMinutes = n
		return nil
	case SettingDefaultRoomSize:
		return parseSize(&s.DefaultRoomSize)
	case SettingMaxRoomSize:
		return parseSize(&s.MaxRoomSize)
	case SettingPermissiveRooms:
		return parseBool(&s.PermissiveRooms)
	case SettingRequireAccountForJoin:
		return parseBool(&s.RequireAccountForJoin)
	case SettingDisableRoomCreation:
		return parseBool(&s.DisableRoomCreation)
	}
	return invalid("unknown site setting %q; known settings are %s", key, strings.Join(SiteSettingKeys, ", "))
}

// With returns s with one setting changed, and the canonical text to store for it. It returns an error wrapping
// ErrInvalid for an unknown key, a malformed value, or a default room size above the maximum. Backends call it
// inside the transaction that reads the current settings, so the cross-field check cannot race.
func (s SiteSettings) With(key, value string) (SiteSettings, string, error) {
	next := s
	if err := next.set(key, value); err != nil {
		return s, "", err
	}
	if next.DefaultRoomSize > next.MaxRoomSize {
		return s, "", invalid("default_room_size (%d) must not exceed max_room_size (%d)",
			next.DefaultRoomSize, next.MaxRoomSize)
	}
	canonical, _ := next.Value(key)
	return next, canonical, nil
}

// SiteSettingsFrom builds settings from stored key/value pairs on top of the defaults. Unknown keys are skipped, so
// an older binary can read a database a newer one wrote settings into; a known key with a bad value is an error,
// because it means the stored data was changed behind the store's back.
func SiteSettingsFrom(stored map[string]string) (SiteSettings, error) {
	s := DefaultSiteSettings()
	for _, key := range SiteSettingKeys {
		v, ok := stored[key]
		if !ok {
			continue
		}
		if err := s.set(key, v); err != nil {
			return DefaultSiteSettings(), fmt.Errorf("stored site setting: %w", err)
		}
	}
	return s, nil
}
