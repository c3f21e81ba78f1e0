package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// FileID is the public id of an uploaded file, as it appears in /files/<id> URLs: 22 URL-safe base64 characters
// (128 random bits). It is a distinct type so it cannot be confused with a hub SID or a blob hash.
type FileID string

// NewFileID returns a fresh random file id.
func NewFileID() FileID {
	var b [16]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return FileID(base64.RawURLEncoding.EncodeToString(b[:]))
}

// Valid reports whether id has the shape NewFileID makes, so a malformed id from a URL is refused before it reaches
// the database.
func (id FileID) Valid() bool {
	if len(id) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(string(id))
	return err == nil
}

// MaxFileNameLen is the longest original name kept for a file, in bytes (what most file systems allow).
const MaxFileNameLen = 255

// MaxFileRefLen is the longest reference string ("pin:<hub>:<object id>", "avatar:<sid>").
const MaxFileRefLen = 512

// File is the metadata of one uploaded file; the bytes are a blob named by SHA256, which several files with the
// same content share. Timestamps are kept to the millisecond, in UTC.
type File struct {
	ID          FileID
	SHA256      string // lowercase hex, 64 characters
	ContentType string // decided from the content, e.g. "image/png"
	Size        int64
	Name        string // the uploader's base name, cleaned; may be ""
	AccessToken string // needed to read or keep the file while nothing keeps it
	Account     AccountID
	CreatedAt   time.Time
	// ExpiresAt is when the file goes unless something keeps it; the zero time while it is kept (it has refs).
	ExpiresAt time.Time
}

// Kept reports whether something references the file, so it does not expire and may be read without its token.
func (f File) Kept() bool { return f.ExpiresAt.IsZero() }

// TokenMatches reports, in constant time, whether token is the file's access token; an empty token never matches.
func (f File) TokenMatches(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(f.AccessToken), []byte(token)) == 1
}

// Validate checks the rules every stored file obeys; the error wraps ErrInvalid and names the field.
func (f File) Validate() error {
	switch {
	case !f.ID.Valid():
		return invalid("file id %q is not 22 URL-safe base64 characters", f.ID)
	case len(f.SHA256) != 64 || strings.ToLower(f.SHA256) != f.SHA256 || !isHex(f.SHA256):
		return invalid("file sha256 must be 64 lowercase hex characters")
	case f.ContentType == "" || len(f.ContentType) > 100:
		return invalid("file content type must be 1 to 100 characters")
	case f.Size < 0:
		return invalid("file size must not be negative")
	case len(f.Name) > MaxFileNameLen || !utf8.ValidString(f.Name) || strings.ContainsAny(f.Name, "/\\\x00"):
		return invalid("file name must be a base name of at most %d bytes of UTF-8", MaxFileNameLen)
	case f.AccessToken == "":
		return invalid("file access token must not be empty")
	}
	return nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// Files stores the metadata of uploaded files and what keeps them. All methods are safe for concurrent use and
// atomic on their own. A file is kept while it has at least one ref; the store keeps ExpiresAt zero exactly then.
type Files interface {
	// CreateFile inserts f (unkept: ExpiresAt must be set) and returns it as stored. CreatedAt is set to now when
	// zero. Errors: ErrInvalid for a field that breaks File.Validate or a zero ExpiresAt, ErrConflict for an id in
	// use.
	CreateFile(ctx context.Context, f File) (File, error)
	// GetFile returns the file with this id, expired or not (callers compare ExpiresAt with their clock), or
	// ErrNotFound.
	GetFile(ctx context.Context, id FileID) (File, error)
	// AccountFiles lists the files uploaded by account a, newest first (ties by id), expired ones included until
	// they are deleted.
	AccountFiles(ctx context.Context, a AccountID) ([]File, error)
	// AddFileRef records that ref keeps the file and clears its expiry; adding a ref twice is not an error. A file
	// that expired at or before now is not revived: ErrNotFound, as for an unknown id. ErrInvalid for an empty or
	// overlong ref.
	AddFileRef(ctx context.Context, id FileID, ref string, now time.Time) error
	// RemoveFileRef removes ref; when that was the file's last ref, the file expires at expiresAt. Removing a ref
	// the file does not have changes nothing (an unkept file keeps its expiry). It returns how many refs remain.
	// ErrNotFound for an unknown id.
	RemoveFileRef(ctx context.Context, id FileID, ref string, expiresAt time.Time) (remaining int, err error)
	// FileRefs lists the file's refs in ascending order. ErrNotFound for an unknown id.
	FileRefs(ctx context.Context, id FileID) ([]string, error)
	// DeleteExpiredFiles deletes up to limit files that expired at or before now and returns them, so the caller can
	// remove blobs no file uses any more (BlobInUse).
	DeleteExpiredFiles(ctx context.Context, now time.Time, limit int) ([]File, error)
	// DeleteFile deletes the file and its refs whatever its state. ErrNotFound for an unknown id.
	DeleteFile(ctx context.Context, id FileID) error
	// BlobInUse reports whether any file row, expired or not, has this sha256.
	BlobInUse(ctx context.Context, sha256 string) (bool, error)
}

// ValidFileRef checks a ref string: 1 to MaxFileRefLen bytes of UTF-8. The error wraps ErrInvalid.
func ValidFileRef(ref string) error {
	if ref == "" || len(ref) > MaxFileRefLen || !utf8.ValidString(ref) {
		return invalid("a file ref must be 1 to %d bytes of UTF-8", MaxFileRefLen)
	}
	return nil
}
