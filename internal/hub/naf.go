package hub

import (
	"bytes"
	"encoding/json"
	"strings"

	"toncon/internal/phx"
)

// The NAF relay. Position updates are the bulk of all traffic, so the common path (an update that is not a
// first sync) never decodes the payload: it finds the fields it needs in place and splices from_session_id
// into a frame encoded once for every recipient.

var (
	tokU             = []byte(`"u"`)
	tokUM            = []byte(`"um"`)
	tokR             = []byte(`"r"`)
	tokTrue          = []byte("true")
	keyIsFirstSync   = []byte("isFirstSync")
	escapedRemoveTok = []byte(`\"dataType\":\"r\"`)
)

// handleNAF relays a naf message {dataType, data} after the server checks of protocol.md.
func (c *channel) handleNAF(payload []byte) {
	if !c.nafLimit.allow(c.svc.cfg.Now()) {
		c.svc.stats.NAFDroppedRate.Add(1)
		return
	}
	c.relayNAF(payload)
}

func (c *channel) relayNAF(payload []byte) {
	dt, ok := phx.ObjectField(payload, "dataType")
	if !ok || len(dt) == 0 || dt[0] != '"' {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return
	}
	data, _ := phx.ObjectField(payload, "data")
	ephemeral := false
	switch {
	case bytes.Equal(dt, tokU):
		if v, ok := phx.ObjectField(data, "isFirstSync"); ok && bytes.Equal(v, tokTrue) {
			c.relayFirstSync(payload)
			return
		}
		ephemeral = true
	case bytes.Equal(dt, tokUM):
		if bytes.Contains(data, keyIsFirstSync) && umHasFirstSync(data) {
			// Check 2: first syncs must come alone, where check 1 can see them.
			c.svc.stats.NAFDroppedFirstSyncInUM.Add(1)
			return
		}
		ephemeral = true
	case bytes.Equal(dt, tokR):
		c.forgetEntity(data)
	}
	c.broadcast("naf", payload, ephemeral)
}

// handleNAFR relays {naf: "<json>"}, keeping the inner message a string unless it holds a first sync, which
// must be checked, as Reticulum does.
func (c *channel) handleNAFR(payload []byte) {
	if !c.nafLimit.allow(c.svc.cfg.Now()) {
		c.svc.stats.NAFDroppedRate.Add(1)
		return
	}
	tok, ok := phx.ObjectField(payload, "naf")
	if !ok || len(tok) < 2 || tok[0] != '"' {
		c.svc.stats.NAFDroppedInvalid.Add(1)
		return
	}
	removal := bytes.Contains(tok, escapedRemoveTok)
	if bytes.Contains(tok, keyIsFirstSync) || removal {
		var inner string
		if err := json.Unmarshal(tok, &inner); err != nil || !json.Valid([]byte(inner)) || !strings.HasPrefix(strings.TrimSpace(inner), "{") {
			c.svc.stats.NAFDroppedInvalid.Add(1)
			return
		}
		if strings.Contains(inner, "isFirstSync") {
			c.relayNAF([]byte(inner))
			return
		}
		if d, ok := phx.ObjectField([]byte(inner), "data"); ok {
			c.forgetEntity(d)
		}
	}
	c.broadcastParts("nafr", `{"naf":`, tok, true, !removal)
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
// comma when comma is set). The frame [null,null,topic,event,payload] is built in one allocation and shared by every recipient.
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
	c.ch.Server().Broadcast(topic, phx.NewOutbound(buf, ephemeral), c.ch)
	c.svc.stats.NAFRelayed.Add(1)
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
	_ = json.Unmarshal(data["networkId"], &networkID)
	_ = json.Unmarshal(data["template"], &template)
	_ = json.Unmarshal(data["persistent"], &persistent)
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
	if !c.rememberEntity(networkID, template, persistent) {
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

// spawnPermitted is check 1's table of template suffixes.
func (c *channel) spawnPermitted(template string) bool {
	switch {
	case strings.HasSuffix(template, "-avatar"):
		return true
	case strings.HasSuffix(template, "-media"):
		return c.can("spawn_and_move_media")
	case strings.HasSuffix(template, "-camera"):
		return c.can("spawn_camera")
	case strings.HasSuffix(template, "-drawing"), strings.HasSuffix(template, "-pen"):
		return c.can("spawn_drawing")
	case strings.HasSuffix(template, "-emoji"):
		return c.can("spawn_emoji")
	}
	return false
}

// rememberEntity records a first-synced entity. A first sync for an id another session created is refused:
// it would take over someone else's entity. A resync of one's own entity (after a reconnect) is fine.
func (c *channel) rememberEntity(networkID, template string, persistent bool) bool {
	r := c.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entities[networkID]; ok && e.creator != c.sessionID && !persistent {
		return false
	}
	r.entities[networkID] = &entity{creator: c.sessionID, template: template, persistent: persistent}
	return true
}

func (c *channel) forgetEntity(data []byte) {
	var d struct {
		NetworkID string `json:"networkId"`
	}
	if json.Unmarshal(data, &d) != nil || d.NetworkID == "" {
		return
	}
	r := c.room
	r.mu.Lock()
	delete(r.entities, d.NetworkID)
	r.mu.Unlock()
}
