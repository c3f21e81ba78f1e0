package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What people bring into rooms and keep: pinned room objects, avatars and scenes (docs/content.md). Files themselves
// are the uploads service's; these rows name them by file id, and whoever writes a row keeps the file it names.

// Limits on room objects, avatars and scenes.
const (
	MaxObjectIDLen     = 128      // a NAF networkId; Hubs makes 7-character ones
	MaxGLTFNodeBytes   = 16 << 10 // one pinned object's glTF node (Reticulum has no limit; a node is small)
	MaxPinnedPerRoom   = 512      // pinned objects in one room, so one member cannot fill the database
	MaxAttributionsLen = 4000
	MaxListRows        = 1000 // the most rows one list call of avatars or scenes returns
)

// AvatarSID and SceneSID are the public ids of uploaded avatars and scenes: the shape of a HubSID (NewSID), so
// they read the same in URLs, but a distinct type each so one cannot be passed for another.
type (
	AvatarSID string
	SceneSID  string
)

// Valid reports whether s has the shape NewSID produces.
func (s AvatarSID) Valid() bool { return HubSID(s).Valid() }

// Valid reports whether s has the shape NewSID produces.
func (s SceneSID) Valid() bool { return HubSID(s).Valid() }

// RoomObject is a pinned object: a networked entity that stays in its room while nobody is there and across
// restarts. GLTFNode is the glTF node the room's objects.gltf serves for it (a JSON object).
type RoomObject struct {
	HubSID    HubSID
	ObjectID  string // the NAF networkId, unique in its room
	GLTFNode  json.RawMessage
	AccountID AccountID // who pinned it last; 0 once that account is gone
	FileID    FileID    // the uploaded file the object shows, kept with ref PinRef; "" for none
	UpdatedAt time.Time
}

// PinRef is the reference under which a pinned object keeps its file.
func PinRef(hub HubSID, objectID string) string { return "pin:" + string(hub) + ":" + objectID }

// AvatarRef is the reference under which an avatar keeps its file.
func AvatarRef(sid AvatarSID) string { return "avatar:" + string(sid) }

// SceneRef is the reference under which a scene keeps its file.
func SceneRef(sid SceneSID) string { return "scene:" + string(sid) }

// Validate checks a room object's fields.
func (o RoomObject) Validate() error {
	if !o.HubSID.Valid() {
		return invalid("hub id %q is not a room id", o.HubSID)
	}
	if err := validObjectID(o.ObjectID); err != nil {
		return err
	}
	if len(o.GLTFNode) > MaxGLTFNodeBytes {
		return invalid("gltf_node is %d bytes; at most %d are allowed", len(o.GLTFNode), MaxGLTFNodeBytes)
	}
	var node map[string]json.RawMessage
	if err := json.Unmarshal(o.GLTFNode, &node); err != nil || node == nil {
		return invalid("gltf_node must be a JSON object (a glTF node)")
	}
	if o.AccountID < 0 {
		return invalid("account id must not be negative, got %d", o.AccountID)
	}
	return validFileID(o.FileID, true)
}

func validObjectID(id string) error {
	if id == "" || len(id) > MaxObjectIDLen {
		return invalid("object id must be 1 to %d bytes, got %d", MaxObjectIDLen, len(id))
	}
	for _, r := range id {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.:", r)) {
			return invalid("object id %q may hold only ASCII letters, digits and - _ . :", id)
		}
	}
	return nil
}

func validFileID(id FileID, optional bool) error {
	if (id != "" || !optional) && !id.Valid() {
		return invalid("file id %q is not an upload's file id", id)
	}
	return nil
}

// RoomObjects stores pinned objects. Safe for concurrent use; each call is atomic.
type RoomObjects interface {
	// PinObject inserts or replaces the room's object o.ObjectID and returns what it replaced (replaced false when
	// it was new), so the caller can release a file the object no longer shows. Replacing it without a FileID
	// keeps the file it had (a pinned object moved). UpdatedAt is set to now when zero.
	// Errors: ErrInvalid (see RoomObject.Validate; also for an account that does not exist, and for a new object
	// in a room that already has MaxPinnedPerRoom), ErrNotFound for no such hub.
	PinObject(ctx context.Context, o RoomObject) (prev RoomObject, replaced bool, err error)
	// UnpinObject deletes the object and returns it. ErrNotFound when the hub or the object does not exist.
	UnpinObject(ctx context.Context, hub HubSID, objectID string) (RoomObject, error)
	// RoomObjects lists the room's pinned objects in the order they were first pinned. ErrNotFound for no such hub.
	RoomObjects(ctx context.Context, hub HubSID) ([]RoomObject, error)
}

// Avatar is an uploaded avatar: a glb with a Head or AvatarRoot node.
type Avatar struct {
	SID       AvatarSID
	Name      string // 1..64 characters
	FileID    FileID // the glb, kept with ref AvatarRef
	AccountID AccountID
	Featured  bool // an admin lists it for everyone
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AvatarUpdate changes some fields of an avatar; nil fields are left alone.
type AvatarUpdate struct {
	Name     *string
	FileID   *FileID
	Featured *bool
}

// Validate checks an avatar's fields.
func (a Avatar) Validate() error {
	if !a.SID.Valid() {
		return invalid("avatar id %q must be %d characters from %s", a.SID, SIDLen, sidAlphabet)
	}
	if err := validName(a.Name); err != nil {
		return err
	}
	if a.AccountID <= 0 {
		return invalid("an avatar needs the account that uploaded it")
	}
	return validFileID(a.FileID, false)
}

// Validate checks the fields u sets.
func (u AvatarUpdate) Validate() error {
	if u.Name != nil {
		if err := validName(*u.Name); err != nil {
			return err
		}
	}
	if u.FileID != nil {
		return validFileID(*u.FileID, false)
	}
	return nil
}

// Avatars stores uploaded avatars. Safe for concurrent use; each call is atomic.
type Avatars interface {
	// CreateAvatar inserts a and returns it as stored, with a fresh SID when empty and CreatedAt (and UpdatedAt)
	// now when zero. Errors: ErrInvalid (Avatar.Validate, or no such account), ErrConflict for a taken SID.
	CreateAvatar(ctx context.Context, a Avatar) (Avatar, error)
	// GetAvatar returns the avatar or ErrNotFound.
	GetAvatar(ctx context.Context, sid AvatarSID) (Avatar, error)
	// ListAvatars returns the featured avatars and those of account (0: featured only), newest first.
	ListAvatars(ctx context.Context, account AccountID) ([]Avatar, error)
	// UpdateAvatar applies u atomically and returns the avatar before and after. ErrNotFound, ErrInvalid.
	UpdateAvatar(ctx context.Context, sid AvatarSID, u AvatarUpdate) (before, after Avatar, err error)
	// DeleteAvatar deletes the avatar and returns it, so its file can be released. ErrNotFound.
	DeleteAvatar(ctx context.Context, sid AvatarSID) (Avatar, error)
}

// Scene is an uploaded scene: a glb, as Spoke or the Hubs Blender exporter make them.
type Scene struct {
	SID           SceneSID
	Name          string // 1..64 characters
	Description   string // at most 64000 characters
	Attributions  string // who made what in it, free text, at most 4000 characters
	AllowRemixing bool
	FileID        FileID // the glb, kept with ref SceneRef
	AccountID     AccountID
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SceneUpdate changes some fields of a scene; nil fields are left alone.
type SceneUpdate struct {
	Name, Description, Attributions *string
	FileID                          *FileID
	AllowRemixing                   *bool
}

func validAttributions(s string) error {
	if n := utf8.RuneCountInString(s); n > MaxAttributionsLen {
		return invalid("attributions must be at most %d characters, got %d", MaxAttributionsLen, n)
	}
	return nil
}

// Validate checks a scene's fields.
func (s Scene) Validate() error {
	if !s.SID.Valid() {
		return invalid("scene id %q must be %d characters from %s", s.SID, SIDLen, sidAlphabet)
	}
	for _, err := range []error{validName(s.Name), validDescription(s.Description), validAttributions(s.Attributions)} {
		if err != nil {
			return err
		}
	}
	if s.AccountID <= 0 {
		return invalid("a scene needs the account that uploaded it")
	}
	return validFileID(s.FileID, false)
}

// Validate checks the fields u sets.
func (u SceneUpdate) Validate() error {
	var errs []error
	if u.Name != nil {
		errs = append(errs, validName(*u.Name))
	}
	if u.Description != nil {
		errs = append(errs, validDescription(*u.Description))
	}
	if u.Attributions != nil {
		errs = append(errs, validAttributions(*u.Attributions))
	}
	if u.FileID != nil {
		errs = append(errs, validFileID(*u.FileID, false))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Scenes stores uploaded scenes. Safe for concurrent use; each call is atomic.
type Scenes interface {
	// CreateScene inserts s and returns it as stored, with a fresh SID when empty and CreatedAt (and UpdatedAt) now
	// when zero. Errors: ErrInvalid (Scene.Validate, or no such account), ErrConflict for a taken SID.
	CreateScene(ctx context.Context, s Scene) (Scene, error)
	// GetScene returns the scene or ErrNotFound.
	GetScene(ctx context.Context, sid SceneSID) (Scene, error)
	// ListScenes returns every scene, newest first (at most 1000).
	ListScenes(ctx context.Context) ([]Scene, error)
	// UpdateScene applies u atomically and returns the scene before and after. ErrNotFound, ErrInvalid.
	UpdateScene(ctx context.Context, sid SceneSID, u SceneUpdate) (before, after Scene, err error)
}

// PrepareAvatar fills in the SID and timestamps CreateAvatar assigns and validates. Every backend calls it.
func PrepareAvatar(a Avatar, now time.Time) (Avatar, error) {
	if a.SID == "" {
		a.SID = AvatarSID(NewSID())
	}
	a.CreatedAt, a.UpdatedAt = libraryTimes(a.CreatedAt, a.UpdatedAt, now)
	return a, a.Validate()
}

// PrepareScene fills in the SID and timestamps CreateScene assigns and validates. Every backend calls it.
func PrepareScene(s Scene, now time.Time) (Scene, error) {
	if s.SID == "" {
		s.SID = SceneSID(NewSID())
	}
	s.CreatedAt, s.UpdatedAt = libraryTimes(s.CreatedAt, s.UpdatedAt, now)
	return s, s.Validate()
}

// libraryTimes fills in a new avatar's or scene's times: created is now when zero, updated is created when zero,
// both at the millisecond the stores keep.
func libraryTimes(created, updated, now time.Time) (time.Time, time.Time) {
	if created.IsZero() {
		created = now
	}
	if updated.IsZero() {
		updated = created
	}
	return Millis(created), Millis(updated)
}
