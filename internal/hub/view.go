package hub

import (
	"net/url"
	"path"
	"strconv"
	"strings"

	"toncon/internal/store"
	"toncon/web"
)

// HubView is the HUB JSON that the join reply, hub_refresh and the HTTP API share (protocol.md).
type HubView struct {
	HubID             string          `json:"hub_id"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	Slug              string          `json:"slug"`
	URL               string          `json:"url"`
	EntryMode         store.EntryMode `json:"entry_mode"`
	RoomSize          int             `json:"room_size"`
	MemberCount       int             `json:"member_count"`
	LobbyCount        int             `json:"lobby_count"`
	MemberPermissions map[string]bool `json:"member_permissions"`
	Scene             *SceneView      `json:"scene"`
	Host              string          `json:"host"`
	Port              int             `json:"port"`
}

// SceneView describes a room's scene. SceneID is an uploaded scene's id or sample:<name>, and "" for a scene given
// by URL; ModelURL is the glb to load.
type SceneView struct {
	SceneID       string `json:"scene_id"`
	Name          string `json:"name"`
	ModelURL      string `json:"model_url"`
	ScreenshotURL string `json:"screenshot_url"`
	URL           string `json:"url,omitempty"` // an uploaded scene's page, <public>/scenes/<id>
}

// RoomURL is where people open a room: <public url>/<hub_sid>/<slug>.
func RoomURL(public *url.URL, h store.Hub) string {
	u := *public
	u.Path = "/" + string(h.SID)
	if h.Slug != "" {
		u.Path += "/" + h.Slug
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// hostPort is the host and port clients use for this server's media and sockets.
func hostPort(public *url.URL) (string, int) {
	port, _ := strconv.Atoi(public.Port())
	if port == 0 {
		port = 443
		if public.Scheme == "http" {
			port = 80
		}
	}
	return public.Hostname(), port
}

// NewHubView builds the HUB JSON for h with the given occupancy.
func NewHubView(public *url.URL, h store.Hub, members, lobby int) HubView {
	host, port := hostPort(public)
	v := HubView{
		HubID: string(h.SID), Name: h.Name, Description: h.Description, Slug: h.Slug, URL: RoomURL(public, h),
		EntryMode: h.EntryMode, RoomSize: h.RoomSize, MemberCount: members, LobbyCount: lobby,
		MemberPermissions: MemberPermissionMap(h.MemberPermissions), Host: host, Port: port,
	}
	if h.SceneRef != "" {
		v.Scene = &SceneView{SceneID: h.SceneRef, Name: strings.TrimPrefix(h.SceneRef, web.SamplePrefix)}
		if p, ok := web.SampleModelPath(h.SceneRef); ok {
			u := *public
			u.Path, u.RawQuery, u.Fragment = p, "", ""
			v.Scene.ModelURL = u.String()
		} else if u, err := url.Parse(h.SceneRef); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			// A glb by URL (update_scene): it has no id; its name is the file's.
			v.Scene = &SceneView{Name: path.Base(u.Path), ModelURL: h.SceneRef}
		}
	}
	return v
}

// MemberPermissionMap spells out the 8 member permission bits by name.
func MemberPermissionMap(p store.MemberPermissions) map[string]bool {
	m := make(map[string]bool, len(store.PermissionNames))
	for i, name := range store.PermissionNames {
		m[name] = p.Has(1 << i)
	}
	return m
}

// Roles are what a session is in a room.
type Roles struct {
	Owner    bool `json:"owner"`
	Creator  bool `json:"creator"`
	SignedIn bool `json:"signed_in"`
	// Admin is a site admin: every permission in every room.
	Admin bool `json:"admin,omitempty"`
}

// Permissions is the full permission map of one session in one room: the member bits, and the owner actions
// owners have. It goes into presence and into the perms token.
func Permissions(h store.Hub, r Roles) map[string]bool {
	m := MemberPermissionMap(h.MemberPermissions)
	owner := r.Owner || r.Creator || r.Admin
	if owner {
		for k := range m {
			m[k] = true // owners may do every object action whatever the member bits say
		}
	}
	m["join_hub"] = h.EntryMode != store.EntryDeny
	for _, k := range []string{"update_hub", "close_hub", "kick_users", "mute_users"} {
		m[k] = owner
	}
	m["update_roles"] = r.Creator || r.Admin
	return m
}
