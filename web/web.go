// Package web holds the built web apps (web/dist, made by `make web` from this npm project) and the built-in
// sample scenes, so the Go binary can serve them with nothing else installed.
package web

import (
	"embed"
	"io/fs"
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
