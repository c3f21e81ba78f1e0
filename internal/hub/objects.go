package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"toncon/internal/phx"
	"toncon/internal/store"
	"toncon/internal/uploads"
	"toncon/web"
)

// Pinned objects and the room's scene: pin and unpin keep an object in the store (it comes back for people who join
// later and after a restart, from GET /<hub_sid>/objects.gltf), and update_scene changes the room's scene live.

// FileKeeper keeps uploaded files while something refers to them: *uploads.Service. Keep checks the file's access
// token (uploads.ErrForbidden); both return errors matching store.ErrNotFound for an unknown or expired file.
type FileKeeper interface {
	Keep(ctx context.Context, id store.FileID, accessToken, ref string) error
	Release(ctx context.Context, id store.FileID, ref string) error
}

// sceneOwner is who owns a pinned entity the room loaded from the store until someone takes it over, as in Hubs,
// where objects from objects.gltf belong to "scene".
const sceneOwner = "scene"

// pinnedTemplate is the NAF template of a pinned object the relay has not seen first-synced: pinned objects are
// media objects (docs/content.md).
const pinnedTemplate = "#toncon-media"

// maxSceneURL bounds a scene URL given to update_scene.
const maxSceneURL = 2048

type pinParams struct {
	ID              string          `json:"id"`
	GLTFNode        json.RawMessage `json:"gltf_node"`
	FileID          store.FileID    `json:"file_id"`
	FileAccessToken string          `json:"file_access_token"`
}

// mayPin checks pin and unpin's rules: a signed-in, enabled account with pin_objects. It answers m when not.
func (c *channel) mayPin(m *phx.Message) bool {
	switch {
	case c.account == 0:
		c.ch.Reply(m, false, map[string]string{"reason": "not_signed_in",
			"message": "sign in to pin or unpin objects: pins are kept under an account"})
		return false
	case !c.accountStillEnabled():
		c.ch.Reply(m, false, map[string]string{"reason": "account_disabled", "message": "this account is disabled; ask the site's admin"})
		return false
	case !c.can("pin_objects"):
		c.ch.Reply(m, false, map[string]string{"reason": "unauthorized",
			"message": "you need the pin_objects permission in this room; an owner can grant it"})
		return false
	}
	return true
}

func invalidFile(pc *phx.Channel, m *phx.Message, message string) {
	pc.Reply(m, false, map[string]string{"reason": "invalid_file", "message": message})
}

func (c *channel) handlePin(m *phx.Message) {
	if !c.mayPin(m) {
		return
	}
	var p pinParams
	if err := json.Unmarshal(m.Payload, &p); err != nil || p.ID == "" || len(p.GLTFNode) == 0 {
		badRequest(c.ch, m, `pin takes {"id": "<networkId>", "gltf_node": {...}, "file_id": "...", "file_access_token": "..."}`)
		return
	}
	if len(p.GLTFNode) > store.MaxGLTFNodeBytes {
		badRequest(c.ch, m, fmt.Sprintf("gltf_node is %d bytes; a pinned object's node may have at most %d", len(p.GLTFNode), store.MaxGLTFNodeBytes))
		return
	}
	var node bytes.Buffer
	if err := json.Compact(&node, p.GLTFNode); err != nil || node.Len() == 0 || node.Bytes()[0] != '{' {
		badRequest(c.ch, m, "gltf_node must be a JSON object: a glTF node such as {\"name\": \"<id>\", \"translation\": [0, 1, 0]}")
		return
	}
	o := store.RoomObject{HubSID: c.sid, ObjectID: p.ID, GLTFNode: node.Bytes(), AccountID: c.account, FileID: p.FileID,
		UpdatedAt: c.svc.cfg.Now()}
	if err := o.Validate(); err != nil {
		badRequest(c.ch, m, strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ref := store.PinRef(c.sid, p.ID)
	// A file's refs are a set: a pin resending the object's file keeps nothing new, so another pin's release of
	// that file after replacing it, run in between, would leave the object's file unkept. Pins run one at a time.
	c.room.pinning.Lock()
	defer c.room.pinning.Unlock()
	if p.FileID != "" {
		if !c.keepFile(ctx, m, p.FileID, p.FileAccessToken, ref) {
			return
		}
	}
	// A pin without file fields moves an object that is pinned already: the store keeps the file it shows.
	prev, replaced, err := c.svc.cfg.Store.PinObject(ctx, o)
	if err != nil {
		if p.FileID != "" && !c.pinnedWith(p.ID, p.FileID) {
			c.svc.releaseFile(p.FileID, ref)
		}
		if errors.Is(err, store.ErrInvalid) {
			badRequest(c.ch, m, err.Error())
			return
		}
		c.internalError(m, "pin", err)
		return
	}
	if replaced && o.FileID != "" && prev.FileID != "" && prev.FileID != o.FileID {
		c.svc.releaseFile(prev.FileID, ref)
	}
	c.room.setPinned(p.ID, c.sessionID, true)
	c.broadcastAll("pin", map[string]any{"object_id": p.ID, "gltf_node": o.GLTFNode, "pinned_by": c.sessionID})
	c.ch.Reply(m, true, map[string]any{})
}

// pinnedWith reports whether the room's stored object id shows file, so a failed re-pin that sent the object's own
// file does not take the ref the stored object needs. Only failures ask, so the read costs nothing in the usual case;
// when it fails too, the answer is true: a file kept too long is the lesser harm.
func (c *channel) pinnedWith(id string, file store.FileID) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	objects, err := c.svc.cfg.Store.RoomObjects(ctx, c.sid)
	if err != nil {
		return !errors.Is(err, store.ErrNotFound)
	}
	for _, o := range objects {
		if o.ObjectID == id {
			return o.FileID == file
		}
	}
	return false
}

// keepFile keeps the pinned object's file, answering m when it cannot.
func (c *channel) keepFile(ctx context.Context, m *phx.Message, id store.FileID, token, ref string) bool {
	files := c.svc.cfg.Files
	if files == nil {
		invalidFile(c.ch, m, "this server does not keep uploaded files")
		return false
	}
	err := files.Keep(ctx, id, token, ref)
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrNotFound):
		invalidFile(c.ch, m, fmt.Sprintf("there is no upload %q, or it expired: upload the file again", id))
	case errors.Is(err, uploads.ErrForbidden):
		invalidFile(c.ch, m, "file_access_token is not the upload's access token")
	default:
		c.internalError(m, "keep pinned file", err)
	}
	return false
}

// releaseFile lets a file go (it expires later unless something else keeps it); failures are logged only, since
// the worst outcome is a file kept longer than needed.
func (s *Service) releaseFile(id store.FileID, ref string) {
	if s.cfg.Files == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Files.Release(ctx, id, ref); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.cfg.Log.Warn("release file", "file", id, "ref", ref, "err", err)
	}
}

func (c *channel) handleUnpin(m *phx.Message) {
	if !c.mayPin(m) {
		return
	}
	var p struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(m.Payload, &p) != nil || p.ID == "" {
		badRequest(c.ch, m, `unpin takes {"id": "<networkId>"}`)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.room.pinning.Lock() // see handlePin
	defer c.room.pinning.Unlock()
	o, err := c.svc.cfg.Store.UnpinObject(ctx, c.sid, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		c.ch.Reply(m, false, map[string]string{"reason": "not_found", "message": "that object is not pinned in this room"})
		return
	}
	if err != nil {
		c.internalError(m, "unpin", err)
		return
	}
	if o.FileID != "" {
		c.svc.releaseFile(o.FileID, store.PinRef(c.sid, p.ID))
	}
	c.room.setPinned(p.ID, c.sessionID, false)
	c.broadcastAll("unpin", map[string]any{"object_id": p.ID, "unpinned_by": c.sessionID})
	c.ch.Reply(m, true, map[string]any{})
}

// broadcastAll sends an event to everyone in the room, the sender included.
func (c *channel) broadcastAll(event string, payload any) {
	b, err := json.Marshal(payload)
	if err != nil {
		c.svc.cfg.Log.Error("encode "+event, "err", err)
		return
	}
	c.ch.Server().Broadcast(c.room.topic, phx.EncodeBroadcast(c.room.topic, event, b, false), nil)
}

// setPinned records that an entity is pinned or not. A pinned entity stays when its owner leaves, and only people
// with pin_objects may take it over. An unpinned entity whose owner is gone goes to the one who unpinned it, so it
// leaves the room with them, as unpinned objects do.
func (r *room) setPinned(id, session string, pinned bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entities[id]
	if e == nil {
		if !pinned {
			return
		}
		e = &entity{creator: session, owner: session, template: pinnedTemplate}
		r.entities[id] = e
	}
	e.pinned = pinned
	if !pinned && !r.sessionPresentLocked(e.owner) {
		e.owner = session
	}
}

// loadPins makes the room's pinned objects known to the relay the first time someone joins the live room, owned
// by "scene", so updates from whoever takes one over (with pin_objects) are relayed. A store error is logged: the
// room works, and its pinned objects cannot be moved until the next time it is loaded.
func (s *Service) loadPins(r *room) {
	r.pinsOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		objects, err := s.cfg.Store.RoomObjects(ctx, r.sid)
		if err != nil {
			s.cfg.Log.Warn("load pinned objects", "hub", r.sid, "err", err)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, o := range objects {
			if e := r.entities[o.ObjectID]; e != nil {
				e.pinned = true
				continue
			}
			r.entities[o.ObjectID] = &entity{creator: sceneOwner, owner: sceneOwner, template: pinnedTemplate, pinned: true}
		}
	})
}

// ObjectsGLTF is the room's pinned objects as a glTF document (GET /<hub_sid>/objects.gltf): one scene whose nodes
// are the pinned objects' nodes, in the order they were first pinned. ErrNotFound for no such room.
func (s *Service) ObjectsGLTF(ctx context.Context, sid store.HubSID) ([]byte, error) {
	objects, err := s.cfg.Store.RoomObjects(ctx, sid)
	if err != nil {
		return nil, err
	}
	nodes := make([]json.RawMessage, len(objects))
	indexes := make([]int, len(objects))
	for i, o := range objects {
		nodes[i], indexes[i] = o.GLTFNode, i
	}
	doc := map[string]any{
		"asset":          map[string]string{"version": "2.0", "generator": "toncon"},
		"scene":          0,
		"scenes":         []map[string]any{{"name": "Room Objects", "nodes": indexes}},
		"nodes":          nodes,
		"extensionsUsed": []string{"HUBS_components"},
	}
	return json.Marshal(doc)
}

func (c *channel) handleUpdateScene(m *phx.Message) {
	if !c.privileged(m, "update_hub") {
		return
	}
	var p struct {
		URL     string `json:"url"`
		SceneID string `json:"scene_id"` // protocol.md's other spelling; any form url takes
	}
	err := json.Unmarshal(m.Payload, &p)
	if p.URL == "" {
		p.URL = p.SceneID
	}
	if err != nil || strings.TrimSpace(p.URL) == "" {
		badRequest(c.ch, m, `update_scene takes {"url": "<scene id, sample:<name>, <this server>/scenes/<id>, or an https URL of a glb>"}`)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ref, err := c.svc.SceneRefFor(ctx, strings.TrimSpace(p.URL))
	if err != nil {
		c.ch.Reply(m, false, map[string]string{"reason": "invalid", "message": err.Error()})
		return
	}
	if _, err := c.svc.cfg.Store.UpdateHub(ctx, c.sid, store.HubUpdate{SceneRef: &ref}); err != nil {
		c.internalError(m, "update scene", err)
		return
	}
	c.hubUpdated(ctx, m, []string{"scene"})
}

// errUnknownScene is wrapped by SceneRefFor for a scene id or sample that does not exist.
var errUnknownScene = errors.New("no such scene")

// SceneRefFor turns what people give as a room's scene into the hub's SceneRef: an uploaded scene's id (also as
// <public>/scenes/<id>[/...]), a built-in sample (sample:<name>, also as <public>/samples/<name>.glb), or any other
// https URL, taken as a glb (http is accepted for this server's own host only). Errors say what is accepted.
func (s *Service) SceneRefFor(ctx context.Context, raw string) (string, error) {
	if strings.HasPrefix(raw, web.SamplePrefix) {
		if _, ok := web.SampleModelPath(raw); !ok {
			return "", fmt.Errorf("%w: there is no built-in scene %q", errUnknownScene, raw)
		}
		return raw, nil
	}
	if sid := store.SceneSID(raw); sid.Valid() {
		return s.uploadedSceneRef(ctx, sid)
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > maxSceneURL || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("give a scene id, sample:<name>, or an https URL of a glb (at most %d characters)", maxSceneURL)
	}
	own := strings.EqualFold(u.Host, s.cfg.PublicURL.Host)
	if own {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		switch {
		case len(parts) >= 2 && parts[0] == "scenes":
			if sid := store.SceneSID(parts[1]); sid.Valid() {
				return s.uploadedSceneRef(ctx, sid)
			}
			return "", fmt.Errorf("%w: %q names no scene", errUnknownScene, raw)
		case len(parts) == 2 && parts[0] == "samples" && path.Ext(parts[1]) == ".glb":
			return s.SceneRefFor(ctx, web.SamplePrefix+strings.TrimSuffix(parts[1], ".glb"))
		}
	}
	if u.Scheme != "https" && !own {
		return "", errors.New("a scene from another site must be an https URL")
	}
	u.Fragment = ""
	return u.String(), nil
}

func (s *Service) uploadedSceneRef(ctx context.Context, sid store.SceneSID) (string, error) {
	if _, err := s.cfg.Store.GetScene(ctx, sid); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("%w: there is no scene %s", errUnknownScene, sid)
		}
		return "", fmt.Errorf("look up scene %s: %w", sid, err)
	}
	return string(sid), nil
}

// SceneModelURL is where an uploaded scene's glb is served: its kept file.
func SceneModelURL(public *url.URL, sc store.Scene) string {
	return uploads.FileURL(public, sc.FileID, uploads.TypeGLB)
}

// ScenePageURL is an uploaded scene's URL as update_scene and Hubs name it: <public>/scenes/<sid>.
func ScenePageURL(public *url.URL, sid store.SceneSID) string {
	u := *public
	u.Path, u.RawQuery, u.Fragment = "/scenes/"+string(sid), "", ""
	return u.String()
}

// resolveScene fills in an uploaded scene's name and model URL in a HUB JSON scene, which NewHubView cannot do
// without the store. A scene that is gone leaves the model URL empty (the client shows its default scene).
func (s *Service) resolveScene(v *SceneView) {
	sid := store.SceneSID(v.SceneID)
	if !sid.Valid() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sc, err := s.cfg.Store.GetScene(ctx, sid)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.cfg.Log.Warn("load a room's scene", "scene", sid, "err", err)
		}
		return
	}
	v.Name, v.ModelURL, v.URL = sc.Name, SceneModelURL(s.cfg.PublicURL, sc), ScenePageURL(s.cfg.PublicURL, sid)
}
