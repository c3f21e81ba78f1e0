package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"toncon/internal/auth"
	"toncon/internal/gltf"
	"toncon/internal/httpjson"
	"toncon/internal/store"
	"toncon/internal/uploads"
	"toncon/web"
)

// Avatars: /api/v1/avatars lists the built-in looks, the Hubs sample avatar, featured uploads and your own; signed-in
// people turn an uploaded glb with a Head or AvatarRoot node into an avatar (docs/content.md).

// Files is what the avatar and scene endpoints need of uploads: *uploads.Service. Open returns a file that exists
// and has not expired (errors matching store.ErrNotFound otherwise) with its blob; Keep and Release add and remove
// the refs that keep a file.
type Files interface {
	Open(ctx context.Context, id store.FileID) (store.File, *os.File, error)
	Keep(ctx context.Context, id store.FileID, accessToken, ref string) error
	Release(ctx context.Context, id store.FileID, ref string) error
}

// look is a built-in avatar the client draws from primitives (web/src/room/looks.js); it has no glb.
type look struct{ id, name string }

var builtinLooks = []look{{"builtin:sky", "Sky"}, {"builtin:moss", "Moss"}, {"builtin:ember", "Ember"}, {"builtin:dusk", "Dusk"}}

// sampleAvatars are the glb avatars among the built-in samples (web/samples), by file name without .glb.
var sampleAvatars = map[string]string{"hubs-default-avatar_v3": "Hubs default avatar"}

// avatarJSON is AVATAR in docs/content.md. GLTFURL is null for the built-in looks, which have no model.
type avatarJSON struct {
	AvatarID  string  `json:"avatar_id"`
	Name      string  `json:"name"`
	GLTFURL   *string `json:"gltf_url"`
	AccountID string  `json:"account_id,omitempty"`
	Featured  bool    `json:"featured"`
	Builtin   bool    `json:"builtin"`
	Type      string  `json:"type"`
}

func (a *API) publicURL(p string) string {
	u := *a.cfg.PublicURL
	u.Path, u.RawQuery, u.Fragment = p, "", ""
	return u.String()
}

// fileURL is where a kept glb upload is served.
func (a *API) fileURL(id store.FileID) string {
	return uploads.FileURL(a.cfg.PublicURL, id, uploads.TypeGLB)
}

func accountString(id store.AccountID) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(int64(id), 10)
}

func (a *API) avatarView(av store.Avatar) avatarJSON {
	u := a.fileURL(av.FileID)
	return avatarJSON{AvatarID: string(av.SID), Name: av.Name, GLTFURL: &u, AccountID: accountString(av.AccountID),
		Featured: av.Featured, Type: "avatar"}
}

// builtinAvatars are the looks and the sample avatars present in this build.
func (a *API) builtinAvatars() []avatarJSON {
	out := make([]avatarJSON, 0, len(builtinLooks)+len(sampleAvatars))
	for _, l := range builtinLooks {
		out = append(out, avatarJSON{AvatarID: l.id, Name: l.name, Featured: true, Builtin: true, Type: "avatar"})
	}
	for _, name := range slices.Sorted(maps.Keys(sampleAvatars)) {
		if _, err := fs.Stat(web.Samples(), name+".glb"); err != nil {
			continue
		}
		u := a.publicURL("/samples/" + name + ".glb")
		out = append(out, avatarJSON{AvatarID: web.SamplePrefix + name, Name: sampleAvatars[name], GLTFURL: &u,
			Featured: true, Builtin: true, Type: "avatar"})
	}
	return out
}

// accountFrom authenticates "Authorization: Bearer <account token>". With required false, a request without the
// header is anonymous (ok, zero account); a header with a bad token is refused either way, so a client learns its
// sign-in expired. It answers the client itself when it returns false.
func (a *API) accountFrom(w http.ResponseWriter, r *http.Request, required bool) (store.Account, bool) {
	token, ok := auth.BearerToken(r)
	if !ok || token == "" {
		if required {
			writeError(w, http.StatusUnauthorized, "unauthorized", "sign in first: send Authorization: Bearer <account token>")
			return store.Account{}, false
		}
		return store.Account{}, true
	}
	if a.cfg.Keys == nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", "this server does not take account tokens here")
		return store.Account{}, false
	}
	acct, err := auth.Authenticate(r.Context(), a.cfg.Keys, a.cfg.Store, token, a.cfg.Now())
	if err == nil {
		return acct, true
	}
	if !httpjson.TokenRefused(w, err) {
		a.internal(w, "check an account token", err)
	}
	return store.Account{}, false
}

// avatarShape is what an avatar needs of its glb besides checkModel: the Hubs avatar skeleton's Head or AvatarRoot.
func avatarShape(info gltf.Info) error {
	if !info.HasNode("Head") && !info.HasNode("AvatarRoot") {
		return refuseFile("an avatar's glb needs a node named Head or AvatarRoot (the Hubs avatar skeleton); this one has neither")
	}
	return nil
}

func validLibraryName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > store.MaxNameLen {
		return "", fmt.Errorf("the name must be 1 to %d characters", store.MaxNameLen)
	}
	return name, nil
}

type avatarRequest struct {
	Avatar *struct {
		Name            *string      `json:"name"`
		FileID          store.FileID `json:"file_id"`
		FileAccessToken string       `json:"file_access_token"`
		Featured        *bool        `json:"featured"`
	} `json:"avatar"`
}

func (a *API) createAvatar(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountFrom(w, r, true)
	if !ok {
		return
	}
	var req avatarRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Avatar == nil || req.Avatar.Name == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_avatar", `send {"avatar": {"name", "file_id", "file_access_token"}}`)
		return
	}
	name, err := validLibraryName(*req.Avatar.Name)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_avatar", err.Error())
		return
	}
	ctx := r.Context()
	sid := store.AvatarSID(store.NewSID())
	ref := store.AvatarRef(sid)
	if err := a.keepModel(ctx, req.Avatar.FileID, req.Avatar.FileAccessToken, ref, avatarShape); err != nil {
		a.fileError(w, "keep avatar file", err)
		return
	}
	av, err := a.cfg.Store.CreateAvatar(ctx, store.Avatar{SID: sid, Name: name, FileID: req.Avatar.FileID, AccountID: acct.ID})
	if err != nil {
		a.releaseFile(ctx, req.Avatar.FileID, ref)
		a.internal(w, "create avatar", err)
		return
	}
	a.cfg.Log.Info("avatar created", "avatar", av.SID, "account", acct.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"avatars": []avatarJSON{a.avatarView(av)}})
}

func (a *API) listAvatars(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountFrom(w, r, false)
	if !ok {
		return
	}
	stored, err := a.cfg.Store.ListAvatars(r.Context(), acct.ID)
	if err != nil {
		a.internal(w, "list avatars", err)
		return
	}
	out := a.builtinAvatars()
	for _, av := range stored {
		out = append(out, a.avatarView(av))
	}
	writeJSON(w, http.StatusOK, map[string]any{"avatars": out})
}

func (a *API) getAvatar(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sid")
	for _, b := range a.builtinAvatars() {
		if b.AvatarID == id {
			writeJSON(w, http.StatusOK, map[string]any{"avatars": []avatarJSON{b}})
			return
		}
	}
	av, ok := a.loadAvatar(w, r)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"avatars": []avatarJSON{a.avatarView(av)}})
	}
}

// loadAvatar reads the uploaded avatar named in the path, answering 404 itself.
func (a *API) loadAvatar(w http.ResponseWriter, r *http.Request) (store.Avatar, bool) {
	sid := store.AvatarSID(r.PathValue("sid"))
	if !sid.Valid() {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no avatar %q", sid))
		return store.Avatar{}, false
	}
	av, err := a.cfg.Store.GetAvatar(r.Context(), sid)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no avatar %q", sid))
		return store.Avatar{}, false
	}
	if err != nil {
		a.internal(w, "get avatar", err)
		return store.Avatar{}, false
	}
	return av, true
}

// updateAvatar renames an avatar or gives it another glb (its owner or an admin), or features it (an admin). A new
// file gets the checks a new avatar's does; it is kept before the row changes and the old one released after.
func (a *API) updateAvatar(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountFrom(w, r, true)
	if !ok {
		return
	}
	av, ok := a.loadAvatar(w, r)
	if !ok {
		return
	}
	var req avatarRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Avatar == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_avatar",
			`send {"avatar": {...the fields to change: name, file_id and file_access_token, featured}}`)
		return
	}
	if av.AccountID != acct.ID && !acct.IsAdmin {
		writeError(w, http.StatusForbidden, "forbidden", "only the avatar's owner or an admin may change it")
		return
	}
	var u store.AvatarUpdate
	if req.Avatar.Name != nil {
		name, err := validLibraryName(*req.Avatar.Name)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "invalid_avatar", err.Error())
			return
		}
		u.Name = &name
	}
	if req.Avatar.Featured != nil {
		if !acct.IsAdmin {
			writeError(w, http.StatusForbidden, "forbidden", "only an admin may feature avatars")
			return
		}
		u.Featured = req.Avatar.Featured
	}
	newFile := req.Avatar.FileID
	if newFile != "" {
		u.FileID = &newFile
	}
	ctx := r.Context()
	var after store.Avatar
	err := a.swapModel(ctx, modelSwap{Ref: store.AvatarRef(av.SID), Current: av.FileID, New: newFile,
		Token: req.Avatar.FileAccessToken, Want: avatarShape}, func() (store.FileID, error) {
		before, changed, err := a.cfg.Store.UpdateAvatar(ctx, av.SID, u)
		after = changed
		return before.FileID, err
	})
	if err != nil {
		a.swapError(w, "update avatar", fmt.Sprintf("no avatar %q", av.SID), err)
		return
	}
	if newFile != "" && newFile != av.FileID {
		a.cfg.Log.Info("avatar file replaced", "avatar", av.SID, "file", newFile, "by", acct.ID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"avatars": []avatarJSON{a.avatarView(after)}})
}

func (a *API) deleteAvatar(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountFrom(w, r, true)
	if !ok {
		return
	}
	av, ok := a.loadAvatar(w, r)
	if !ok {
		return
	}
	if av.AccountID != acct.ID && !acct.IsAdmin {
		writeError(w, http.StatusForbidden, "forbidden", "only the avatar's owner or an admin may delete it")
		return
	}
	deleted, err := a.cfg.Store.DeleteAvatar(r.Context(), av.SID)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no avatar %q", av.SID))
		return
	}
	if err != nil {
		a.internal(w, "delete avatar", err)
		return
	}
	if a.cfg.Files != nil {
		a.releaseFile(r.Context(), deleted.FileID, store.AvatarRef(deleted.SID))
	}
	a.cfg.Log.Info("avatar deleted", "avatar", deleted.SID, "by", acct.ID)
	writeJSON(w, http.StatusOK, map[string]any{"avatars": []avatarJSON{}})
}
