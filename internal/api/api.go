// Package api serves toncon's HTTP API under /api/v1 and the health check: JSON in and out, bounded request
// bodies, and errors as {"error": code, "message": what to do} with the matching status.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"toncon/internal/auth"
	"toncon/internal/cost"
	"toncon/internal/httpjson"
	"toncon/internal/hub"
	"toncon/internal/ops"
	"toncon/internal/store"
	"toncon/internal/version"
)

// MaxBodyBytes bounds JSON request bodies; the API takes small documents only (uploads have their own limits).
const MaxBodyBytes = 64 << 10

// Config is what the API needs.
type Config struct {
	Store     store.Store
	Hubs      *hub.Service
	PublicURL *url.URL
	Log       *slog.Logger
	Now       func() time.Time
	// Ops is the usage meter; nil leaves /api/v1/usage out and /health without the idle signal.
	Ops *ops.Ops
	// Capacity is measured capacity from toncon loadtest, offered to the planner; nil when none was given.
	Capacity *cost.Capacity
	// Keys checks account tokens for the avatar and scene endpoints; nil refuses signed-in requests there.
	Keys *auth.Keys
	// Files is the uploads service that avatars and scenes keep their glb files with; nil refuses new ones.
	Files Files
	// MaxModelBytes is the largest glb an avatar or scene may be (the uploads' model limit); 0 = no extra limit.
	MaxModelBytes int64
}

// API is the HTTP handler for /api/v1 and /health.
type API struct {
	cfg Config
	mux *http.ServeMux

	swaps swapLocks // one row's file swaps run one at a time: see swapModel
}

// New makes the API handler.
func New(cfg Config) *API {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	a.mux.HandleFunc("POST /api/v1/hubs", a.createHub)
	a.mux.HandleFunc("GET /api/v1/hubs/{sid}", a.getHub)
	a.mux.HandleFunc("GET /api/v1/meta", a.meta)
	a.mux.HandleFunc("GET /health", a.health)
	a.mux.HandleFunc("GET /api/v1/cost/charts", a.costCharts)
	a.mux.HandleFunc("POST /api/v1/cost/estimate", a.costEstimate)
	if cfg.Ops != nil {
		a.mux.HandleFunc("GET /api/v1/usage", a.usage)
	}
	a.mux.HandleFunc("GET /api/v1/avatars", a.listAvatars)
	a.mux.HandleFunc("POST /api/v1/avatars", a.createAvatar)
	a.mux.HandleFunc("GET /api/v1/avatars/{sid}", a.getAvatar)
	a.mux.HandleFunc("PATCH /api/v1/avatars/{sid}", a.updateAvatar)
	a.mux.HandleFunc("DELETE /api/v1/avatars/{sid}", a.deleteAvatar)
	a.mux.HandleFunc("GET /api/v1/scenes", a.listScenes)
	a.mux.HandleFunc("POST /api/v1/scenes", a.createScene)
	a.mux.HandleFunc("GET /api/v1/scenes/{sid}", a.getScene)
	a.mux.HandleFunc("PATCH /api/v1/scenes/{sid}", a.updateScene)
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(&jsonMuxErrors{ResponseWriter: w, r: r}, r)
}

// jsonMuxErrors turns the mux's own plain-text 404 and 405 answers into JSON errors, so API clients always
// get {error, message}.
type jsonMuxErrors struct {
	http.ResponseWriter
	r       *http.Request
	swallow bool
}

func (j *jsonMuxErrors) WriteHeader(code int) {
	if j.Header().Get("Content-Type") != "application/json" {
		switch code {
		case http.StatusNotFound:
			j.swallow = true
			writeError(j.ResponseWriter, code, "not_found", "no API endpoint "+j.r.Method+" "+j.r.URL.Path)
			return
		case http.StatusMethodNotAllowed:
			j.swallow = true
			writeError(j.ResponseWriter, code, "method_not_allowed", j.r.URL.Path+" takes "+j.Header().Get("Allow"))
			return
		}
	}
	j.ResponseWriter.WriteHeader(code)
}

func (j *jsonMuxErrors) Write(b []byte) (int, error) {
	if j.swallow {
		return len(b), nil
	}
	return j.ResponseWriter.Write(b)
}

// decodeBody reads a bounded JSON body into v, answering the client itself when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
		} else {
			writeError(w, http.StatusBadRequest, "bad_request", "the body is not valid JSON: "+err.Error())
		}
		return false
	}
	return true
}

type createHubRequest struct {
	Hub *struct {
		Name        *string `json:"name"`
		Description string  `json:"description"`
		SceneID     string  `json:"scene_id"`
	} `json:"hub"`
}

func (a *API) createHub(w http.ResponseWriter, r *http.Request) {
	var req createHubRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Hub == nil || req.Hub.Name == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_hub", `send {"hub": {"name": "My room"}}`)
		return
	}
	name := strings.TrimSpace(*req.Hub.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 64 {
		writeError(w, http.StatusUnprocessableEntity, "invalid_hub", "the room name must be 1 to 64 characters")
		return
	}
	ctx := r.Context()
	sceneRef := ""
	if id := strings.TrimSpace(req.Hub.SceneID); id != "" {
		ref, err := a.cfg.Hubs.SceneRefFor(ctx, id)
		if err != nil {
			writeError(w, http.StatusUnprocessableEntity, "invalid_hub", fmt.Sprintf("scene_id %q: %v; leave scene_id out for the default scene, or give an uploaded scene's id or a built-in sample such as sample:spoke-dev_reticulum-test-fixture", id, err))
			return
		}
		sceneRef = ref
	}
	settings, err := a.cfg.Store.SiteSettings(ctx)
	if err != nil {
		a.internal(w, "load site settings", err)
		return
	}
	if settings.DisableRoomCreation {
		writeError(w, http.StatusForbidden, "room_creation_disabled", "this server does not let people create rooms; ask an admin")
		return
	}
	token, err := randomHex(16)
	if err != nil {
		a.internal(w, "make creator token", err)
		return
	}
	h := store.Hub{
		Name: name, Slug: store.Slugify(name), Description: req.Hub.Description, EntryMode: store.EntryAllow,
		RoomSize: settings.DefaultRoomSize, MemberPermissions: settings.DefaultMemberPermissions(),
		SceneRef: sceneRef, CreatorAssignmentToken: token,
	}
	created, err := a.insertHub(ctx, h)
	switch {
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusUnprocessableEntity, "invalid_hub", err.Error())
		return
	case err != nil:
		a.internal(w, "create hub", err)
		return
	}
	a.cfg.Log.Info("room created", "hub", created.SID, "name", created.Name)
	writeJSON(w, http.StatusCreated, map[string]any{
		"status": "ok", "hub_id": created.SID, "url": hub.RoomURL(a.cfg.PublicURL, created),
		"creator_assignment_token": created.CreatorAssignmentToken,
	})
}

// insertHub creates h under a fresh SID, trying again in the unlikely event that the SID is taken.
func (a *API) insertHub(ctx context.Context, h store.Hub) (store.Hub, error) {
	var err error
	for range 5 {
		h.SID = store.NewSID()
		var created store.Hub
		created, err = a.cfg.Store.CreateHub(ctx, h)
		if !errors.Is(err, store.ErrConflict) {
			return created, err
		}
	}
	return store.Hub{}, err
}

func (a *API) getHub(w http.ResponseWriter, r *http.Request) {
	sid := store.HubSID(r.PathValue("sid"))
	if !sid.Valid() {
		writeError(w, http.StatusNotFound, "not_found", "no room "+string(sid))
		return
	}
	h, err := a.cfg.Store.GetHub(r.Context(), sid)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no room "+string(sid))
		return
	}
	if err != nil {
		a.internal(w, "get hub", err)
		return
	}
	writeJSON(w, http.StatusOK, a.cfg.Hubs.View(h))
}

func (a *API) meta(w http.ResponseWriter, r *http.Request) {
	port := a.cfg.PublicURL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[a.cfg.PublicURL.Scheme]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": version.String(), "phx_host": a.cfg.PublicURL.Hostname(), "phx_port": port, "pool": "toncon",
	})
}

func (a *API) usage(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.cfg.Ops.Status(r.Context()))
}

// health answers load balancers and orchestrators. While the server is idle it answers from memory with
// idle: true, the signal to scale to zero, without waking the database.
func (a *API) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	body := map[string]any{"status": "ok", "version": version.String()}
	if a.cfg.Ops != nil {
		st := a.cfg.Ops.Status(ctx)
		body["idle"], body["offline"] = st.Idle, st.Offline
		if st.Idle {
			body["idle_since"] = st.IdleSince
			writeJSON(w, http.StatusOK, body)
			return
		}
	}
	if _, err := a.cfg.Store.SiteSettings(ctx); err != nil {
		a.cfg.Log.Error("health check: database", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "message": "the database does not answer"})
		return
	}
	body["rooms"], body["in_room"], body["in_lobby"] = a.cfg.Hubs.Totals()
	writeJSON(w, http.StatusOK, body)
}

func (a *API) internal(w http.ResponseWriter, what string, err error) {
	a.cfg.Log.Error(what, "err", err)
	writeError(w, http.StatusInternalServerError, "internal_error", "something went wrong on the server; the log says more")
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeJSON and writeError keep this package's many call sites short.
var (
	writeJSON  = httpjson.Write
	writeError = httpjson.Error
)
