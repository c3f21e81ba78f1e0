// Package store holds toncon's persistent domain types (rooms, site settings, accounts and room roles) and the interfaces every storage
// backend implements. Backends live in subpackages named for what they wrap (store/sqlite, later store/postgres),
// and all of them must pass the shared conformance suite in store/storetest, so callers can rely on the behaviour
// documented here rather than on one database's quirks.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with context ("get hub abc1234: not found"); callers test with errors.Is.
var (
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a write collided with an existing row (for example a hub SID already in use).
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input broke a rule the store enforces; the wrapping message says which rule and what is
	// allowed, so it can be shown to whoever sent the input.
	ErrInvalid = errors.New("invalid")
)

// HubSID is the 7-character public id of a room, as it appears in room URLs. It is a distinct type so it cannot be
// confused with the internal numeric Hub.ID or with other ids.
type HubSID string

// EntryMode says who may enter a room.
type EntryMode string

// The entry modes Reticulum knows. Invite means only holders of an invite; deny closes the room to everyone.
const (
	EntryAllow  EntryMode = "allow"
	EntryInvite EntryMode = "invite"
	EntryDeny   EntryMode = "deny"
)

// Valid reports whether m is one of the known entry modes.
func (m EntryMode) Valid() bool {
	switch m {
	case EntryAllow, EntryInvite, EntryDeny:
		return true
	}
	return false
}

// MemberPermissions is the bitfield of what room members may do (bit 0 spawn_and_move_media, 1 spawn_camera,
// 2 spawn_drawing, 3 pin_objects, 4 spawn_emoji, 5 fly, 6 voice_chat, 7 text_chat). The bit order is Reticulum's,
// so values stored by Hubs mean the same thing here.
type MemberPermissions uint8

// The member permission bits, in bit order.
const (
	PermSpawnAndMoveMedia MemberPermissions = 1 << iota
	PermSpawnCamera
	PermSpawnDrawing
	PermPinObjects
	PermSpawnEmoji
	PermFly
	PermVoiceChat
	PermTextChat
)

// Convenient combinations: what new rooms get by default, and with the permissive_rooms site setting.
const (
	PermRestrictiveDefault                   = PermVoiceChat | PermTextChat // 192
	PermAll                MemberPermissions = 0xff                         // 255
)

// PermissionNames are the wire names of the member permission bits, index i naming bit i.
var PermissionNames = [8]string{
	"spawn_and_move_media",
	"spawn_camera",
	"spawn_drawing",
	"pin_objects",
	"spawn_emoji",
	"fly",
	"voice_chat",
	"text_chat",
}

// Has reports whether every bit set in bit is also set in p.
func (p MemberPermissions) Has(bit MemberPermissions) bool { return p&bit == bit }

// Hub is a room. Timestamps are kept to the millisecond and always come back in UTC.
type Hub struct {
	ID   int64 // internal id; never shown in URLs
	SID  HubSID
	Slug string // URL-friendly form of Name (see Slugify)

	Name        string // 1..64 characters
	Description string // at most 64000 characters

	EntryMode EntryMode
	// RoomSize is the number of people the room admits, 0..1000. The store keeps what it is given: callers fill it
	// from SiteSettings.DefaultRoomSize on create and check it against MaxRoomSize, which can change later.
	RoomSize          int
	MemberPermissions MemberPermissions

	SceneRef               string // "" when the room has no scene
	CreatorAssignmentToken string // "" once claimed
	// CreatedBy is the account that created the room or claimed it with the creator assignment token; 0 = nobody.
	CreatedBy AccountID

	CreatedAt, LastActiveAt time.Time
}

// HubUpdate changes some fields of a hub; nil fields are left alone.
type HubUpdate struct {
	Name, Description, SceneRef, CreatorAssignmentToken *string
	// Slug sets the slug explicitly. When nil and Name is set, the slug is derived from the new name, so a renamed
	// room's URL follows its name the way Reticulum's autoslug does.
	Slug              *string
	EntryMode         *EntryMode
	RoomSize          *int
	MemberPermissions *MemberPermissions
	// CreatedBy sets the creating account; a pointer to 0 clears it.
	CreatedBy *AccountID
}

// SiteSettings are the server-wide settings an operator changes at run time (Reticulum's app config "features").
type SiteSettings struct {
	DefaultRoomSize int // default 24
	MaxRoomSize     int // default 50
	// PermissiveRooms gives new rooms all 8 member permission bits (255) instead of voice+text (192).
	PermissiveRooms       bool
	RequireAccountForJoin bool
	DisableRoomCreation   bool

	// Operations (the seed's offline mode, budget and database pausing, in toncon's terms).
	Offline            bool    // rooms refuse people; pages redirect to OfflineRedirectURL or show an offline page
	OfflineRedirectURL string  // "" or an http(s) URL
	MonthlyBudget      float64 // USD a month; 0 means no budget. Past it the server goes offline by itself.
	CostPerHour        float64 // USD an hour for this server, for the usage meter's spend estimate; 0 = unknown
	CostScalar         float64 // the cost formula's scalar for services beside the server (default 1)
	IdleMinutes        int     // nobody connected for this long → idle (default 5)
}

// UsageMonth is what the usage meter recorded for one calendar month (UTC).
type UsageMonth struct {
	Month         string  // "2026-11"
	UserSeconds   float64 // sum over time of the people connected
	ServerSeconds float64 // time this server was running
}

// Usage accumulates the usage meter's totals per month. Adds are atomic, so several nodes may add to one month.
type Usage interface {
	AddUsage(ctx context.Context, month string, userSeconds, serverSeconds float64) error
	// MonthUsage returns the month's totals, zero when nothing was recorded.
	MonthUsage(ctx context.Context, month string) (UsageMonth, error)
}

// Hubs stores rooms. All methods are safe for concurrent use; each call is atomic on its own.
type Hubs interface {
	// CreateHub inserts h and returns it as stored. It assigns the ID when zero, a fresh SID when empty, the slug
	// from the name when empty, CreatedAt (now) when zero and LastActiveAt (CreatedAt) when zero. Errors: ErrInvalid
	// when a field breaks the rules in Hub.Validate, ErrConflict when the SID (or an explicit ID) is taken.
	CreateHub(ctx context.Context, h Hub) (Hub, error)
	// GetHub returns the hub with this SID, or ErrNotFound.
	GetHub(ctx context.Context, sid HubSID) (Hub, error)
	// UpdateHub applies u atomically and returns the updated hub. Errors: ErrNotFound, or ErrInvalid (and nothing
	// changes) when a set field breaks the rules.
	UpdateHub(ctx context.Context, sid HubSID, u HubUpdate) (Hub, error)
	// TouchHub sets last_active_at to at (to the millisecond), or returns ErrNotFound. It sets rather than
	// maximises: the caller owns the clock.
	TouchHub(ctx context.Context, sid HubSID, at time.Time) error
}

// Settings stores the site settings. Safe for concurrent use.
type Settings interface {
	// SiteSettings returns the current settings, with defaults for anything never set.
	SiteSettings(ctx context.Context) (SiteSettings, error)
	// SetSiteSetting validates and stores one setting atomically (the default ≤ max check sees the current other
	// value). Keys are the SiteSetting* constants; an unknown key or a bad value returns an error wrapping ErrInvalid
	// that says what is allowed, and nothing changes.
	SetSiteSetting(ctx context.Context, key, value string) error
}

// Store is everything toncon persists. Close releases the backend; the Store must not be used afterwards.
type Store interface {
	Usage
	Hubs
	Settings
	Accounts
	LoginTokens
	HubRoles
	Invites
	Files
	RoomObjects
	Avatars
	Scenes
	Close() error
}
