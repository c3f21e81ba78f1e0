package api

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync"

	"toncon/internal/gltf"
	"toncon/internal/store"
)

// The glb files of avatars and scenes: checking an upload, keeping it under the row's ref, and swapping the file a
// row keeps for another (docs/content.md, "Avatars" and "Scenes").

// fileProblem is a reason to refuse an upload as an avatar or scene, said to the person who sent it.
type fileProblem struct{ message string }

func (p *fileProblem) Error() string { return p.message }

func refuseFile(format string, args ...any) error { return &fileProblem{fmt.Sprintf(format, args...)} }

// checkModel opens an upload, checks its access token and that it is a glb that parses (within the model size
// limit), and returns what gltf.Inspect learned. Errors are *fileProblem for what the sender must fix.
func (a *API) checkModel(ctx context.Context, id store.FileID, token string) (gltf.Info, error) {
	if a.cfg.Files == nil {
		return gltf.Info{}, refuseFile("this server does not keep uploaded files")
	}
	if id == "" || token == "" {
		return gltf.Info{}, refuseFile("give the upload's file_id and file_access_token (from POST /api/v1/media)")
	}
	if !id.Valid() {
		return gltf.Info{}, refuseFile("%q is not a file id", id)
	}
	f, blob, err := a.cfg.Files.Open(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return gltf.Info{}, refuseFile("there is no upload %s, or it expired: upload the file again", id)
	}
	if err != nil {
		return gltf.Info{}, err
	}
	defer blob.Close()
	if !f.TokenMatches(token) {
		return gltf.Info{}, refuseFile("file_access_token is not the access token of upload %s", id)
	}
	if f.ContentType != "model/gltf-binary" {
		return gltf.Info{}, refuseFile("the file is %s, not a glb (model/gltf-binary)", f.ContentType)
	}
	if limit := a.cfg.MaxModelBytes; limit > 0 && f.Size > limit {
		return gltf.Info{}, refuseFile("the glb is %d bytes; models may be at most %d", f.Size, limit)
	}
	info, err := gltf.InspectReader(blob, f.Size, gltf.Options{MaxBufferBytes: a.cfg.MaxModelBytes})
	if err != nil {
		if errors.Is(err, gltf.ErrInvalid) || errors.Is(err, gltf.ErrNotGLTF) {
			return gltf.Info{}, refuseFile("the glb does not parse: %v", err)
		}
		return gltf.Info{}, err
	}
	if !info.Binary {
		return gltf.Info{}, refuseFile("the file is glTF JSON, not a glb")
	}
	return info, nil
}

// keepModel checks an upload for a row (checkModel, then want, when not nil, on what the glb holds) and keeps it
// under ref. Errors are *fileProblem for what the sender must fix, including an upload that expired meanwhile.
func (a *API) keepModel(ctx context.Context, id store.FileID, token, ref string, want func(gltf.Info) error) error {
	if err := a.checkModelFor(ctx, id, token, want); err != nil {
		return err
	}
	return a.keepFile(ctx, id, token, ref)
}

// checkModelFor is checkModel, then want (when not nil) on what the glb holds.
func (a *API) checkModelFor(ctx context.Context, id store.FileID, token string, want func(gltf.Info) error) error {
	info, err := a.checkModel(ctx, id, token)
	if err != nil {
		return err
	}
	if want != nil {
		return want(info)
	}
	return nil
}

// keepFile keeps a checked upload under ref; an upload that expired meanwhile is a *fileProblem.
func (a *API) keepFile(ctx context.Context, id store.FileID, token, ref string) error {
	if err := a.cfg.Files.Keep(ctx, id, token, ref); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return refuseFile("upload %s expired meanwhile: upload the file again", id)
		}
		return err
	}
	return nil
}

// modelSwap is a change of the glb a row (an avatar, a scene) keeps under Ref.
type modelSwap struct {
	Ref     string
	Current store.FileID          // the row's file as it was loaded
	New     store.FileID          // the upload to show instead; "" leaves the file alone
	Token   string                // New's access token
	Want    func(gltf.Info) error // what this kind of row needs of the glb besides checkModel; nil for nothing
}

// swapModel runs update, the row's change, around a change of its file: the new upload is checked and kept under
// the ref before update runs, and the file the row had before (update returns it) is released after, so it expires
// as docs/content.md says; when the check or update fails, the new file is let go again, so a refused change
// leaves the row and every file's refs as they were. Errors are *fileProblem for the upload, or update's own.
//
// A file's refs are a set, not counted, so two swaps of one row must not interleave: one that sends the file the
// row has would keep it (nothing to add), and the other's release of that same file after its update would take
// the ref the row then needs. The keep, the update and the release therefore run under the row's lock; the
// check, which reads the whole glb, runs before it.
func (a *API) swapModel(ctx context.Context, s modelSwap, update func() (before store.FileID, err error)) error {
	if s.New == "" && s.Token != "" {
		return refuseFile("give the file_id of the upload that file_access_token belongs to")
	}
	if s.New != "" {
		if err := a.checkModelFor(ctx, s.New, s.Token, s.Want); err != nil {
			return err
		}
	}
	unlock := a.swaps.lock(s.Ref)
	defer unlock()
	if s.New != "" {
		if err := a.keepFile(ctx, s.New, s.Token, s.Ref); err != nil {
			return err
		}
	}
	before, err := update()
	if err != nil {
		// The row still shows Current, so a re-sent Current keeps its ref, unless the row is gone (deleted
		// meanwhile): then nothing needs the ref the keep may have put back.
		if s.New != "" && (s.New != s.Current || errors.Is(err, store.ErrNotFound)) {
			a.releaseFile(ctx, s.New, s.Ref)
		}
		return err
	}
	if s.New != "" && before != s.New {
		a.releaseFile(ctx, before, s.Ref)
	}
	return nil
}

// swapLocks serialises swapModel per row ref. A fixed set of mutexes, picked by the ref's hash, keeps memory
// bounded; two rows that share one only wait for each other's keep, update and release (milliseconds).
type swapLocks [64]sync.Mutex

func (l *swapLocks) lock(ref string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(ref))
	m := &l[h.Sum32()%uint32(len(l))]
	m.Lock()
	return m.Unlock
}

// swapError answers a swapModel failure: as fileError, and 404 notFound when the row is gone.
func (a *API) swapError(w http.ResponseWriter, what, notFound string, err error) {
	var p *fileProblem
	if !errors.As(err, &p) && errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", notFound)
		return
	}
	a.fileError(w, what, err)
}

// fileError answers a keepModel failure: 422 invalid_file for the upload (keepModel says an expired one so too).
func (a *API) fileError(w http.ResponseWriter, what string, err error) {
	var p *fileProblem
	if errors.As(err, &p) {
		writeError(w, http.StatusUnprocessableEntity, "invalid_file", p.message)
		return
	}
	a.internal(w, what, err)
}

// releaseFile lets a file go; a failure only keeps it longer, so it is logged.
func (a *API) releaseFile(ctx context.Context, id store.FileID, ref string) {
	if err := a.cfg.Files.Release(ctx, id, ref); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.cfg.Log.Warn("release file", "file", id, "ref", ref, "err", err)
	}
}
