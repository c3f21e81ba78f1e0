// Package uploads stores the files people bring into rooms: it decides each upload's type from its content, streams
// it to a blob named by its SHA-256 in the data folder, records it in store.Files, serves it at /files/<id>, and
// sweeps away files nothing keeps. It guards the organiser's disk with a per-client rate limit, a free-space floor
// and an optional cap on the total stored. The rest of the server keeps a file (a pinned object, an avatar, a
// scene) with Service.Keep and lets it go with Release. docs/content.md "Files" is the contract.
package uploads

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"toncon/internal/auth"
	"toncon/internal/gltf"
	"toncon/internal/store"
)

// DefaultTTL is how long an upload lives unless something keeps it, and how long a released file stays.
const DefaultTTL = 48 * time.Hour

// MaxLimit is the largest size limit the defaults use: Spoke's 128 MB cap.
const MaxLimit = 128 << 20

// Limits are the largest uploads accepted, in bytes, per kind.
type Limits struct {
	Image, Model, Video, Audio, PDF int64
}

// DefaultLimits are the limits when none are configured.
var DefaultLimits = Limits{Image: 32 << 20, Model: MaxLimit, Video: MaxLimit, Audio: 64 << 20, PDF: 64 << 20}

// For returns the limit of kind k (0 for an unknown kind).
func (l Limits) For(k Kind) int64 {
	switch k {
	case KindImage:
		return l.Image
	case KindModel:
		return l.Model
	case KindVideo:
		return l.Video
	case KindAudio:
		return l.Audio
	case KindPDF:
		return l.PDF
	}
	return 0
}

func (l Limits) largest() int64 { return max(l.Image, l.Model, l.Video, l.Audio, l.PDF) }

// Store is what the service needs from the database: the files, and the accounts behind account tokens.
type Store interface {
	store.Files
	store.Accounts
}

// Config is what New needs.
type Config struct {
	Store     Store
	Dir       string     // where blobs go: <data>/files
	PublicURL *url.URL   // for the origin URLs in answers
	Keys      *auth.Keys // verifies account tokens; nil refuses them (uploads are then anonymous only)
	Limits    Limits     // zero fields take DefaultLimits
	TTL       time.Duration
	Now       func() time.Time
	Log       *slog.Logger

	// Operator protection (docs/content.md "Files"); the zero value of each turns it off.
	Rate RateLimit // uploads per client: 429 with Retry-After beyond it
	// MinFree: refuse uploads (507) that would leave less than this many bytes free on Dir's file system.
	// MaxTotal: refuse uploads (507) that would make the stored blobs take more than this many bytes.
	MinFree, MaxTotal int64
	// FreeSpace reports the bytes free on dir's file system; default statfs. Tests inject one.
	FreeSpace func(dir string) (uint64, error)
}

// Service stores, serves and sweeps uploads.
type Service struct {
	cfg Config

	// blobs serialises publishing a blob (rename, then insert the row) with removing one (no row uses it, then
	// delete): without it the sweeper could delete a blob between an upload's rename and its insert. The data
	// folder is locked to one process, so a process-wide lock is enough.
	blobs   sync.Mutex
	pending map[string]bool // guarded by blobs: temp files of uploads in progress, which the sweeper leaves alone

	rate  *limiter // nil: no rate limit
	quota *quota
}

// Errors of Keep, Release and Get. They wrap the store's sentinels where one applies.
var (
	// ErrNotFound: no such file, or it expired.
	ErrNotFound = fmt.Errorf("file %w", store.ErrNotFound)
	// ErrForbidden: the access token is not the file's.
	ErrForbidden = errors.New("wrong file access token")
)

// New checks cfg and makes the service. The blob folder must exist.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Dir == "" || cfg.PublicURL == nil {
		return nil, errors.New("uploads: Store, Dir and PublicURL are required")
	}
	if fi, err := os.Stat(cfg.Dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("uploads: the files folder %s is missing: %v", cfg.Dir, err)
	}
	def := DefaultLimits
	for _, p := range []struct{ v, d *int64 }{{&cfg.Limits.Image, &def.Image}, {&cfg.Limits.Model, &def.Model},
		{&cfg.Limits.Video, &def.Video}, {&cfg.Limits.Audio, &def.Audio}, {&cfg.Limits.PDF, &def.PDF}} {
		if *p.v < 0 {
			return nil, fmt.Errorf("uploads: a size limit is negative (%d)", *p.v)
		}
		if *p.v == 0 {
			*p.v = *p.d
		}
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, pending: map[string]bool{}}
	var err error
	if s.rate, err = newLimiter(cfg.Rate); err != nil {
		return nil, err
	}
	if s.quota, err = newQuota(cfg.Dir, cfg.MinFree, cfg.MaxTotal, cfg.FreeSpace); err != nil {
		return nil, err
	}
	if cfg.MinFree > 0 {
		if _, err := s.quota.free(cfg.Dir); err != nil {
			cfg.Log.Warn("the free disk space cannot be read here, so uploads are not refused when it runs low",
				"dir", cfg.Dir, "err", err)
		}
	}
	cfg.Log.Info("upload protection", "rate_per_hour", cfg.Rate.PerHour, "rate_burst", cfg.Rate.Burst,
		"min_free_bytes", cfg.MinFree, "max_total_bytes", cfg.MaxTotal, "stored_bytes", s.quota.stored)
	return s, nil
}

// Limits returns the size limits in force.
func (s *Service) Limits() Limits { return s.cfg.Limits }

// Get returns a file that exists and has not expired, else ErrNotFound. It does not check any token: callers that
// hand the file to someone must (see CanRead).
func (s *Service) Get(ctx context.Context, id store.FileID) (store.File, error) {
	if !id.Valid() {
		return store.File{}, fmt.Errorf("%w: %q is not a file id", ErrNotFound, id)
	}
	f, err := s.cfg.Store.GetFile(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.File{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return store.File{}, err
	}
	if !f.Kept() && !f.ExpiresAt.After(s.cfg.Now()) {
		return store.File{}, fmt.Errorf("%w: %s expired", ErrNotFound, id)
	}
	return f, nil
}

// CanRead reports whether accessToken lets its holder read f: always for a kept file, else only the file's own.
func CanRead(f store.File, accessToken string) bool {
	return f.Kept() || f.TokenMatches(accessToken)
}

// Open returns the file's metadata and its blob, opened for reading (the caller closes it). Same errors as Get.
func (s *Service) Open(ctx context.Context, id store.FileID) (store.File, *os.File, error) {
	f, err := s.Get(ctx, id)
	if err != nil {
		return store.File{}, nil, err
	}
	blob, err := os.Open(s.blobPath(f.SHA256))
	if err != nil {
		return store.File{}, nil, fmt.Errorf("open the blob of file %s: %w", id, err)
	}
	return f, blob, nil
}

// Keep records that ref (e.g. "pin:<hub_sid>:<object_id>", "avatar:<sid>") uses the file, so it no longer expires
// and is served without its token. The access token must be the file's (ErrForbidden), even when the file is
// already kept by something else; an unknown or expired file is ErrNotFound. Keeping twice with one ref is fine.
func (s *Service) Keep(ctx context.Context, id store.FileID, accessToken, ref string) error {
	f, err := s.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("keep file: %w", err)
	}
	if !f.TokenMatches(accessToken) {
		return fmt.Errorf("keep file %s: %w", id, ErrForbidden)
	}
	if err := s.cfg.Store.AddFileRef(ctx, id, ref, s.cfg.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("keep file %s: %w", id, ErrNotFound)
		}
		return err
	}
	return nil
}

// Release removes ref from the file; when nothing keeps it any more it expires TTL (48 h) from now. Releasing a ref
// the file does not have is not an error; an unknown file (already swept) is ErrNotFound.
func (s *Service) Release(ctx context.Context, id store.FileID, ref string) error {
	if _, err := s.cfg.Store.RemoveFileRef(ctx, id, ref, s.cfg.Now().Add(s.cfg.TTL)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("release file %s: %w", id, ErrNotFound)
		}
		return err
	}
	return nil
}

// Origin is the URL the file is served at.
func (s *Service) Origin(f store.File) string { return FileURL(s.cfg.PublicURL, f.ID, f.ContentType) }

// FileURL is where the file id of the given content type is served under public: <public>/files/<id>.<ext>, the
// ending loaders look for. Avatars and scenes name their glb with it too, so every file URL is built alike.
func FileURL(public *url.URL, id store.FileID, contentType string) string {
	u := *public
	u.Path = strings.TrimSuffix(u.Path, "/") + "/files/" + string(id)
	if ext := Extension(contentType); ext != "" {
		u.Path += "." + ext
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

func (s *Service) blobPath(sum string) string {
	return filepath.Join(s.cfg.Dir, sum[:2], sum)
}

// UploadError is a refused upload: the HTTP status, a code for programs and a message for people.
type UploadError struct {
	Status  int
	Code    string
	Message string
}

func (e *UploadError) Error() string { return e.Code + ": " + e.Message }

func refuse(status int, code, format string, args ...any) *UploadError {
	return &UploadError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// CleanName checks an uploader's file name and returns the name to keep. Names are taken as given or refused,
// never rewritten: a name with a path in it (/ or \), "." or "..", control characters (NUL included), invalid
// UTF-8 or more than store.MaxFileNameLen bytes is an error, so nobody is surprised by what we stored. Surrounding
// spaces are trimmed; "" is allowed (the part had no file name).
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name):
		return "", errors.New("the file name is not valid UTF-8")
	case len(name) > store.MaxFileNameLen:
		return "", fmt.Errorf("the file name is %d bytes long; at most %d are allowed", len(name), store.MaxFileNameLen)
	case strings.ContainsAny(name, `/\`):
		return "", fmt.Errorf("the file name %q contains a path; send the base name only", name)
	case name == "." || name == "..":
		return "", fmt.Errorf("%q is not a file name", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", errors.New("the file name contains control characters")
	}
	return name, nil
}

// Put stores the content read from r as a new file named name, uploaded by account (0: nobody). It refuses, with
// an *UploadError, content of no accepted type (415), content over its kind's limit (413: it stops reading there),
// broken models or bad names (422), and content that would cross the free-space floor or the storage cap (507: it
// stops reading there too). On any error nothing is stored and no temporary file is left.
func (s *Service) Put(ctx context.Context, r io.Reader, name string, account store.AccountID) (store.File, error) {
	clean, err := CleanName(name)
	if err != nil {
		return store.File{}, refuse(422, "invalid_file", "%s", err.Error())
	}
	share, err := s.quota.begin()
	if err != nil {
		return store.File{}, s.quota.refusal(err, false)
	}
	defer share.end()
	head := make([]byte, SniffBytes)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return store.File{}, fmt.Errorf("read the upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return store.File{}, refuse(415, "unsupported_type", "the file is empty")
	}
	ctype := Sniff(head)
	if ctype == "" {
		return store.File{}, refuse(415, "unsupported_type", "the content is not an accepted type (PNG, JPEG, GIF, "+
			"WebP, glTF/GLB, MP4, WebM, MP3, Ogg, WAV or PDF); the file name and declared type are not trusted")
	}
	kind := KindOf(ctype)
	limit := s.cfg.Limits.For(kind)

	tmp, err := s.newTemp()
	if err != nil {
		return store.File{}, err
	}
	defer s.dropTemp(tmp) // removes the temp file unless it was renamed into place
	h := sha256.New()
	w := io.MultiWriter(share, tmp, h) // share first: bytes past the floor or cap are never written
	// Read one byte past the limit, so an exact-limit file passes and one over it is caught.
	size, err := io.Copy(w, io.LimitReader(io.MultiReader(bytes.NewReader(head), r), limit+1))
	if err != nil {
		if ue := s.quota.refusal(err, true); ue != nil {
			return store.File{}, ue
		}
		return store.File{}, uploadReadError(err)
	}
	if size > limit {
		return store.File{}, refuse(413, "too_large", "%s files may be at most %s", kind, humanBytes(limit))
	}
	if err := tmp.Sync(); err != nil {
		return store.File{}, fmt.Errorf("write the upload: %w", err)
	}
	if kind == KindModel {
		if _, err := gltf.InspectReader(tmp, size, gltf.Options{MaxBufferBytes: limit}); err != nil {
			if errors.Is(err, gltf.ErrNotGLTF) {
				return store.File{}, refuse(415, "unsupported_type", "the content is not an accepted type: %v", err)
			}
			return store.File{}, refuse(422, "invalid_file", "%v", err)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	now := s.cfg.Now()
	f := store.File{ID: store.NewFileID(), SHA256: sum, ContentType: ctype, Size: size, Name: clean,
		AccessToken: newToken(), Account: account, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TTL)}
	return s.publish(ctx, tmp, f)
}

// publish moves the temp file into its blob's place and inserts the row, under the blob lock.
func (s *Service) publish(ctx context.Context, tmp *os.File, f store.File) (store.File, error) {
	s.blobs.Lock()
	defer s.blobs.Unlock()
	dst := s.blobPath(f.SHA256)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return store.File{}, fmt.Errorf("store the upload: %w", err)
	}
	// The same content may be there already; rename replaces it with identical bytes, atomically.
	_, statErr := os.Stat(dst)
	isNew := errors.Is(statErr, os.ErrNotExist)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return store.File{}, fmt.Errorf("store the upload: %w", err)
	}
	delete(s.pending, tmp.Name())
	// The row must not outlive the blob's name after a power cut: make the rename durable before recording it.
	if d, err := os.Open(filepath.Dir(dst)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	stored, err := s.cfg.Store.CreateFile(ctx, f)
	if err != nil {
		// Remove the blob again unless another row already used it.
		if used, uerr := s.cfg.Store.BlobInUse(context.WithoutCancel(ctx), f.SHA256); uerr == nil && !used {
			if os.Remove(dst) == nil && !isNew {
				s.quota.addStored(-f.Size) // an orphan blob with this content was there before, and is gone now
			}
		}
		return store.File{}, fmt.Errorf("record the upload: %w", err)
	}
	if isNew {
		s.quota.addStored(f.Size)
	}
	return stored, nil
}

// newTemp creates a temp file in the files folder (so the final rename stays on one file system) and registers it
// as in progress.
func (s *Service) newTemp() (*os.File, error) {
	// Create and register under the lock: otherwise the sweeper could see the new file before it is registered
	// and remove it as a crash's leftover.
	s.blobs.Lock()
	defer s.blobs.Unlock()
	tmp, err := os.CreateTemp(s.cfg.Dir, tempPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("store the upload: %w", err)
	}
	s.pending[tmp.Name()] = true
	return tmp, nil
}

func (s *Service) dropTemp(tmp *os.File) {
	tmp.Close()
	s.blobs.Lock()
	defer s.blobs.Unlock()
	if s.pending[tmp.Name()] {
		delete(s.pending, tmp.Name())
		if err := os.Remove(tmp.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.cfg.Log.Warn("removing a temporary upload", "file", tmp.Name(), "err", err)
		}
	}
}

// tempPrefix starts the names of uploads in progress in the files folder.
const tempPrefix = ".upload-"

func newToken() string {
	var b [16]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// uploadReadError turns a failure to read the request into an UploadError when it is the client's doing.
func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return refuse(413, "too_large", "the request body is larger than %s", humanBytes(tooBig.Limit))
	}
	return refuse(400, "bad_request", "the upload could not be read: %v", err)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
