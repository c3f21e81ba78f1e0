package server

import (
	"bytes"
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
// Vite's content-hashed assets (cached for a year), and the built-in sample scenes under /samples/.
type webApp struct {
	dist    fs.FS
	samples http.Handler
	assets  http.Handler
	home    []byte
	room    []byte
}

func init() {
	// Go does not know glTF; browsers and loaders expect these types.
	_ = mime.AddExtensionType(".glb", "model/gltf-binary")
	_ = mime.AddExtensionType(".gltf", "model/gltf+json")
}

func newWebApp() (*webApp, error) {
	dist := web.Dist()
	home, err := fs.ReadFile(dist, "index.html")
	if err != nil {
		return nil, err
	}
	room, err := fs.ReadFile(dist, "hub.html")
	if err != nil {
		return nil, err
	}
	return &webApp{
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
	case p == "/":
		a.page(w, r, "index.html", a.home)
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

// isRoomPath matches /<hub_sid> and /<hub_sid>/<slug>.
func isRoomPath(p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) > 2 || !store.HubSID(parts[0]).Valid() {
		return false
	}
	return len(parts) == 1 || path.Clean(parts[1]) == parts[1]
}

// page serves an HTML entry page; it must be revalidated so a new build reaches people at once.
func (a *webApp) page(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}
