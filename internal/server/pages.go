package server

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"toncon/internal/store"
	"toncon/web"
)

// webApp serves the built web apps: the home page at /, the room page at /<hub_sid> and /<hub_sid>/<slug>,
// Vite's content-hashed assets (cached for a year), the built-in sample scenes under /samples/, and each room's
// pinned objects at /<hub_sid>/objects.gltf.
type webApp struct {
	offline gate
	objects objectsDoc
	dist    fs.FS
	samples http.Handler
	assets  http.Handler
	home    []byte
	room    []byte
	cost    []byte
	verify  []byte
}

func init() {
	// Go does not know glTF; browsers and loaders expect these types.
	_ = mime.AddExtensionType(".glb", "model/gltf-binary")
	_ = mime.AddExtensionType(".gltf", "model/gltf+json")
}

// gate says whether the site is offline, why, and where to send people; nil means never.
type gate func(ctx context.Context) (offline bool, reason, redirect string)

// objectsDoc returns a room's pinned objects as a glTF document (hub.Service.ObjectsGLTF); errors matching
// store.ErrNotFound mean no such room.
type objectsDoc func(ctx context.Context, sid store.HubSID) ([]byte, error)

func newWebApp(offline gate, objects objectsDoc) (*webApp, error) {
	dist := web.Dist()
	home, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		return nil, err
	}
	room, err := fs.ReadFile(dist, "hub.html")
	if err != nil {
		return nil, err
	}
	cost, err := fs.ReadFile(dist, "cost.html")
	if err != nil {
		return nil, err
	}
	verify, err := fs.ReadFile(dist, "verify.html")
	if errors.Is(err, fs.ErrNotExist) {
		verify = verifyNotBuilt // a build of web/dist from before the sign-in page
	} else if err != nil {
		return nil, err
	}
	return &webApp{
		verify:  verify,
		cost:    cost,
		offline: offline,
		objects: objects,
		dist:    dist,
		home:    home,
		room:    room,
		assets:  http.FileServerFS(dist),
		samples: http.StripPrefix("/samples/", http.FileServerFS(web.Samples())),
	}, nil
}

func (a *webApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case isObjectsPath(p): // before room pages, which /<hub_sid>/objects.gltf would also match
		a.serveObjects(w, r, store.HubSID(strings.Split(strings.Trim(p, "/"), "/")[0]))
	case (p == "/" || isRoomPath(p)) && a.showOffline(w, r):
	case p == "/":
		a.page(w, r, "index.html", a.home)
	case p == "/verify":
		// The sign-in link's page: its URL holds a one-time token, which must not leak to other sites.
		w.Header().Set("Referrer-Policy", "no-referrer")
		a.page(w, r, "verify.html", a.verify)
	case p == "/cost":
		// The planner stays reachable offline: it is how an operator decides when to come back.
		a.page(w, r, "cost.html", a.cost)
	case strings.HasPrefix(p, "/assets/"):
		// Vite puts a content hash in every asset name, so a name never changes meaning.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		a.assets.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/samples/"):
		w.Header().Set("Cache-Control", "public, max-age=86400")
		a.samples.ServeHTTP(w, r)
	case isRoomPath(p):
		a.page(w, r, "hub.html", a.room)
	default:
		http.NotFound(w, r)
	}
}

// showOffline answers a page request while the site is offline: a 307 to the operator's redirect URL, or an
// offline page. It reports whether it answered.
func (a *webApp) showOffline(w http.ResponseWriter, r *http.Request) bool {
	if a.offline == nil {
		return false
	}
	off, reason, redirect := a.offline(r.Context())
	if !off {
		return false
	}
	w.Header().Set("Cache-Control", "no-store")
	if redirect != "" {
		http.Redirect(w, r, redirect, http.StatusTemporaryRedirect)
		return true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Retry-After", "600")
	w.WriteHeader(http.StatusServiceUnavailable)
	why := "The organiser has taken this server offline for now."
	if reason == "budget" {
		why = "This server has reached its budget for the month and is offline until the organiser raises it."
	}
	_ = offlinePage.Execute(w, why)
	return true
}

var offlinePage = template.Must(template.New("offline").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Offline</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style>
</head><body><h1>This server is offline</h1><p>{{.}}</p><p>Please come back later.</p></body></html>`))

var verifyNotBuilt = []byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in page missing</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style>
</head><body><h1>The sign-in page is missing</h1><p>This toncon was built without its sign-in page, so the link
cannot be completed here. Whoever runs this server can fix it by rebuilding the web apps (<code>make web</code>)
and then toncon.</p></body></html>`)

// isRoomPath matches /<hub_sid> and /<hub_sid>/<slug>.
func isRoomPath(p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) > 2 || !store.HubSID(parts[0]).Valid() {
		return false
	}
	return len(parts) == 1 || path.Clean(parts[1]) == parts[1]
}

// isObjectsPath matches /<hub_sid>/objects.gltf.
func isObjectsPath(p string) bool {
	sid, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	return ok && rest == "objects.gltf" && store.HubSID(sid).Valid()
}

// serveObjects answers GET /<hub_sid>/objects.gltf: the room's pinned objects, which the client loads after joining
// (docs/content.md). Pins change at any time, so it is revalidated on every load.
func (a *webApp) serveObjects(w http.ResponseWriter, r *http.Request, sid store.HubSID) {
	if a.objects == nil {
		http.NotFound(w, r)
		return
	}
	doc, err := a.objects(r.Context(), sid)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no such room", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "the room's objects could not be read; try again", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "model/gltf+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "objects.gltf", time.Time{}, bytes.NewReader(doc))
}

// page serves an HTML entry page; it must be revalidated so a new build reaches people at once.
func (a *webApp) page(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}
