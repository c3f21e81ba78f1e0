// Package phx is a Phoenix Channels v2 (JSON) server: WebSocket sockets, topics joined as channels, replies,
// broadcasts and presence, in the wire format the official `phoenix` JavaScript client speaks. It knows nothing
// about rooms: what a topic means is up to the Handler a Router returns for it.
package phx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Config tunes a Server. Zero values take the defaults.
type Config struct {
	IdleTimeout   time.Duration // no frame for this long closes the socket; default 60 s (clients heartbeat every 30 s)
	WriteTimeout  time.Duration // a write batch that takes longer closes the socket; default 10 s
	MaxFrameBytes int64         // largest message accepted; default 64 KiB
	QueueLen      int           // outbound frames queued per socket before the slow-consumer policy applies; default 1024
}

func (c *Config) setDefaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 64 << 10
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 1024
	}
}

// Connector authenticates a WebSocket request before the upgrade and names the session. An error refuses the
// connection with 403 and the error's text.
type Connector func(r *http.Request) (sessionID string, assigns any, err error)

// Stats are the server's running counters; read them with Load.
type Stats struct {
	SocketsOpen             atomic.Int64
	FramesIn, FramesOut     atomic.Int64
	BytesIn, BytesOut       atomic.Int64
	MalformedFrames         atomic.Int64
	EphemeralDropped        atomic.Int64
	SlowConsumerDisconnects atomic.Int64
}

// Server accepts sockets and routes their topics to handlers.
type Server struct {
	cfg      Config
	router   Router
	connect  Connector
	log      *slog.Logger
	stats    Stats
	presence *Presence

	topicsMu sync.RWMutex // guards topics (the map, not the subscriber lists)
	topics   map[string]*subscribers

	socketsMu sync.Mutex // guards sockets and closed
	sockets   map[*Socket]struct{}
	closed    bool
	wg        sync.WaitGroup
}

// subscribers is a topic's channel list, replaced (copy on write) on every change so a broadcast reads it
// without a lock.
type subscribers struct {
	mu   sync.Mutex // serialises writers of list
	list atomic.Pointer[[]*Channel]
}

// NewServer makes a server. connect may be nil, which gives every socket a fresh random session id.
func NewServer(cfg Config, router Router, connect Connector, log *slog.Logger) *Server {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if connect == nil {
		connect = func(*http.Request) (string, any, error) { return newID(), nil, nil }
	}
	s := &Server{cfg: cfg, router: router, connect: connect, log: log,
		topics: map[string]*subscribers{}, sockets: map[*Socket]struct{}{}}
	s.presence = &Presence{srv: s, topics: map[string]*presenceTopic{}}
	return s
}

// Stats returns the live counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Presence returns the server's presence tracker.
func (s *Server) Presence() *Presence { return s.presence }

// ServeHTTP upgrades a request on the socket path (e.g. /socket/websocket?vsn=2.0.0) and serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if vsn := r.URL.Query().Get("vsn"); !strings.HasPrefix(vsn, "2.") {
		httpError(w, http.StatusBadRequest, "unsupported_version", "this server speaks the Phoenix v2 JSON protocol: connect with vsn=2.0.0")
		return
	}
	id, assigns, err := s.connect(r)
	if err != nil {
		httpError(w, http.StatusForbidden, "connect_refused", err.Error())
		return
	}
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return // UpgradeHTTP has answered with the reason
	}
	sock := &Socket{id: id, assigns: assigns, remoteAddr: r.RemoteAddr, server: s, conn: conn, br: rw.Reader,
		queue: newOutQueue(s.cfg.QueueLen), channels: map[string]*Channel{},
		closing: make(chan struct{}), readerDone: make(chan struct{}), writerDone: make(chan struct{})}
	s.socketsMu.Lock()
	if s.closed {
		s.socketsMu.Unlock()
		sock.Close(ws.StatusGoingAway, ReasonShutdown)
	} else {
		s.sockets[sock] = struct{}{}
		s.wg.Add(1)
		s.socketsMu.Unlock()
	}
	s.stats.SocketsOpen.Add(1)
	sock.serve()
	s.stats.SocketsOpen.Add(-1)
	s.socketsMu.Lock()
	if _, ok := s.sockets[sock]; ok {
		delete(s.sockets, sock)
		s.wg.Done()
	}
	s.socketsMu.Unlock()
}

// CloseSession closes every socket of a session (a kick).
func (s *Server) CloseSession(sessionID string, code ws.StatusCode, reason string) int {
	s.socketsMu.Lock()
	var found []*Socket
	for sock := range s.sockets {
		if sock.id == sessionID {
			found = append(found, sock)
		}
	}
	s.socketsMu.Unlock()
	for _, sock := range found {
		sock.Close(code, reason)
	}
	return len(found)
}

// Shutdown sends every socket a close frame and waits until they have finished or ctx ends. New sockets are
// refused from the moment it is called.
func (s *Server) Shutdown(ctx context.Context) error {
	s.socketsMu.Lock()
	s.closed = true
	all := make([]*Socket, 0, len(s.sockets))
	for sock := range s.sockets {
		all = append(all, sock)
	}
	s.socketsMu.Unlock()
	for _, sock := range all {
		sock.Close(ws.StatusGoingAway, ReasonShutdown)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("phx: sockets still open at the end of shutdown")
	}
}

func (s *Server) subscribers(topic string, create bool) *subscribers {
	s.topicsMu.RLock()
	subs := s.topics[topic]
	s.topicsMu.RUnlock()
	if subs != nil || !create {
		return subs
	}
	s.topicsMu.Lock()
	defer s.topicsMu.Unlock()
	if subs = s.topics[topic]; subs == nil {
		subs = &subscribers{}
		s.topics[topic] = subs
	}
	return subs
}

func (s *Server) subscribe(c *Channel) {
	subs := s.subscribers(c.topic, true)
	subs.mu.Lock()
	var next []*Channel
	if old := subs.list.Load(); old != nil {
		next = append(make([]*Channel, 0, len(*old)+1), *old...)
	}
	next = append(next, c)
	subs.list.Store(&next)
	subs.mu.Unlock()
}

func (s *Server) unsubscribe(c *Channel) {
	subs := s.subscribers(c.topic, false)
	if subs == nil {
		return
	}
	subs.mu.Lock()
	defer subs.mu.Unlock()
	old := subs.list.Load()
	if old == nil {
		return
	}
	next := make([]*Channel, 0, len(*old))
	for _, x := range *old {
		if x != c {
			next = append(next, x)
		}
	}
	if len(next) == 0 {
		s.topicsMu.Lock()
		if s.topics[c.topic] == subs {
			delete(s.topics, c.topic)
		}
		s.topicsMu.Unlock()
	}
	subs.list.Store(&next)
}

// Subscribers returns a snapshot of the channels joined to topic. Do not modify it.
func (s *Server) Subscribers(topic string) []*Channel {
	if subs := s.subscribers(topic, false); subs != nil {
		if l := subs.list.Load(); l != nil {
			return *l
		}
	}
	return nil
}

// EncodeBroadcast encodes a broadcast frame [null, null, topic, event, payload] once for every recipient.
func EncodeBroadcast(topic, event string, payload []byte, ephemeral bool) *Outbound {
	frame := AppendFrame(make([]byte, 0, len(payload)+len(topic)+len(event)+24), nil, nil, topic, event, payload)
	return NewOutbound(frame, ephemeral)
}

// Broadcast queues o to every channel joined to topic except `except` (nil for all), without blocking.
// It returns how many channels it was queued to.
func (s *Server) Broadcast(topic string, o *Outbound, except *Channel) int {
	n := 0
	for _, c := range s.Subscribers(topic) {
		if c != except {
			c.socket.send(o)
			n++
		}
	}
	return n
}

// BroadcastFunc queues o to every channel joined to topic for which keep returns true. keep runs on the
// caller's goroutine and must not block.
func (s *Server) BroadcastFunc(topic string, o *Outbound, keep func(*Channel) bool) int {
	n := 0
	for _, c := range s.Subscribers(topic) {
		if keep(c) {
			c.socket.send(o)
			n++
		}
	}
	return n
}

func httpError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": message})
}

// knownEvents lets the reader turn an event name into a string without allocating for the common ones.
var knownEvents = func() map[string]string {
	m := map[string]string{}
	for _, e := range []string{"heartbeat", "phx_join", "phx_leave", "naf", "nafr", "message",
		"events:entering", "events:entering_cancelled", "events:entered", "events:profile_updated",
		"events:begin_typing", "events:end_typing", "events:raise_hand", "events:lower_hand",
		"refresh_perms_token", "get_host", "mute", "kick", "block", "unblock"} {
		m[e] = e
	}
	return m
}()

func internEvent(b []byte) string {
	if e, ok := knownEvents[string(b)]; ok {
		return e
	}
	return string(b)
}
