package store

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field limits, Reticulum's (lib/ret/hub.ex), except the room size cap: Reticulum caps it at the max_room_size
// setting, which can change after rooms exist, so the store only enforces a hard ceiling.
const (
	MaxNameLen        = 64
	MaxDescriptionLen = 64000
	MaxRoomSize       = 1000
	SIDLen            = 7
)

// sidAlphabet is letters and digits without 0 O 1 I l, which people misread when typing a room code. It is the set
// Reticulum's sids end up in (base64url minus [1IlO0_-]), so imported room URLs stay valid.
const sidAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// NewSID returns a random hub SID: 7 characters from a 57-letter alphabet, about 41 bits, drawn from crypto/rand so
// room URLs cannot be guessed.
func NewSID() HubSID {
	var out [SIDLen]byte
	// Rejection sampling keeps every letter equally likely: bytes at or above the largest multiple of the alphabet
	// size would otherwise favour the first letters.
	const limit = 256 - 256%len(sidAlphabet)
	var buf [16]byte
	for n := 0; n < SIDLen; {
		rand.Read(buf[:]) // never fails since Go 1.24
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out[n] = sidAlphabet[int(b)%len(sidAlphabet)]
			n++
			if n == SIDLen {
				break
			}
		}
	}
	return HubSID(out[:])
}

// Valid reports whether s has the shape NewSID produces. Callers can use it to turn away malformed room URLs before
// asking the store.
func (s HubSID) Valid() bool {
	if len(s) != SIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(sidAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Slugify turns a room name into the lowercase, hyphen-separated form used in room URLs ("My Room!" → "my-room").
// Letters and digits of any script are kept; everything else separates words. It is idempotent.
func Slugify(name string) string {
	var b strings.Builder
	pendingHyphen := false
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if pendingHyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			pendingHyphen = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		pendingHyphen = true
	}
	return b.String()
}

// Millis is t as the store keeps it: truncated to the millisecond, in UTC.
func Millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func validName(name string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxNameLen {
		return invalid("name must be 1 to %d characters, got %d", MaxNameLen, n)
	}
	return nil
}

func validDescription(d string) error {
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLen {
		return invalid("description must be at most %d characters, got %d", MaxDescriptionLen, n)
	}
	return nil
}

func validSlug(s string) error {
	if Slugify(s) != s {
		return invalid("slug %q must be lowercase letters and digits separated by single hyphens", s)
	}
	return nil
}

func validEntryMode(m EntryMode) error {
	if !m.Valid() {
		return invalid("entry mode %q must be one of allow, invite, deny", m)
	}
	return nil
}

func validRoomSize(n int) error {
	if n < 0 || n > MaxRoomSize {
		return invalid("room size must be 0 to %d, got %d", MaxRoomSize, n)
	}
	return nil
}

func validCreatedBy(a AccountID) error {
	if a < 0 {
		return invalid("creator account id must not be negative, got %d", a)
	}
	return nil
}

// Validate checks the fields a caller controls. Backends call it (through PrepareHub) as defence in depth; the API
// layer can call it first to answer with the same message.
func (h Hub) Validate() error {
	if !h.SID.Valid() {
		return invalid("hub id %q must be %d characters from %s", h.SID, SIDLen, sidAlphabet)
	}
	for _, err := range []error{
		validName(h.Name),
		validDescription(h.Description),
		validSlug(h.Slug),
		validEntryMode(h.EntryMode),
		validRoomSize(h.RoomSize),
		validCreatedBy(h.CreatedBy),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// PrepareHub fills in what CreateHub assigns (SID, slug, timestamps; not the ID, which the database assigns), puts
// the timestamps in the stored form (Millis) and validates. Every backend calls it, so they agree on defaults.
func PrepareHub(h Hub, now time.Time) (Hub, error) {
	if h.SID == "" {
		h.SID = NewSID()
	}
	if h.Slug == "" {
		h.Slug = Slugify(h.Name)
	}
	if h.CreatedAt.IsZero() {
		h.CreatedAt = now
	}
	if h.LastActiveAt.IsZero() {
		h.LastActiveAt = h.CreatedAt
	}
	h.CreatedAt, h.LastActiveAt = Millis(h.CreatedAt), Millis(h.LastActiveAt)
	if err := h.Validate(); err != nil {
		return Hub{}, err
	}
	return h, nil
}

// Validate checks the fields u sets.
func (u HubUpdate) Validate() error {
	if u.Name != nil {
		if err := validName(*u.Name); err != nil {
			return err
		}
	}
	if u.Description != nil {
		if err := validDescription(*u.Description); err != nil {
			return err
		}
	}
	if u.Slug != nil {
		if err := validSlug(*u.Slug); err != nil {
			return err
		}
	}
	if u.EntryMode != nil {
		if err := validEntryMode(*u.EntryMode); err != nil {
			return err
		}
	}
	if u.RoomSize != nil {
		if err := validRoomSize(*u.RoomSize); err != nil {
			return err
		}
	}
	if u.CreatedBy != nil {
		if err := validCreatedBy(*u.CreatedBy); err != nil {
			return err
		}
	}
	return nil
}

// PrepareUpdate validates u and derives the slug from a new name when no slug is given. Every backend calls it.
func PrepareUpdate(u HubUpdate) (HubUpdate, error) {
	if err := u.Validate(); err != nil {
		return HubUpdate{}, err
	}
	if u.Name != nil && u.Slug == nil {
		s := Slugify(*u.Name)
		u.Slug = &s
	}
	return u, nil
}
