package media

import (
	"sort"
	"sync"
)

// room is one hub's media: who is connected and which tracks they publish.
type room struct {
	sfu *SFU
	id  string

	mu     sync.Mutex       // guards peers, tracks and muted
	peers  map[string]*peer // by session id
	tracks []*pubTrack
	muted  map[string]bool // sessions a moderator muted, remembered across reconnects while the room lives
}

func newRoom(s *SFU, id string) *room {
	return &room{sfu: s, id: id, peers: map[string]*peer{}, muted: map[string]bool{}}
}

// add puts p in the room under its session id and returns the peer it replaces (the same session on an older
// socket), whether that session is muted, and the others in the room.
func (r *room) add(p *peer) (replaced *peer, muted bool, others []*peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	replaced = r.peers[p.session]
	r.peers[p.session] = p
	for _, o := range r.peers {
		if o != p && o != replaced {
			others = append(others, o)
		}
	}
	return replaced, r.muted[p.session], others
}

// remove takes p out of the room (if it is still the peer for its session) and returns who is left.
func (r *room) remove(p *peer) (left []*peer, removed bool) {
	r.mu.Lock()
	if r.peers[p.session] == p {
		delete(r.peers, p.session)
		removed = true
	}
	for _, o := range r.peers {
		left = append(left, o)
	}
	empty := len(r.peers) == 0
	r.mu.Unlock()
	if empty {
		r.sfu.dropRoomIfEmpty(r)
	}
	return left, removed
}

func (r *room) empty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers) == 0
}

func (r *room) peer(session string) *peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[session]
}

func (r *room) peerList() []*peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := make([]*peer, 0, len(r.peers))
	for _, p := range r.peers {
		list = append(list, p)
	}
	return list
}

// setMuted records a moderator's mute and returns the session's peer, if connected.
func (r *room) setMuted(session string, muted bool) *peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if muted {
		r.muted[session] = true
	} else {
		delete(r.muted, session)
	}
	return r.peers[session]
}

// counts returns the number of peers and a snapshot of the tracks.
func (r *room) counts() (int, []*pubTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers), append([]*pubTrack(nil), r.tracks...)
}

// tracksFor is what subscriber p should receive: every track published by someone else still in the room (a
// leaving publisher's tracks linger until its connection has closed).
func (r *room) tracksFor(p *peer) []*pubTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []*pubTrack
	for _, t := range r.tracks {
		if t.owner != p && r.peers[t.owner.session] == t.owner {
			list = append(list, t)
		}
	}
	return list
}

// addTrack publishes t and returns the peers that must now subscribe to it.
func (r *room) addTrack(t *pubTrack) []*peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tracks = append(r.tracks, t)
	return r.othersLocked(t.owner)
}

// removeTrack unpublishes t and returns the peers that must drop it. The track's packet count moves to the
// SFU's running total so the forwarded-packets figure never goes backwards.
func (r *room) removeTrack(t *pubTrack) []*peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.tracks {
		if x == t {
			r.tracks = append(r.tracks[:i], r.tracks[i+1:]...)
			r.sfu.stats.forwardedBase.Add(t.forwarded.Load())
			t.forwarded.Store(0)
			r.sfu.stats.suppressedBase.Add(t.dropped.Load())
			t.dropped.Store(0)
			break
		}
	}
	return r.othersLocked(t.owner)
}

// others lists the peers other than p.
func (r *room) others(p *peer) []*peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.othersLocked(p)
}

// othersLocked lists the peers other than p. r.mu must be held.
func (r *room) othersLocked(p *peer) []*peer {
	list := make([]*peer, 0, len(r.peers))
	for _, o := range r.peers {
		if o != p {
			list = append(list, o)
		}
	}
	return list
}

// trackInfo is how a track is described in signalling.
type trackInfo struct {
	ID     string   `json:"id"`     // the track id the subscriber sees (MediaStreamTrack.id on the receiving side)
	Kind   string   `json:"kind"`   // audio or video
	Source string   `json:"source"` // mic, camera or screen
	Layers []string `json:"layers"` // simulcast rids, lowest first; empty without simulcast
}

// peerInfo describes one peer: its session id is also the stream id of its tracks.
type peerInfo struct {
	SessionID string      `json:"session_id"`
	Tracks    []trackInfo `json:"tracks"`
}

// describe lists the peers other than p with their tracks, sorted by session id.
func (r *room) describe(p *peer) []peerInfo {
	r.mu.Lock()
	byPeer := map[*peer][]*pubTrack{}
	var peers []*peer
	for _, o := range r.peers {
		if o != p {
			peers = append(peers, o)
			byPeer[o] = nil
		}
	}
	for _, t := range r.tracks {
		if _, ok := byPeer[t.owner]; ok {
			byPeer[t.owner] = append(byPeer[t.owner], t)
		}
	}
	r.mu.Unlock()
	sort.Slice(peers, func(i, j int) bool { return peers[i].session < peers[j].session })
	out := make([]peerInfo, 0, len(peers))
	for _, o := range peers {
		out = append(out, peerInfo{SessionID: o.session, Tracks: describeTracks(byPeer[o])})
	}
	return out
}

func describeTracks(tracks []*pubTrack) []trackInfo {
	out := make([]trackInfo, 0, len(tracks))
	for _, t := range tracks {
		out = append(out, t.info())
	}
	return out
}
