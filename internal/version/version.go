// Package version holds the build's version string, set at link time with
// -ldflags "-X toncon/internal/version.Version=v1.2.3" and read from the module's build info otherwise.
package version

import "runtime/debug"

// Version is overridden at link time for releases.
var Version = ""

// String returns the version of this build: the link-time value, the VCS revision, or "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return "dev-" + rev + dirty
		}
	}
	return "dev"
}
