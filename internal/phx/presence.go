package phx

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// Presence tracks who is on each topic and tells subscribers about changes in the format of the phoenix
// client's Presence: presence_state {key: {metas: [...]}} and presence_diff {joins, leaves}. Each meta carries a
// phx_ref; an update is a leave of the old meta and a join of the new one, which carries phx_ref_prev.
type Presence struct {
	srv *Server
	// mu guards topics and serialises diffs, so subscribers see changes in the order they were made.
	// Broadcasting under it is fine: it only queues frames.
	mu     sync.Mutex
	topics map[string]*presenceTopic
	seq    atomic.Uint64
}

type presenceTopic struct {
	entries map[string][]presenceEntry // by key, in join order
}

type presenceEntry struct {
	ch   *Channel
	ref  string
	meta []byte // JSON object including phx_ref
}

var refPrefix = func() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}()

func (p *Presence) nextRef() string {
	return refPrefix + strconv.FormatUint(p.seq.Add(1), 36)
}

// Track adds a meta for key on the channel's topic and broadcasts the join to everyone on the topic,
// including the channel itself (the client's Presence merges it with presence_state by phx_ref).
func (p *Presence) Track(c *Channel, key string, meta any) error {
	ref := p.nextRef()
	b, err := encodeMeta(meta, ref, "")
	if err != nil {
		return fmt.Errorf("track %s on %s: %w", key, c.topic, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.topics[c.topic]
	if t == nil {
		t = &presenceTopic{entries: map[string][]presenceEntry{}}
		p.topics[c.topic] = t
	}
	t.entries[key] = append(t.entries[key], presenceEntry{ch: c, ref: ref, meta: b})
	p.broadcastDiff(c.topic, key, [][]byte{b}, nil)
	return nil
}

// Update replaces the meta the channel tracks under key. It returns an error when the channel tracks nothing
// under key.
func (p *Presence) Update(c *Channel, key string, meta any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.topics[c.topic]
	if t == nil {
		return fmt.Errorf("update presence %s on %s: not tracked", key, c.topic)
	}
	list := t.entries[key]
	for i, e := range list {
		if e.ch != c {
			continue
		}
		ref := p.nextRef()
		b, err := encodeMeta(meta, ref, e.ref)
		if err != nil {
			return fmt.Errorf("update presence %s on %s: %w", key, c.topic, err)
		}
		list[i] = presenceEntry{ch: c, ref: ref, meta: b}
		p.broadcastDiff(c.topic, key, [][]byte{b}, [][]byte{e.meta})
		return nil
	}
	return fmt.Errorf("update presence %s on %s: not tracked", key, c.topic)
}

// Untrack removes the channel's meta for key and broadcasts the leave.
func (p *Presence) Untrack(c *Channel, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.untrackLocked(c, key)
}

// untrackLocked removes c's entries under key (every key when key is ""). p.mu must be held.
func (p *Presence) untrackLocked(c *Channel, key string) {
	t := p.topics[c.topic]
	if t == nil {
		return
	}
	for k, list := range t.entries {
		if key != "" && k != key {
			continue
		}
		var left [][]byte
		kept := list[:0]
		for _, e := range list {
			if e.ch == c {
				left = append(left, e.meta)
			} else {
				kept = append(kept, e)
			}
		}
		if len(left) == 0 {
			continue
		}
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(t.entries, k)
		} else {
			t.entries[k] = kept
		}
		p.broadcastDiff(c.topic, k, nil, left)
	}
	if len(t.entries) == 0 {
		delete(p.topics, c.topic)
	}
}

func (p *Presence) untrackChannel(c *Channel) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.untrackLocked(c, "")
}

// State returns the presence_state payload for topic.
func (p *Presence) State(topic string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	buf := []byte{'{'}
	if t := p.topics[topic]; t != nil {
		first := true
		for k, list := range t.entries {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendMetas(AppendString(buf, k), list)
		}
	}
	return append(buf, '}')
}

// Keys returns the number of distinct keys present on topic.
func (p *Presence) Keys(topic string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.topics[topic]; t != nil {
		return len(t.entries)
	}
	return 0
}

func appendMetas(buf []byte, list []presenceEntry) []byte {
	buf = append(buf, `:{"metas":[`...)
	for i, e := range list {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e.meta...)
	}
	return append(buf, "]}"...)
}

// broadcastDiff sends presence_diff for one key. p.mu must be held.
func (p *Presence) broadcastDiff(topic, key string, joins, leaves [][]byte) {
	buf := append([]byte(nil), `{"joins":{`...)
	buf = appendKeyMetas(buf, key, joins)
	buf = append(buf, `},"leaves":{`...)
	buf = appendKeyMetas(buf, key, leaves)
	buf = append(buf, "}}"...)
	p.srv.Broadcast(topic, EncodeBroadcast(topic, "presence_diff", buf, false), nil)
}

func appendKeyMetas(buf []byte, key string, metas [][]byte) []byte {
	if len(metas) == 0 {
		return buf
	}
	buf = append(AppendString(buf, key), `:{"metas":[`...)
	buf = append(buf, bytes.Join(metas, []byte{','})...)
	return append(buf, "]}"...)
}

// encodeMeta marshals meta, which must encode as a JSON object, and adds phx_ref (and phx_ref_prev).
func encodeMeta(meta any, ref, prev string) ([]byte, error) {
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '{' {
		return nil, fmt.Errorf("presence meta must be a JSON object, got %.20s", raw)
	}
	out := append(make([]byte, 0, len(raw)+48), `{"phx_ref":`...)
	out = AppendString(out, ref)
	if prev != "" {
		out = append(out, `,"phx_ref_prev":`...)
		out = AppendString(out, prev)
	}
	if rest := bytes.TrimSpace(raw[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, raw[1:]...), nil
}

func newID() string { return uuid.NewString() }
