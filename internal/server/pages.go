package server

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"toncon/internal/version"
)

// The web client arrives with its own issue; until then "/" says what is running and how to use it.
var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>toncon</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eee;padding:0 .2em}</style>
</head><body>
<h1>toncon</h1>
<p>The room server is running. Create a room with
<code>curl -k -X POST {{.URL}}/api/v1/hubs -H 'content-type: application/json' -d '{"hub":{"name":"My room"}}'</code>
and connect to <code>{{.Socket}}</code> with the Phoenix client.</p>
<footer>toncon {{.Version}}</footer>
</body></html>`))

func pages(public *url.URL) http.Handler {
	socket := *public
	socket.Scheme = strings.Replace(socket.Scheme, "http", "ws", 1)
	socket.Path = "/socket/websocket"
	data := map[string]string{"URL": public.String(), "Socket": socket.String(), "Version": version.String()}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = homePage.Execute(w, data)
	})
}
