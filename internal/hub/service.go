// Package hub is the hub channel: a room ("hub") that people join over Phoenix Channels, with presence (lobby
// and room), the relay of networked-aframe (NAF) messages with the server-side checks of protocol.md, chat, and
// the room size enforced on entry. The Phoenix mechanics live in package phx; this package gives them meaning.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"toncon/internal/auth"
	"toncon/internal/phx"
	"toncon/internal/store"
)

// Config is what the hub channel needs. Store, Keys and PublicURL are required.
type Config struct {
	Store     store.Store
	Keys      *auth.Keys
	PublicURL *url.URL // where people reach this server; its host and port are also the media host for now
	Log       *slog.Logger
	Now       func() time.Time // injectable clock; default time.Now

	// Media is the SFU, for get_host and for carrying out mute and kick; nil when media runs elsewhere unmanaged.
	Media Media
	// Gate says whether rooms must refuse people now (offline mode or budget), with a redirect URL; nil = never.
	Gate func(ctx context.Context) (offline bool, reason, redirect string)
	// Files keeps the uploads that pinned objects show; nil refuses pins that name a file.
	Files FileKeeper

	MaxChatBytes int     // longest chat body, default 4096
	NAFRate      float64 // naf+nafr messages a second per session, default 100 (burst twice that); negative = no limit
	ChatRate     float64 // chat messages a second per session, default 5 (burst 10); negative = no limit

	// Interest management (interest.go): in rooms with at least InterestMinRoom people entered, avatars farther
	// than InterestRadius metres from a person reach that person at most once every InterestInterval (default
	// 300 ms). InterestMinRoom 0 turns it off; InterestRadius defaults to 8.
	InterestMinRoom  int
	InterestRadius   float64
	InterestInterval time.Duration
}

// Stats counts what the relay did; read with Load.
type Stats struct {
	NAFRelayed                                               atomic.Int64
	NAFDroppedSpawn, NAFDroppedFirstSyncInUM, NAFDroppedRate atomic.Int64
	NAFDroppedInvalid                                        atomic.Int64
	NAFDroppedUnknownEntity, NAFDroppedNotOwner              atomic.Int64
	ChatRelayed, ChatDropped                                 atomic.Int64
	Joins, JoinsRefused                                      atomic.Int64
	EntitiesRemovedOnLeave                                   atomic.Int64
	// Interest management: pose updates held back for someone far away; of those, the ones a newer update
	// replaced (never sent) and the ones sent later.
	InterestHeld, InterestSuperseded, InterestFlushed atomic.Int64
	// JoinLatency is how long accepted joins took in the handler (hub and settings reads, token signing).
	JoinLatency Histogram
}

// Service owns the live rooms of this node.
type Service struct {
	cfg   Config
	stats Stats

	flushEvery time.Duration // how often a room's interest flusher runs; tests stretch it to flush by hand

	mu    sync.Mutex // guards rooms
	rooms map[store.HubSID]*room

	bansMu sync.Mutex           // guards bans
	bans   map[string]time.Time // "<hub_sid>|<session>" → until when a kicked session may not rejoin
}

// New makes the hub service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.PublicURL == nil {
		return nil, errors.New("hub: Store, Keys and PublicURL are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxChatBytes <= 0 {
		cfg.MaxChatBytes = 4096
	}
	if cfg.NAFRate == 0 {
		cfg.NAFRate = 100
	}
	if cfg.ChatRate == 0 {
		cfg.ChatRate = 5
	}
	if cfg.InterestRadius <= 0 {
		cfg.InterestRadius = 8
	}
	if cfg.InterestInterval <= 0 {
		cfg.InterestInterval = defaultInterestInterval
	}
	return &Service{cfg: cfg, rooms: map[store.HubSID]*room{}, flushEvery: interestTick}, nil
}

// Stats returns the live counters.
func (s *Service) Stats() *Stats { return &s.stats }

const topicPrefix = "hub:"

// Route is the phx.Router for hub topics; other topics get nil (unmatched).
func (s *Service) Route(sock *phx.Socket, topic string) phx.Handler {
	if !strings.HasPrefix(topic, topicPrefix) {
		return nil
	}
	return &channel{svc: s, sid: store.HubSID(strings.TrimPrefix(topic, topicPrefix))}
}

// Connect is the phx.Connector: a valid session_token keeps the session id across reconnects; anything else
// (none, expired, forged) starts a new session, as Reticulum does.
func (s *Service) Connect(r *http.Request) (string, any, error) {
	if tok := r.URL.Query().Get("session_token"); tok != "" {
		if id, err := s.cfg.Keys.VerifySession(tok, s.cfg.Now()); err == nil {
			return id, nil, nil
		}
	}
	return newSessionID(), nil, nil
}

// Occupancy returns how many people are in the room and in its lobby on this node.
func (s *Service) Occupancy(sid store.HubSID) (members, lobby int) {
	s.mu.Lock()
	r := s.rooms[sid]
	s.mu.Unlock()
	if r == nil {
		return 0, 0
	}
	return r.occupancy()
}

// Totals returns the number of live rooms and the sessions in rooms and lobbies across them.
func (s *Service) Totals() (rooms, inRoom, inLobby int) {
	s.mu.Lock()
	list := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		list = append(list, r)
	}
	s.mu.Unlock()
	for _, r := range list {
		m, l := r.occupancy()
		inRoom += m
		inLobby += l
	}
	return len(list), inRoom, inLobby
}

// BroadcastAll sends an event to everyone in every live room on this node (server notices such as going offline).
func (s *Service) BroadcastAll(srv *phx.Server, event string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("broadcast %s: %w", event, err)
	}
	s.mu.Lock()
	topics := make([]string, 0, len(s.rooms))
	for _, r := range s.rooms {
		topics = append(topics, r.topic)
	}
	s.mu.Unlock()
	for _, t := range topics {
		srv.Broadcast(t, phx.EncodeBroadcast(t, event, b, false), nil)
	}
	return nil
}

// View returns the HUB JSON of a stored hub with this node's occupancy. Its host and port are the room's media
// node when there is one, as get_host answers.
func (s *Service) View(h store.Hub) HubView {
	m, l := s.Occupancy(h.SID)
	v := NewHubView(s.cfg.PublicURL, h, m, l)
	if v.Scene != nil && v.Scene.ModelURL == "" {
		s.resolveScene(v.Scene) // an uploaded scene: its file is in the store
	}
	if s.cfg.Media != nil {
		v.Host, v.Port = s.cfg.Media.Host(h.SID)
	}
	return v
}

// acquire returns the live room for h, creating it, and adds c as a member. The room's hub record is refreshed
// from h, which the caller has just read from the store.
func (s *Service) acquire(h store.Hub, c *channel) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[h.SID]
	if r == nil {
		r = &room{sid: h.SID, topic: topicPrefix + string(h.SID), members: map[*channel]struct{}{}, entities: map[string]*entity{}}
		s.rooms[h.SID] = r
	}
	r.mu.Lock()
	r.hub = h
	r.members[c] = struct{}{}
	r.mu.Unlock()
	return r
}

// release removes c from its room and forgets the room when it empties. It returns the non-persistent
// entities c owned, which must be removed for everyone else (check 4).
func (s *Service) release(r *room, c *channel) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, c)
	if c.presence == presenceRoom {
		r.inRoom--
	}
	var removed []string
	if r.sessionPresentLocked(c.sessionID) {
		return nil // the same session is still here on another socket: its entities live on
	}
	for id, e := range r.entities {
		if e.owner == c.sessionID && !e.persistent && !e.pinned {
			removed = append(removed, id)
			delete(r.entities, id)
		}
	}
	if len(r.members) == 0 && s.rooms[r.sid] == r {
		delete(s.rooms, r.sid)
		r.gone.Store(true) // ends its interest flusher
	}
	return removed
}

// touch records activity on a hub without holding up the caller on errors: they are logged.
func (s *Service) touch(sid store.HubSID) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Store.TouchHub(ctx, sid, s.cfg.Now()); err != nil {
		s.cfg.Log.Warn("record room activity", "hub", sid, "err", err)
	}
}

// room is the live state of one hub on this node.
type room struct {
	sid   store.HubSID
	topic string

	mu       sync.Mutex // guards everything below
	hub      store.Hub
	members  map[*channel]struct{}
	inRoom   int                // members whose presence is "room"
	entities map[string]*entity // NAF entities by networkId, as first synced
	// blockPairs holds "a|b" for every session a that blocked session b.
	blockPairs map[string]bool

	blocks atomic.Int32 // len(blockPairs), read without the lock so rooms without blocks skip the filter

	pinsOnce sync.Once  // loads the pinned objects into entities (loadPins)
	pinning  sync.Mutex // one pin or unpin at a time, from keeping its file to releasing the old one (handlePin)

	flusherOnce sync.Once   // starts the interest flusher (interest.go) the first time an update is held back
	gone        atomic.Bool // set when the service forgets the room
}

// blocked says whether messages between a and b must not flow: either blocked the other.
func (r *room) blocked(a, b string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blockPairs[a+"|"+b] || r.blockPairs[b+"|"+a]
}

// setBlock records or lifts a's block of b.
func (r *room) setBlock(a, b string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.blockPairs == nil {
		r.blockPairs = map[string]bool{}
	}
	if on {
		r.blockPairs[a+"|"+b] = true
	} else {
		delete(r.blockPairs, a+"|"+b)
	}
	r.blocks.Store(int32(len(r.blockPairs)))
}

// entity is what the relay remembers of a networked entity, to decide who may update or remove it.
type entity struct {
	creator       string // session id
	owner         string // session id; changes when someone with permission takes the entity over
	lastOwnerTime float64
	template      string
	persistent    bool
	pinned        bool
}

func (r *room) occupancy() (members, lobby int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inRoom, len(r.members) - r.inRoom
}

// sessionPresentLocked says whether the session still has a channel in the room (a reconnect that overlapped
// its old socket). r.mu must be held.
func (r *room) sessionPresentLocked(sessionID string) bool {
	for m := range r.members {
		if m.sessionID == sessionID {
			return true
		}
	}
	return false
}

func (r *room) hubRecord() store.Hub {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hub
}

// tryEnter moves c from the lobby into the room unless the room is full. Owners are exempt from room_size.
func (r *room) tryEnter(c *channel, exempt bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.presence == presenceRoom {
		return nil
	}
	if !exempt && r.hub.RoomSize > 0 && r.inRoom >= r.hub.RoomSize {
		return fmt.Errorf("the room holds %d people and is full", r.hub.RoomSize)
	}
	r.inRoom++
	c.pmu.Lock()
	c.presence = presenceRoom
	c.pmu.Unlock()
	return nil
}
