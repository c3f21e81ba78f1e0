package hub

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"toncon/internal/phx"
)

// The NAF relay and its server checks (protocol.md). Position updates are the bulk of all traffic, so the
// common path never decodes a payload into Go values: it reads the few fields the checks need in place, and
// splices from_session_id into one frame encoded for every recipient.

var (
	tokU           = []byte(`"u"`)
	tokUM          = []byte(`"um"`)
	tokR           = []byte(`"r"`)
	tokTrue        = []byte("true")
	keyIsFirstSync = []byte("isFirstSync")
)

// handleNAF relays a naf message {dataType, data}.
func (c *channel) handleNAF(payload []byte) {
	if !c.nafLimit.allow(c.svc.cfg.Now()) {
		c.svc.stats.NAFDroppedRate.Add(1)
		return
	}
	if kind, ok := c.check(payload); ok {
		if kind == kindFirstSync {
			c.relayFirstSync(payload)
			return
		}
		c.broadcast("naf", payload, kind == kindUpdate)
	}
}

// handleNAFR relays {naf: "<json>"}. The inner message is checked like a naf; it is relayed as the same string
// unless it is a first sync, which the server rewrites and sends as naf, as Reticulum does.
func (c *channel) handleNAFR(payload []byte) {
	if !c.nafLimit.allow(c.svc.cfg.Now()) {
		c.svc.stats.NAFDroppedRate.Add(1)
		return
	}
	tok, ok := phx.ObjectField(payload, "naf")
	if !ok {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return
	}
	inner, ok := phx.AppendUnquote(c.scratch[:0], tok) // the scratch buffer is reused: nothing keeps it
	c.scratch = inner
	if !ok || !phx.ValidObject(inner) {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return
	}
	kind, ok := c.check(inner)
	if !ok {
		return
	}
	if kind == kindFirstSync {
		c.relayFirstSync(inner)
		return
	}
	c.broadcastParts("nafr", `{"naf":`, tok, true, kind == kindUpdate)
}

type nafKind int

const (
	kindFirstSync nafKind = iota
	kindUpdate            // u or um: superseded by the next update, so it may be dropped for a slow receiver
	kindOrdered           // removals and other data types: never dropped
)

// check applies checks 2 and 3 to a NAF message and says what kind it is. A dropped message is counted.
func (c *channel) check(msg []byte) (nafKind, bool) {
	c.upd = updateInfo{}
	dt, ok := phx.ObjectField(msg, "dataType")
	if !ok || len(dt) == 0 || dt[0] != '"' {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return 0, false
	}
	data, _ := phx.ObjectField(msg, "data")
	switch {
	case bytes.Equal(dt, tokU):
		if v, ok := phx.ObjectField(data, "isFirstSync"); ok && bytes.Equal(v, tokTrue) {
			return kindFirstSync, true
		}
		return kindUpdate, c.authorizeUpdates(data, false)
	case bytes.Equal(dt, tokUM):
		if bytes.Contains(data, keyIsFirstSync) && umHasFirstSync(data) {
			// Check 2: first syncs must come alone, where check 1 can see them.
			c.svc.stats.NAFDroppedFirstSyncInUM.Add(1)
			return 0, false
		}
		d, _ := phx.ObjectField(data, "d")
		return kindUpdate, c.authorizeUpdates(d, true)
	case bytes.Equal(dt, tokR):
		return kindOrdered, c.authorizeRemove(data)
	}
	return kindOrdered, true // other data types (drawings, bitECS "nn") pass, as in Reticulum
}

// authorizeUpdates applies check 3 to one update (many when multi is set: the items of a um). Every item must
// pass, or the whole message is dropped: a client that sends updates it may not send is not a client to trust
// with the rest.
func (c *channel) authorizeUpdates(data []byte, multi bool) bool {
	r := c.room
	r.mu.Lock()
	defer r.mu.Unlock()
	c.upd.inRoom = r.inRoom
	if !multi {
		return c.authorizeUpdateLocked(data)
	}
	ok := true
	if !phx.ArrayEach(data, func(item []byte) bool { ok = c.authorizeUpdateLocked(item); return ok }) {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return false
	}
	return ok
}

// authorizeUpdateLocked is check 3 for one entity update. r.mu must be held.
//
// An update must come from the entity's owner and name the sender as owner. Someone else may take an entity
// over by naming themselves with a newer lastOwnerTime, when they have the permission its template needs (and
// pin_objects when it is pinned); avatars belong to their creator alone.
func (c *channel) authorizeUpdateLocked(item []byte) bool {
	st := &c.svc.stats
	id, ok := stringField(item, "networkId")
	owner, ok2 := stringField(item, "owner")
	if !ok || !ok2 {
		st.NAFDroppedInvalid.Add(1)
		return false
	}
	e := c.room.entities[string(id)]
	switch {
	case e == nil:
		st.NAFDroppedUnknownEntity.Add(1)
		return false
	case string(owner) != c.sessionID:
		st.NAFDroppedNotOwner.Add(1)
		return false
	case e.owner == c.sessionID:
		c.upd.note(item, e)
		return true
	}
	lot := numberField(item, "lastOwnerTime")
	if strings.HasSuffix(e.template, "-avatar") || !(lot > e.lastOwnerTime) || !c.mayTakeLocked(e) {
		st.NAFDroppedNotOwner.Add(1)
		return false
	}
	e.owner, e.lastOwnerTime = c.sessionID, lot
	c.upd.note(item, e)
	return true
}

// mayTakeLocked says whether the sender may take e over. r.mu must be held.
func (c *channel) mayTakeLocked(e *entity) bool {
	perms := Permissions(c.room.hub, c.roles)
	need := templatePermission(e.template)
	return need != "" && perms[need] && (!e.pinned || perms["pin_objects"])
}

// authorizeRemove lets only the current owner remove an entity.
func (c *channel) authorizeRemove(data []byte) bool {
	id, ok := stringField(data, "networkId")
	if !ok {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return false
	}
	r := c.room
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entities[string(id)]
	switch {
	case e == nil:
		c.svc.stats.NAFDroppedUnknownEntity.Add(1)
		return false
	case e.owner != c.sessionID:
		c.svc.stats.NAFDroppedNotOwner.Add(1)
		return false
	}
	delete(r.entities, string(id))
	return true
}

// stringField returns the contents of a string field that needs no unescaping (ids never do), in place.
func stringField(obj []byte, key string) ([]byte, bool) {
	tok, ok := phx.ObjectField(obj, key)
	if !ok || len(tok) < 2 || tok[0] != '"' || bytes.IndexByte(tok, '\\') >= 0 {
		return nil, false
	}
	return tok[1 : len(tok)-1], true
}

func numberField(obj []byte, key string) float64 {
	tok, ok := phx.ObjectField(obj, key)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return 0
	}
	return f
}

// broadcast sends payload (a JSON object) to everyone else in the room with from_session_id set to the sender.
// from_session_id goes last, so it overrides any the sender put in: JSON parsers keep the last duplicate.
func (c *channel) broadcast(event string, payload []byte, ephemeral bool) {
	body := bytes.TrimRight(payload, " \t\r\n")
	body = body[:len(body)-1]               // drop the closing brace; payload is a validated object
	comma := len(bytes.TrimSpace(body)) > 1 // an empty object needs no comma before our field
	c.broadcastParts(event, "", body, comma, ephemeral)
}

// broadcastParts sends prefix+body, an object opened but not closed, with from_session_id added (after a
// comma when comma is set). The frame [null,null,topic,event,payload] is built in one allocation and shared
// by every recipient.
func (c *channel) broadcastParts(event, prefix string, body []byte, comma, ephemeral bool) {
	topic := c.room.topic
	buf := make([]byte, 0, len(topic)+len(event)+len(prefix)+len(body)+len(c.sessionID)+48)
	buf = append(buf, `[null,null,`...)
	buf = phx.AppendString(buf, topic)
	buf = append(buf, ',')
	buf = phx.AppendString(buf, event)
	buf = append(buf, ',')
	buf = append(buf, prefix...)
	buf = append(buf, body...)
	if comma {
		buf = append(buf, ',')
	}
	buf = append(buf, `"from_session_id":`...)
	buf = phx.AppendString(buf, c.sessionID)
	buf = append(buf, "}]"...)
	o := phx.NewOutbound(buf, ephemeral)
	if mask, ok := c.thinnable(); ok {
		c.relayThinned(o, mask)
	} else {
		c.flushPending() // nothing the sender relays overtakes a pose of its held back
		c.relay(o)
	}
	c.svc.stats.NAFRelayed.Add(1)
}

// relay sends a frame from this session to everyone else in the room who has not blocked it or been blocked
// by it. Without blocks in the room it is a plain broadcast.
func (c *channel) relay(o *phx.Outbound) {
	if c.room.blocks.Load() == 0 {
		c.ch.Server().Broadcast(c.room.topic, o, c.ch)
		return
	}
	c.ch.Server().BroadcastFunc(c.room.topic, o, func(to *phx.Channel) bool {
		other, ok := to.Handler().(*channel)
		return to != c.ch && ok && !c.room.blocked(c.sessionID, other.sessionID)
	})
}

func umHasFirstSync(data []byte) bool {
	var um struct {
		D []struct {
			IsFirstSync *bool `json:"isFirstSync"`
		} `json:"d"`
	}
	if err := json.Unmarshal(data, &um); err != nil {
		return true // unreadable: treat as the dangerous case
	}
	for _, d := range um.D {
		if d.IsFirstSync != nil && *d.IsFirstSync {
			return true
		}
	}
	return false
}

// relayFirstSync applies check 1: a new non-persistent entity may be created only from a template the sender
// has permission for, and it belongs to the sender whatever the message says.
func (c *channel) relayFirstSync(payload []byte) {
	var msg map[string]json.RawMessage
	var data map[string]json.RawMessage
	if json.Unmarshal(payload, &msg) != nil || json.Unmarshal(msg["data"], &data) != nil {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return
	}
	var networkID, template string
	var persistent bool
	var lastOwnerTime float64
	_ = json.Unmarshal(data["networkId"], &networkID)
	_ = json.Unmarshal(data["template"], &template)
	_ = json.Unmarshal(data["persistent"], &persistent)
	_ = json.Unmarshal(data["lastOwnerTime"], &lastOwnerTime)
	if networkID == "" {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return
	}
	if !persistent {
		if !c.spawnPermitted(template) {
			c.svc.stats.NAFDroppedSpawn.Add(1)
			return
		}
		sid, _ := json.Marshal(c.sessionID)
		data["creator"], data["owner"] = sid, sid
	}
	if !c.rememberEntity(networkID, template, persistent, lastOwnerTime) {
		c.svc.stats.NAFDroppedSpawn.Add(1)
		return
	}
	msg["data"], _ = json.Marshal(data)
	out, err := json.Marshal(msg)
	if err != nil {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return
	}
	c.broadcast("naf", out, false)
}

// templatePermission is check 1's table: the permission a template suffix needs ("" when none may spawn it).
func templatePermission(template string) string {
	switch {
	case strings.HasSuffix(template, "-media"):
		return "spawn_and_move_media"
	case strings.HasSuffix(template, "-camera"):
		return "spawn_camera"
	case strings.HasSuffix(template, "-drawing"), strings.HasSuffix(template, "-pen"):
		return "spawn_drawing"
	case strings.HasSuffix(template, "-emoji"):
		return "spawn_emoji"
	}
	return ""
}

func (c *channel) spawnPermitted(template string) bool {
	if strings.HasSuffix(template, "-avatar") {
		return true
	}
	need := templatePermission(template)
	return need != "" && c.can(need)
}

// rememberEntity records a first-synced entity. A first sync of an entity that exists is allowed from its owner
// (a resync after a reconnect, or for a newcomer) and refused from anyone else: it would take the entity over.
func (c *channel) rememberEntity(networkID, template string, persistent bool, lastOwnerTime float64) bool {
	r := c.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entities[networkID]; ok {
		if e.owner != c.sessionID && e.creator != c.sessionID {
			return false
		}
		if lastOwnerTime > e.lastOwnerTime {
			e.lastOwnerTime = lastOwnerTime
		}
		return true
	}
	r.entities[networkID] = &entity{creator: c.sessionID, owner: c.sessionID, template: template,
		persistent: persistent, lastOwnerTime: lastOwnerTime}
	return true
}
