package media

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"toncon/internal/auth"
)

// peer is one signalling socket and, once it has joined, one person in a room with up to two PeerConnections.
type peer struct {
	sfu     *SFU
	conn    *conn
	log     *slog.Logger
	hubHint string // ?hub_id= on the socket URL, for proxies that route by room; join must match it

	// Set by join in the reading goroutine before the peer is put in the room, then never changed.
	room    *room
	session string
	joined  atomic.Bool

	// audioOn says whether this peer's audio is forwarded: the token grants voice_chat and no moderator has muted
	// them. The audio reader checks it on every packet.
	audioOn atomic.Bool

	mu          sync.Mutex // guards everything below
	voice       bool       // voice_chat in the current token
	modMuted    bool
	expiry      *time.Timer // closes the socket when the token runs out without a refresh
	pub         *webrtc.PeerConnection
	videoSource string
	tracks      map[*webrtc.RTPReceiver]*pubTrack
	sub         *subscriber
	closed      bool
}

// serve reads requests until the socket ends, then tears the peer down. It runs in the HTTP handler's goroutine.
func (p *peer) serve() {
	joinTimer := time.AfterFunc(p.sfu.cfg.JoinTimeout, func() {
		if !p.joined.Load() {
			p.conn.close(CloseProtocol, "no join request in time")
		}
	})
	defer joinTimer.Stop()
	defer p.shutdown()
	for {
		_, b, err := p.conn.ws.Read(context.Background())
		if err != nil {
			p.conn.close(websocket.StatusNormalClosure, "")
			return
		}
		var m inMessage
		if err := json.Unmarshal(b, &m); err != nil {
			p.conn.close(CloseProtocol, "malformed message: not JSON")
			return
		}
		switch {
		case m.Response:
			p.conn.deliver(&m)
		case m.Request:
			data, err := p.handle(&m)
			p.conn.respond(m.ID, data, err)
			// Close only after the response is queued, so that it reaches the client first.
			switch {
			case m.Method == "join" && err != nil:
				p.conn.close(CloseJoinRefused, "join refused")
				return
			case m.Method == "leave" && err == nil:
				p.conn.close(websocket.StatusNormalClosure, "left")
			}
		case m.Notification:
			// Clients have nothing to tell us without an answer; ignored.
		default:
			p.conn.close(CloseProtocol, "malformed message: neither request, response nor notification")
			return
		}
	}
}

func (p *peer) handle(m *inMessage) (any, error) {
	if m.Method == "join" {
		return p.handleJoin(m.Data)
	}
	if !p.joined.Load() {
		return nil, refuse("not_joined", "send join first")
	}
	switch m.Method {
	case "publish":
		return p.handlePublish(m.Data)
	case "candidate":
		return p.handleCandidate(m.Data)
	case "set_layer":
		return p.handleSetLayer(m.Data)
	case "unmute":
		return p.handleUnmute()
	case "refresh_token":
		return p.handleRefresh(m.Data)
	case "leave":
		return struct{}{}, nil // serve closes the socket once the response is queued
	}
	return nil, refuse("unknown_method", "the media socket has no request %q", m.Method)
}

// maxIDLength bounds the ids a client names (hub ids are 7 characters, session ids UUIDs).
const maxIDLength = 64

type joinRequest struct {
	HubID     string `json:"hub_id"`
	SessionID string `json:"session_id"`
	Token     string `json:"token"`
}

type voiceState struct {
	Allowed bool `json:"allowed"` // voice_chat granted by the token
	Muted   bool `json:"muted"`   // muted by a moderator; unmute lifts it
}

type joinResponse struct {
	SessionID string     `json:"session_id"`
	Peers     []peerInfo `json:"peers"`
	Voice     voiceState `json:"voice"`
	ExpiresAt int64      `json:"expires_at"` // the token's expiry (Unix seconds): refresh before it
}

func (p *peer) handleJoin(data json.RawMessage) (any, error) {
	if p.joined.Load() {
		return nil, refuse("already_joined", "this socket has joined already; open another socket for another room")
	}
	var req joinRequest
	if err := json.Unmarshal(data, &req); err != nil || req.HubID == "" || req.Token == "" {
		return nil, refuse("bad_request", "join needs {hub_id, token} and may have session_id")
	}
	if len(req.HubID) > maxIDLength || len(req.SessionID) > maxIDLength {
		return nil, refuse("bad_request", "hub_id and session_id are at most %d characters", maxIDLength)
	}
	if p.hubHint != "" && p.hubHint != req.HubID {
		return nil, refuse("wrong_hub", "the socket URL names hub %s but join names %s", p.hubHint, req.HubID)
	}
	voice, exp, tokenSession, err := p.sfu.checkToken(req.Token, req.HubID, req.SessionID)
	if err != nil {
		p.sfu.stats.joinsRefused.Add(1)
		p.log.Info("media join refused", "hub", req.HubID, "err", err)
		return nil, err
	}
	// Only now, with a good token, does the peer get anything. The token names the session it was issued to,
	// so nobody can join under someone else's session (and knock them out, or lift their mute).
	p.session = req.SessionID
	if tokenSession != "" {
		p.session = tokenSession
	}
	if p.session == "" {
		p.session = uuid.NewString()
	}
	p.log = p.log.With("hub", req.HubID, "session", p.session)
	p.room = p.sfu.room(req.HubID, true)
	if p.room == nil {
		return nil, refuse("shutting_down", "the media server is shutting down; ask get_host and reconnect")
	}
	p.mu.Lock()
	p.voice = voice
	p.tracks = map[*webrtc.RTPReceiver]*pubTrack{}
	p.sub = &subscriber{peer: p, slots: map[*pubTrack]*slot{}}
	p.mu.Unlock()
	replaced, muted, others := p.room.add(p)
	p.joined.Store(true)
	if replaced != nil {
		replaced.closeWith(CloseReplaced, "this session joined again on another socket")
	}
	p.mu.Lock()
	p.modMuted = muted
	p.audioOn.Store(p.voice && !p.modMuted)
	p.setExpiryLocked(exp)
	p.mu.Unlock()
	for _, o := range others {
		o.conn.notify("peer_joined", map[string]string{"session_id": p.session})
	}
	p.sub.schedule()
	return joinResponse{SessionID: p.session, Peers: p.room.describe(p), Voice: voiceState{Allowed: voice, Muted: muted},
		ExpiresAt: exp.Unix()}, nil
}

// checkToken verifies a perms token for hub (and, when given, session) and returns whether it grants voice,
// when it expires and the session it was issued to ("" for tokens without one).
func (s *SFU) checkToken(token, hub, session string) (voice bool, exp time.Time, tokenSession string, err error) {
	voice, exp, tokenSession, err = s.verifyToken(token, hub)
	if err == nil && tokenSession != "" && session != "" && tokenSession != session {
		err = refuse("wrong_session", "the perms token was issued to another session: use your own hub session's token")
	}
	return voice, exp, tokenSession, err
}

func (s *SFU) verifyToken(token, hub string) (voice bool, exp time.Time, tokenSession string, err error) {
	claims, err := auth.VerifyPerms(s.cfg.PermsKey, token, s.cfg.Now())
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return false, exp, "", refuse("token_expired", "the perms token has expired: get a fresh one from the hub channel (refresh_perms_token) and try again")
	case errors.Is(err, auth.ErrTokenNotYetValid):
		return false, exp, "", refuse("token_invalid", "the perms token is not valid yet: check this server's clock")
	case errors.Is(err, auth.ErrTokenBadSignature):
		return false, exp, "", refuse("token_invalid", "the perms token is not signed by this server's perms key (a media node needs the app's keys/perms.pub.pem)")
	case errors.Is(err, auth.ErrTokenWrongAudience):
		return false, exp, "", refuse("token_invalid", "that is not a perms token (audience ret_perms)")
	case err != nil:
		return false, exp, "", refuse("token_invalid", "the perms token is malformed")
	case claims.HubID != hub:
		return false, exp, "", refuse("wrong_hub", "the perms token is for another room: get one from this room's hub channel")
	case !claims.Perms["join_hub"]:
		return false, exp, "", refuse("join_denied", "this token does not allow joining the room (join_hub is false)")
	}
	if exp, err = tokenExpiry(token); err != nil {
		return false, exp, "", refuse("token_invalid", "the perms token has no usable exp claim")
	}
	return claims.Perms["voice_chat"], exp, claims.SessionID, nil
}

// tokenExpiry reads exp from a token whose signature has already been checked.
func tokenExpiry(token string) (time.Time, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, err
	}
	var c struct {
		Exp float64 `json:"exp"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Exp <= 0 {
		return time.Time{}, errors.New("no exp")
	}
	return time.Unix(int64(c.Exp), 0), nil
}

// setExpiryLocked (re)arms the timer that ends the session when its token runs out, with the same leeway the
// token check allows. Hubs clients refresh a minute before expiry, so a working client never meets it; a client
// that stops refreshing loses its media, which keeps a revoked permission from living on. p.mu must be held.
func (p *peer) setExpiryLocked(exp time.Time) {
	if p.expiry != nil {
		p.expiry.Stop()
	}
	d := exp.Add(auth.TokenLeeway).Sub(p.sfu.cfg.Now())
	p.expiry = time.AfterFunc(d, func() {
		p.closeWith(CloseTokenExpired, "perms token expired: send refresh_token before it runs out")
	})
}

type refreshRequest struct {
	Token string `json:"token"`
}

func (p *peer) handleRefresh(data json.RawMessage) (any, error) {
	var req refreshRequest
	if err := json.Unmarshal(data, &req); err != nil || req.Token == "" {
		return nil, refuse("bad_request", "refresh_token needs {token}")
	}
	voice, exp, _, err := p.sfu.checkToken(req.Token, p.room.id, p.session)
	if err != nil {
		return nil, err // the old token stays in force until it expires
	}
	p.mu.Lock()
	p.voice = voice
	p.audioOn.Store(p.voice && !p.modMuted)
	p.setExpiryLocked(exp)
	muted := p.modMuted
	p.mu.Unlock()
	return map[string]any{"expires_at": exp.Unix(), "voice": voiceState{Allowed: voice, Muted: muted}}, nil
}

func (p *peer) handleUnmute() (any, error) {
	p.room.setMuted(p.session, false)
	p.applyMute(false)
	p.mu.Lock()
	defer p.mu.Unlock()
	return map[string]any{"voice": voiceState{Allowed: p.voice, Muted: false}}, nil
}

// applyMute sets or lifts a moderator's mute and tells the peer.
func (p *peer) applyMute(muted bool) {
	p.mu.Lock()
	changed := p.modMuted != muted
	p.modMuted = muted
	p.audioOn.Store(p.voice && !p.modMuted)
	p.mu.Unlock()
	if changed {
		p.conn.notify("muted", map[string]bool{"muted": muted})
	}
}

// stopForwarding stops this peer's audio at once (before its connections are torn down).
func (p *peer) stopForwarding() { p.audioOn.Store(false) }

// closeWith closes the socket with a code and reason and tears the peer's media down at once, without waiting
// for the close handshake.
func (p *peer) closeWith(code websocket.StatusCode, reason string) {
	p.conn.close(code, reason)
	p.goIfOpen(p.shutdown)
}

// goIfOpen runs f in a goroutine the SFU waits for, unless the peer is already shut down. Checking and adding
// under p.mu means the SFU's wait group never grows after the peer's handler has finished.
func (p *peer) goIfOpen(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.sfu.goSafe(f)
	}
}

// shutdown leaves the room and closes both PeerConnections. It runs once; later calls return at once.
func (p *peer) shutdown() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.audioOn.Store(false)
	if p.expiry != nil {
		p.expiry.Stop()
	}
	pub, sub := p.pub, p.sub
	p.mu.Unlock()
	if p.joined.Load() {
		left, removed := p.room.remove(p)
		if removed {
			for _, o := range left {
				o.conn.notify("peer_left", map[string]string{"session_id": p.session})
			}
		}
	}
	if sub != nil {
		sub.close()
	}
	if pub != nil {
		// Closing ends the track readers, which unpublish the tracks and tell the others.
		if err := pub.Close(); err != nil {
			p.log.Debug("closing the publish connection", "err", err)
		}
	}
}

// newPeerConnection makes a PeerConnection from the process's API and closes the peer if it fails.
func (p *peer) newPeerConnection() (*webrtc.PeerConnection, error) {
	pc, err := p.sfu.tr.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	p.sfu.stats.peerConnections.Add(1)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed {
			p.closeWith(CloseMediaFailed, "media connection failed; reconnect")
		}
	})
	return pc, nil
}

// localDescription sets desc as the local description and waits until our candidates are in it, so the client
// needs no trickle from us. With one muxed port and no STUN this takes no time.
func localDescription(ctx context.Context, pc *webrtc.PeerConnection, desc webrtc.SessionDescription) (string, error) {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", errors.New("gathering candidates took too long")
	}
	return pc.LocalDescription().SDP, nil
}

type candidateRequest struct {
	Target    string                  `json:"target"` // publish or subscribe
	Candidate webrtc.ICECandidateInit `json:"candidate"`
}

// handleCandidate takes a trickled client candidate. Optional: the server is ICE-lite and learns the client's
// address from its connectivity checks, so clients may skip trickling altogether.
func (p *peer) handleCandidate(data json.RawMessage) (any, error) {
	var req candidateRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, refuse("bad_request", "candidate needs {target, candidate}")
	}
	var pc *webrtc.PeerConnection
	p.mu.Lock()
	switch req.Target {
	case "publish":
		pc = p.pub
	case "subscribe":
		pc = p.sub.currentPC()
	}
	p.mu.Unlock()
	if pc == nil {
		return nil, refuse("bad_request", "no %q connection yet", req.Target)
	}
	if err := pc.AddICECandidate(req.Candidate); err != nil {
		return nil, refuse("bad_candidate", "%v", err)
	}
	return struct{}{}, nil
}

type setLayerRequest struct {
	SessionID string `json:"session_id"` // whose video
	RID       string `json:"rid"`        // a simulcast rid, or "auto"
}

func (p *peer) handleSetLayer(data json.RawMessage) (any, error) {
	var req setLayerRequest
	if err := json.Unmarshal(data, &req); err != nil || req.SessionID == "" {
		return nil, refuse("bad_request", "set_layer needs {session_id, rid}")
	}
	d := p.sub.videoFrom(req.SessionID)
	if d == nil {
		return nil, refuse("no_video", "you receive no video from %s", req.SessionID)
	}
	if req.RID == "auto" || req.RID == "" {
		d.pin("")
		return struct{}{}, nil
	}
	if !d.track.hasLayer(req.RID) {
		return nil, refuse("no_layer", "%s sends no layer %q (layers: %s)", req.SessionID, req.RID, strings.Join(d.track.info().Layers, ", "))
	}
	d.pin(req.RID)
	return struct{}{}, nil
}
