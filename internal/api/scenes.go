package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"toncon/internal/hub"
	"toncon/internal/store"
	"toncon/web"
)

// Scenes: /api/v1/scenes lists the built-in sample scenes and every uploaded scene; signed-in people upload a glb
// as a scene, and its owner (or an admin) changes it (docs/content.md).

// sceneJSON is SCENE in docs/content.md.
type sceneJSON struct {
	SceneID       string `json:"scene_id"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	Attributions  string `json:"attributions"`
	AllowRemixing bool   `json:"allow_remixing"`
	ModelURL      string `json:"model_url"`
	URL           string `json:"url"`
	AccountID     string `json:"account_id,omitempty"`
	Builtin       bool   `json:"builtin"`
	Type          string `json:"type"`
}

func (a *API) sceneView(sc store.Scene) sceneJSON {
	return sceneJSON{SceneID: string(sc.SID), Name: sc.Name, Description: sc.Description, Attributions: sc.Attributions,
		AllowRemixing: sc.AllowRemixing, ModelURL: hub.SceneModelURL(a.cfg.PublicURL, sc),
		URL: hub.ScenePageURL(a.cfg.PublicURL, sc.SID), AccountID: accountString(sc.AccountID), Type: "scene"}
}

// builtinScenes are the sample glbs that are not avatars, in name order.
func (a *API) builtinScenes() []sceneJSON {
	names, _ := fs.Glob(web.Samples(), "*.glb")
	var out []sceneJSON
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".glb")
		if _, avatar := sampleAvatars[name]; avatar {
			continue
		}
		out = append(out, sceneJSON{SceneID: web.SamplePrefix + name, Name: name,
			Description:  "A built-in sample scene made for Mozilla Hubs",
			Attributions: "Mozilla Hubs, under the Mozilla Public License 2.0 (see " + a.publicURL("/samples/README.md") + ")",
			ModelURL:     a.publicURL("/samples/" + name + ".glb"), Builtin: true, Type: "scene"})
	}
	return out
}

type sceneRequest struct {
	Scene *struct {
		Name            *string      `json:"name"`
		Description     *string      `json:"description"`
		Attributions    *string      `json:"attributions"`
		AllowRemixing   *bool        `json:"allow_remixing"`
		FileID          store.FileID `json:"file_id"`
		FileAccessToken string       `json:"file_access_token"`
	} `json:"scene"`
}

// sceneFields validates the text fields a request sets, into u; it answers the client itself on failure.
func sceneFields(w http.ResponseWriter, req sceneRequest, u *store.SceneUpdate) bool {
	p := req.Scene
	if p.Name != nil {
		name, err := validLibraryName(*p.Name)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "invalid_scene", err.Error())
			return false
		}
		u.Name = &name
	}
	if p.Description != nil {
		if utf8.RuneCountInString(*p.Description) > store.MaxDescriptionLen {
			writeError(w, http.StatusUnprocessableEntity, "invalid_scene", fmt.Sprintf("the description must be at most %d characters", store.MaxDescriptionLen))
			return false
		}
		u.Description = p.Description
	}
	if p.Attributions != nil {
		if utf8.RuneCountInString(*p.Attributions) > store.MaxAttributionsLen {
			writeError(w, http.StatusUnprocessableEntity, "invalid_scene", fmt.Sprintf("the attributions must be at most %d characters", store.MaxAttributionsLen))
			return false
		}
		u.Attributions = p.Attributions
	}
	u.AllowRemixing = p.AllowRemixing
	return true
}

func (a *API) createScene(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountFrom(w, r, true)
	if !ok {
		return
	}
	var req sceneRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Scene == nil || req.Scene.Name == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_scene",
			`send {"scene": {"name", "description", "attributions", "allow_remixing", "file_id", "file_access_token"}}`)
		return
	}
	var u store.SceneUpdate
	if !sceneFields(w, req, &u) {
		return
	}
	ctx := r.Context()
	sc := store.Scene{SID: store.SceneSID(store.NewSID()), Name: *u.Name, FileID: req.Scene.FileID, AccountID: acct.ID}
	if u.Description != nil {
		sc.Description = *u.Description
	}
	if u.Attributions != nil {
		sc.Attributions = *u.Attributions
	}
	if u.AllowRemixing != nil {
		sc.AllowRemixing = *u.AllowRemixing
	}
	ref := store.SceneRef(sc.SID)
	if err := a.keepModel(ctx, sc.FileID, req.Scene.FileAccessToken, ref, nil); err != nil {
		a.fileError(w, "keep scene file", err)
		return
	}
	created, err := a.cfg.Store.CreateScene(ctx, sc)
	if err != nil {
		a.releaseFile(ctx, sc.FileID, ref)
		a.internal(w, "create scene", err)
		return
	}
	a.cfg.Log.Info("scene created", "scene", created.SID, "account", acct.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"scenes": []sceneJSON{a.sceneView(created)}})
}

func (a *API) listScenes(w http.ResponseWriter, r *http.Request) {
	stored, err := a.cfg.Store.ListScenes(r.Context())
	if err != nil {
		a.internal(w, "list scenes", err)
		return
	}
	out := a.builtinScenes()
	for _, sc := range stored {
		out = append(out, a.sceneView(sc))
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenes": out})
}

func (a *API) getScene(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sid")
	for _, b := range a.builtinScenes() {
		if b.SceneID == id {
			writeJSON(w, http.StatusOK, map[string]any{"scenes": []sceneJSON{b}})
			return
		}
	}
	sc, ok := a.loadScene(w, r)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"scenes": []sceneJSON{a.sceneView(sc)}})
	}
}

func (a *API) loadScene(w http.ResponseWriter, r *http.Request) (store.Scene, bool) {
	sid := store.SceneSID(r.PathValue("sid"))
	if !sid.Valid() {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no scene %q", sid))
		return store.Scene{}, false
	}
	sc, err := a.cfg.Store.GetScene(r.Context(), sid)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no scene %q", sid))
		return store.Scene{}, false
	}
	if err != nil {
		a.internal(w, "get scene", err)
		return store.Scene{}, false
	}
	return sc, true
}

// updateScene changes a scene's text, remixing flag or file; only its owner or an admin may. A new file is kept
// before the row changes and the old one released after (swapModel), so the scene always has a kept file.
func (a *API) updateScene(w http.ResponseWriter, r *http.Request) {
	acct, ok := a.accountFrom(w, r, true)
	if !ok {
		return
	}
	sc, ok := a.loadScene(w, r)
	if !ok {
		return
	}
	var req sceneRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Scene == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_scene", `send {"scene": {...the fields to change}}`)
		return
	}
	if sc.AccountID != acct.ID && !acct.IsAdmin {
		writeError(w, http.StatusForbidden, "forbidden", "only the scene's owner or an admin may change it")
		return
	}
	var u store.SceneUpdate
	if !sceneFields(w, req, &u) {
		return
	}
	ctx := r.Context()
	newFile := req.Scene.FileID
	if newFile != "" {
		u.FileID = &newFile
	}
	var after store.Scene
	err := a.swapModel(ctx, modelSwap{Ref: store.SceneRef(sc.SID), Current: sc.FileID, New: newFile,
		Token: req.Scene.FileAccessToken}, func() (store.FileID, error) {
		before, changed, err := a.cfg.Store.UpdateScene(ctx, sc.SID, u)
		after = changed
		return before.FileID, err
	})
	if err != nil {
		a.swapError(w, "update scene", fmt.Sprintf("no scene %q", sc.SID), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenes": []sceneJSON{a.sceneView(after)}})
}
