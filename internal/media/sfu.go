// Package media is toncon's SFU, the part of Mozilla Hubs that Dialog was: voice, camera and screen share over
// WebRTC. Each person has a publish PeerConnection (they offer: one audio track, at most one video track) and a
// subscribe PeerConnection (we offer, and renegotiate as other people's tracks come and go); packets are forwarded
// without decoding, with simulcast layers picked per receiver. Joining needs the perms token the hub channel hands
// out. Signalling is JSON over a WebSocket (docs/media.md has the protocol); media uses one UDP port for everyone.
package media

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"toncon/internal/store"
)

// Config is what the SFU needs. PermsKey is required.
type Config struct {
	PermsKey *rsa.PublicKey // verifies perms tokens (the app's keys/perms.pub.pem)

	UDPPort     int    // the one UDP port for all media (ICE UDP mux); 0 picks a free one
	TCPPort     int    // passive ICE-TCP port for networks that block UDP; 0 picks a free one, -1 turns it off
	ListenIP    string // address to listen on for media; "" = all (the seed's MEDIASOUP_LISTEN_IP)
	AnnouncedIP string // address put in candidates when behind 1:1 NAT (the seed's MEDIASOUP_ANNOUNCED_IP)

	// Host and Port are what get_host answers for rooms on this node: where browsers open /media/socket.
	Host string
	Port int

	Log *slog.Logger
	Now func() time.Time // token checks; default time.Now

	MaxMessageBytes int64         // largest signalling message; default 256 KiB (an SDP offer is a few KiB)
	JoinTimeout     time.Duration // a socket that has not joined by then is closed; default 10 s
	AnswerTimeout   time.Duration // how long a client may take to answer a subscribe offer; default 10 s
	WriteTimeout    time.Duration // per signalling write and ping; default 10 s
	PingInterval    time.Duration // WebSocket pings, which find half-open sockets; default 20 s
	Tick            time.Duration // layer choice, keyframe retries and load figures; default 1 s

	// MaxVoices is how many voices each room forwards: its loudest, by the audio level browsers send (see
	// voices.go). 0 forwards every voice. Voices without a level are always forwarded.
	MaxVoices int
	// VoiceInterval is how often each room re-chooses its loudest voices; default 200 ms.
	VoiceInterval time.Duration
}

// SFU is the media server of one process.
type SFU struct {
	cfg Config
	log *slog.Logger
	tr  *transport

	mu     sync.Mutex // guards rooms and closed
	rooms  map[string]*room
	closed bool

	wg       sync.WaitGroup // every goroutine the SFU starts, including socket handlers
	stopTick chan struct{}
	stats    counters
}

// counters are cumulative and read with Load.
type counters struct {
	peerConnections atomic.Int64 // PeerConnections ever created (tests check that a refused join made none)
	joinsRefused    atomic.Int64
	streams         atomic.Int64 // forwarded streams now: bound (track, subscriber) pairs
	forwardedBase   atomic.Int64 // packets forwarded by tracks that have ended
	suppressedBase  atomic.Int64 // packets suppressed by tracks that have ended
	pps             atomic.Int64 // forwarded packets per second over the last tick
}

// New listens on the media ports and starts the SFU. Close stops it.
func New(cfg Config) (*SFU, error) {
	if cfg.PermsKey == nil {
		return nil, errors.New("media: a perms public key is required (--perms-public-key)")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	setDefault := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDefault(&cfg.JoinTimeout, 10*time.Second)
	setDefault(&cfg.AnswerTimeout, 10*time.Second)
	setDefault(&cfg.WriteTimeout, 10*time.Second)
	setDefault(&cfg.PingInterval, 20*time.Second)
	setDefault(&cfg.Tick, time.Second)
	setDefault(&cfg.VoiceInterval, 200*time.Millisecond)
	if cfg.MaxVoices < 0 {
		return nil, fmt.Errorf("media: the most voices to forward is 0 (all) or more, not %d", cfg.MaxVoices)
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 256 << 10
	}
	tr, err := newTransport(cfg, cfg.Log)
	if err != nil {
		return nil, err
	}
	s := &SFU{cfg: cfg, log: cfg.Log, tr: tr, rooms: map[string]*room{}, stopTick: make(chan struct{})}
	s.wg.Add(1)
	go s.tickLoop()
	if cfg.MaxVoices > 0 {
		s.wg.Add(1)
		go s.voiceLoop()
	}
	cfg.Log.Info("media is listening", "udp_port", tr.udpPort, "tcp_port", tr.tcpPort,
		"listen_ip", cfg.ListenIP, "announced_ip", cfg.AnnouncedIP)
	return s, nil
}

// Ports returns the UDP and TCP ports media uses (TCP 0 when ICE-TCP is off).
func (s *SFU) Ports() (udp, tcp int) { return s.tr.udpPort, s.tr.tcpPort }

// Close closes every signalling socket (clients are told the server is going away), waits for the peers to be
// torn down until ctx ends, and releases the media ports.
func (s *SFU) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var peers []*peer
	for _, r := range s.rooms {
		peers = append(peers, r.peerList()...)
	}
	s.mu.Unlock()
	close(s.stopTick)
	for _, p := range peers {
		p.closeWith(CloseShutdown, "server shutting down")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("media: peers still closing: %w", ctx.Err())
	}
	s.tr.close()
	return err
}

// ServeHTTP is /media/socket: the signalling WebSocket.
func (s *SFU) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closed {
		http.Error(w, "media server is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	// Any origin may connect: the socket carries no cookies, and the perms token in join is the only credential.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered the HTTP request
	}
	ws.SetReadLimit(s.cfg.MaxMessageBytes)
	c := newConn(ws, s.cfg.WriteTimeout, s.cfg.PingInterval)
	p := &peer{sfu: s, conn: c, log: s.log, hubHint: r.URL.Query().Get("hub_id")}
	go c.writeLoop()
	p.serve()
	<-c.writerDone
}

// Host is where browsers reach this node's /media/socket (hub.Media).
func (s *SFU) Host(store.HubSID) (string, int) { return s.cfg.Host, s.cfg.Port }

// Mute stops forwarding a session's audio (muted true) until they unmute themselves, or lifts it (hub.Media). The
// room remembers it while it lives, so reconnecting does not unmute.
func (s *SFU) Mute(hub store.HubSID, session string, muted bool) {
	r := s.room(string(hub), false)
	if r == nil {
		return
	}
	if p := r.setMuted(session, muted); p != nil {
		p.applyMute(muted)
	}
}

// Kick closes a session's media and signalling socket (hub.Media).
func (s *SFU) Kick(hub store.HubSID, session string) {
	r := s.room(string(hub), false)
	if r == nil {
		return
	}
	if p := r.peer(session); p != nil {
		p.stopForwarding()
		p.closeWith(CloseKicked, "kicked by a moderator")
	}
}

// room returns the live room, creating it when create is set (nil after Close).
func (s *SFU) room(id string, create bool) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[id]
	if r == nil && create && !s.closed {
		r = newRoom(s, id)
		s.rooms[id] = r
	}
	return r
}

// dropRoomIfEmpty forgets a room once its last peer has left (and with it the mutes it remembered).
func (s *SFU) dropRoomIfEmpty(r *room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.id] == r && r.empty() {
		delete(s.rooms, r.id)
	}
}

func (s *SFU) roomList() []*room {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		list = append(list, r)
	}
	return list
}

// Load is what /media/meta reports.
type Load struct {
	// Cap is the load figure a room placer compares across nodes: forwarded streams, i.e. (track, receiver)
	// pairs. It grows with the square of room size, which is what costs CPU (see docs/media.md).
	Cap              int64 `json:"cap"`
	Rooms            int   `json:"rooms"`
	Peers            int   `json:"peers"`
	Tracks           int   `json:"tracks"`
	Streams          int64 `json:"streams"`
	ForwardedPackets int64 `json:"forwarded_packets"`
	ForwardedPPS     int64 `json:"forwarded_pps"`
	// SuppressedPackets counts the packet writes loudest-voice forwarding saved: a suppressed voice's packet
	// times the receivers it would have gone to (comparable to ForwardedPackets).
	SuppressedPackets int64 `json:"suppressed_packets"`
	MaxVoices         int   `json:"max_voices"` // 0: every voice is forwarded
}

// Load returns the current load.
func (s *SFU) Load() Load {
	l := Load{Streams: s.stats.streams.Load(), ForwardedPPS: s.stats.pps.Load(), MaxVoices: s.cfg.MaxVoices}
	l.Cap = l.Streams
	rooms := s.roomList()
	l.Rooms = len(rooms)
	var fwd, sup int64
	for _, r := range rooms {
		peers, tracks := r.counts()
		l.Peers += peers
		l.Tracks += len(tracks)
		for _, t := range tracks {
			fwd += t.forwarded.Load()
			sup += t.dropped.Load()
		}
	}
	l.ForwardedPackets = s.stats.forwardedBase.Load() + fwd
	l.SuppressedPackets = s.stats.suppressedBase.Load() + sup
	return l
}

// tickLoop runs the periodic work: layer rates and choices, keyframe retries, the forwarded-packets rate.
func (s *SFU) tickLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	var lastFwd int64
	last := time.Now()
	for {
		select {
		case <-s.stopTick:
			return
		case now := <-t.C:
			for _, r := range s.roomList() {
				_, tracks := r.counts()
				for _, tr := range tracks {
					tr.tick(now)
				}
			}
			fwd := s.Load().ForwardedPackets
			if secs := now.Sub(last).Seconds(); secs > 0 {
				s.stats.pps.Store(int64(float64(fwd-lastFwd) / secs))
			}
			lastFwd, last = fwd, now
		}
	}
}

// voiceLoop re-chooses every room's loudest voices every VoiceInterval (voices.go). It runs only with MaxVoices
// set: without it nothing is ever suppressed.
func (s *SFU) voiceLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.VoiceInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopTick:
			return
		case <-t.C:
			now := nanotime()
			for _, r := range s.roomList() {
				r.selectVoices(s.cfg.MaxVoices, now)
			}
		}
	}
}

// goSafe starts f as a goroutine the SFU waits for on Close.
func (s *SFU) goSafe(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}
