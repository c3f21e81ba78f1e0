// Package web holds the built web apps (web/dist, made by `make web` from this npm project) and the built-in
// sample scenes, so the Go binary can serve them with nothing else installed.
package web

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed all:dist
var dist embed.FS

//go:embed samples/*.glb samples/README.md
var samples embed.FS

// Dist returns the built files, rooted at dist/.
func Dist() fs.FS { return sub(dist, "dist") }

// Samples returns the built-in sample scenes and avatar (glb files), rooted at samples/.
func Samples() fs.FS { return sub(samples, "samples") }

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the folders are embedded at build time; failing here means the build is broken
	}
	return s
}

// SamplePrefix marks a room's scene reference that names a built-in sample: "sample:<file name without .glb>".
const SamplePrefix = "sample:"

// SampleModelPath returns the URL path of the sample a scene reference names, and whether it is a known sample.
func SampleModelPath(sceneRef string) (string, bool) {
	name, ok := strings.CutPrefix(sceneRef, SamplePrefix)
	if !ok || name == "" || strings.ContainsAny(name, "/\\") {
		return "", false
	}
	if _, err := fs.Stat(Samples(), name+".glb"); err != nil {
		return "", false
	}
	return "/samples/" + name + ".glb", true
}
