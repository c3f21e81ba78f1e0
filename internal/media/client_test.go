package media

// A signalling and WebRTC client for tests: Pion PeerConnections in the test process, speaking the protocol of
// docs/media.md the way a browser client would.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"toncon/internal/auth"
)

// env is an SFU behind an httptest server, and keys to mint tokens with.
type env struct {
	t    testing.TB
	sfu  *SFU
	url  string // http://host:port of the server
	http *httptest.Server
	keys *auth.Keys
	now  func() time.Time
}

// testKeys sign tokens the SFU accepts; forgeKeys are an unrelated pair, for forged tokens. Made once in
// TestMain: RSA key generation is the slowest part of the suite.
var testKeys, forgeKeys *auth.Keys

func newEnv(t testing.TB, tweak func(*Config)) *env {
	t.Helper()
	keys := testKeys
	cfg := Config{PermsKey: keys.PermsPublicKey(), ListenIP: "127.0.0.1", Host: "127.0.0.1", Port: 4000,
		Tick: 100 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/media/socket", s)
	mux.Handle("/media/meta", s.MetaHandler())
	mux.Handle("/media/control", s.ControlHandler())
	e := &env{t: t, sfu: s, http: httptest.NewServer(mux), keys: keys, now: time.Now}
	e.url = e.http.URL
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("closing the SFU: %v", err)
		}
		e.http.Close()
	})
	return e
}

// token mints a perms token for hub with the usual member permissions, changed by perms.
func (e *env) token(hub string, perms map[string]bool) string {
	p := map[string]bool{"join_hub": true, "voice_chat": true, "text_chat": true}
	for k, v := range perms {
		p[k] = v
	}
	tok, err := e.keys.MintPerms(auth.PermsClaims{HubID: hub, Perms: p}, e.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// client is one person: a signalling socket, a publish and a subscribe PeerConnection.
type client struct {
	t    testing.TB
	name string
	ws   *websocket.Conn
	api  *webrtc.API

	mu      sync.Mutex // guards pending, nextID, notes, recv, sub, pub, closeErr
	pending map[int]chan inMessage
	nextID  int
	notes   []inMessage
	recv    map[string]*received // by "<stream id>/<kind>"
	pub     *webrtc.PeerConnection
	sub     *webrtc.PeerConnection

	readDone chan struct{}
	closeErr error
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	plis     atomic.Int64 // keyframe requests that reached this client as a publisher
}

// received counts what a subscriber got from one track.
type received struct {
	packets atomic.Int64
	gaps    atomic.Int64 // sequence numbers skipped on the receiving side (the SFU renumbers each receiver's stream)
	last    atomic.Value // []byte: the payload of the last packet
}

func (e *env) dial(name string) *client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.url, "http") + "/media/socket"
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	c := &client{t: e.t, name: name, ws: ws, api: clientAPI(e.t), pending: map[int]chan inMessage{},
		recv: map[string]*received{}, readDone: make(chan struct{}), stop: make(chan struct{})}
	go c.readLoop()
	e.t.Cleanup(c.close)
	return c
}

// clientAPI is what a browser brings: default codecs (with RTX) and interceptors, loopback only, no mDNS.
func clientAPI(t testing.TB) *webrtc.API { return clientAPIOver(t, webrtc.NetworkTypeUDP4) }

// clientAPIOver is clientAPI restricted to one network type (TCP4: a network that blocks UDP), offering the
// audio header extensions named by audioExts too.
func clientAPIOver(t testing.TB, network webrtc.NetworkType, audioExts ...string) *webrtc.API {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	for _, uri := range audioExts {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
		t.Fatal(err)
	}
	// Quiet: a client may see a new track's first packets before its receiver is ready, which Pion logs as an
	// error; browsers hold such packets back, and either way the track plays once the receiver is up.
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{log: slog.New(slog.DiscardHandler)}}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{network})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

func (c *client) readLoop() {
	defer close(c.readDone)
	for {
		_, b, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			return
		}
		var m inMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Errorf("%s: server sent bad JSON: %s", c.name, b)
			return
		}
		switch {
		case m.Response:
			var id int
			_ = json.Unmarshal(m.ID, &id)
			c.mu.Lock()
			ch := c.pending[id]
			delete(c.pending, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		case m.Request && m.Method == "offer":
			c.wg.Add(1)
			go func() { defer c.wg.Done(); c.answer(m) }()
		case m.Notification:
			c.mu.Lock()
			c.notes = append(c.notes, m)
			c.mu.Unlock()
		}
	}
}

// request sends a request and returns its data, or the error code and reason.
func (c *client) request(method string, data any) (json.RawMessage, *requestError) {
	c.t.Helper()
	ch := make(chan inMessage, 1)
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"request": true, "id": id, "method": method, "data": data})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, &requestError{Code: "write_failed", Reason: err.Error()}
	}
	var m inMessage
	select {
	case m = <-ch:
	case <-c.readDone:
		// The reader hands over a response before it sees the close frame that may follow it (leave), but both
		// may be ready here by now.
		select {
		case m = <-ch:
		default:
			return nil, &requestError{Code: "closed", Reason: fmt.Sprint(c.err())}
		}
	case <-ctx.Done():
		return nil, &requestError{Code: "timeout", Reason: method}
	}
	if !m.OK {
		return nil, &requestError{Code: m.ErrorCode, Reason: m.ErrorReason}
	}
	return m.Data, nil
}

func (c *client) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

func (c *client) join(e *env, hub, token string) joinResponse {
	c.t.Helper()
	data, rerr := c.request("join", map[string]string{"hub_id": hub, "session_id": c.name, "token": token})
	if rerr != nil {
		c.t.Fatalf("%s: join: %v", c.name, rerr)
	}
	var jr joinResponse
	if err := json.Unmarshal(data, &jr); err != nil {
		c.t.Fatal(err)
	}
	return jr
}

// answer handles the server's offer on the subscribe connection.
func (c *client) answer(m inMessage) {
	var offer struct {
		SDP string `json:"sdp"`
	}
	_ = json.Unmarshal(m.Data, &offer)
	c.mu.Lock()
	pc := c.sub
	if pc == nil {
		var err error
		if pc, err = c.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
			c.mu.Unlock()
			c.t.Errorf("%s: %v", c.name, err)
			return
		}
		pc.OnTrack(c.onTrack)
		c.sub = pc
	}
	c.mu.Unlock()
	reply := func(ok bool, data any, reason string) {
		b, _ := json.Marshal(map[string]any{"response": true, "id": json.RawMessage(m.ID), "ok": ok, "data": data, "errorReason": reason})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.ws.Write(ctx, websocket.MessageText, b)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		reply(false, nil, err.Error())
		return
	}
	ans, err := pc.CreateAnswer(nil)
	if err == nil {
		err = pc.SetLocalDescription(ans)
	}
	if err != nil {
		reply(false, nil, err.Error())
		return
	}
	reply(true, map[string]string{"sdp": pc.LocalDescription().SDP}, "")
}

func (c *client) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	key := tr.StreamID() + "/" + tr.Kind().String()
	c.mu.Lock()
	r := c.recv[key]
	if r == nil {
		r = &received{}
		c.recv[key] = r
	}
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		var lastSeq uint16
		first := true
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) == nil {
				r.last.Store(append([]byte(nil), pkt.Payload...))
				if d := int16(pkt.SequenceNumber - lastSeq); !first && d > 1 {
					r.gaps.Add(int64(d - 1))
				}
				if first || int16(pkt.SequenceNumber-lastSeq) > 0 {
					lastSeq, first = pkt.SequenceNumber, false
				}
			}
			r.packets.Add(1)
		}
	}()
}

// recvOf returns what this client has received of kind from session, nil before the first packet.
func (c *client) recvOf(session, kind string) *received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recv[session+"/"+kind]
}

// got returns how many packets of kind this client has received from session.
func (c *client) got(session, kind string) int64 {
	if r := c.recvOf(session, kind); r != nil {
		return r.packets.Load()
	}
	return 0
}

// gaps returns how many sequence numbers were skipped in what this client received of kind from session.
func (c *client) gaps(session, kind string) int64 {
	if r := c.recvOf(session, kind); r != nil {
		return r.gaps.Load()
	}
	return 0
}

func (c *client) lastPayload(session, kind string) []byte {
	if r := c.recvOf(session, kind); r != nil {
		b, _ := r.last.Load().([]byte)
		return b
	}
	return nil
}

// publish opens the publish connection with Opus audio and, if video, VP8 video, and keeps sending synthetic
// frames until the client closes. Video sends a keyframe every 30 frames and whenever asked.
func (c *client) publish(audio, video bool) {
	c.t.Helper()
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.pub = pc
	c.mu.Unlock()
	if audio {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "mic", c.name)
		if err != nil {
			c.t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			c.t.Fatal(err)
		}
		c.sendSamples(tr, 20*time.Millisecond, func(i int, _ bool) []byte {
			frame := make([]byte, 80) // a 20 ms Opus frame at 32 kb/s
			frame[0], frame[1] = 0xfc, byte(i)
			return frame
		})
	}
	if video {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "cam", c.name)
		if err != nil {
			c.t.Fatal(err)
		}
		t, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			c.t.Fatal(err)
		}
		var wantKey atomic.Bool
		c.readSenderRTCP(t.Sender(), "", &wantKey)
		c.sendSamples(tr, 33*time.Millisecond, func(i int, _ bool) []byte {
			frame := make([]byte, 200)
			frame[0] = 0x01 // VP8 frame header, P bit set: an interframe
			if i%30 == 0 || wantKey.Swap(false) {
				frame[0] = 0x00 // a keyframe
			}
			return frame
		})
	}
	c.negotiatePublish(pc, "camera")
}

func (c *client) negotiatePublish(pc *webrtc.PeerConnection, source string) {
	c.t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		c.t.Fatal(err)
	}
	data, rerr := c.request("publish", map[string]string{"sdp": offer.SDP, "source": source})
	if rerr != nil {
		c.t.Fatalf("%s: publish: %v", c.name, rerr)
	}
	var ans struct {
		SDP string `json:"sdp"`
	}
	_ = json.Unmarshal(data, &ans)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		c.t.Fatal(err)
	}
}

// readSenderRTCP counts keyframe requests that reach this publisher for rid and raises wantKey.
func (c *client) readSenderRTCP(s *webrtc.RTPSender, rid string, wantKey *atomic.Bool) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			var pkts []rtcp.Packet
			var err error
			if rid == "" {
				pkts, _, err = s.ReadRTCP()
			} else {
				pkts, _, err = s.ReadSimulcastRTCP(rid)
			}
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					c.plis.Add(1)
					wantKey.Store(true)
				}
			}
		}
	}()
}

func (c *client) sendSamples(tr *webrtc.TrackLocalStaticSample, every time.Duration, frame func(i int, key bool) []byte) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
				_ = tr.WriteSample(media.Sample{Data: frame(i, false), Duration: every})
			}
		}
	}()
}

// publishSimulcast publishes VP8 video in two simulcast layers, q and f, written as RTP with the MID and RID
// header extensions a browser adds. Each payload carries its layer's rid after the VP8 header, so a subscriber
// can tell which layer it gets.
func (c *client) publishSimulcast() {
	c.t.Helper()
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.pub = pc
	c.mu.Unlock()
	rids := []string{"q", "f"}
	var tracks []*webrtc.TrackLocalStaticRTP
	for _, rid := range rids {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "cam", c.name, webrtc.WithRTPStreamID(rid))
		if err != nil {
			c.t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	tx, err := pc.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := tx.Sender().AddEncoding(tracks[1]); err != nil {
		c.t.Fatal(err)
	}
	var midID, ridID uint8
	for _, x := range tx.Sender().GetParameters().HeaderExtensions {
		switch x.URI {
		case sdp.SDESMidURI:
			midID = uint8(x.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(x.ID)
		}
	}
	wantKey := make([]*atomic.Bool, len(rids))
	for i, rid := range rids {
		wantKey[i] = &atomic.Bool{}
		c.readSenderRTCP(tx.Sender(), rid, wantKey[i])
	}
	c.negotiatePublish(pc, "camera")
	mid := tx.Mid()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(33 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			for l, tr := range tracks {
				key := i%30 == 0 || wantKey[l].Swap(false)
				payload := []byte{0x10, 0x01, rids[l][0], 0, 0, 0}
				if key {
					payload[1] = 0x00
				}
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 3000),
					PayloadType: 96, Marker: true}, Payload: payload}
				_ = pkt.Header.SetExtension(midID, []byte(mid))
				_ = pkt.Header.SetExtension(ridID, []byte(rids[l]))
				_ = tr.WriteRTP(pkt)
			}
		}
	}()
}

// note waits for a notification with method for which match is true.
func (c *client) note(method string, match func(json.RawMessage) bool) json.RawMessage {
	c.t.Helper()
	var found json.RawMessage
	eventually(c.t, 5*time.Second, c.name+" gets "+method, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, m := range c.notes {
			if m.Method == method && (match == nil || match(m.Data)) {
				found = m.Data
				return true
			}
		}
		return false
	})
	return found
}

// closedWith waits until the server closes the socket and returns the close code and reason.
func (c *client) closedWith() (websocket.StatusCode, string) {
	c.t.Helper()
	select {
	case <-c.readDone:
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s: socket not closed", c.name)
	}
	var ce websocket.CloseError
	if errors.As(c.err(), &ce) {
		return ce.Code, ce.Reason
	}
	return -1, fmt.Sprint(c.err())
}

// close ends everything the client started, as a browser tab being closed would.
func (c *client) close() {
	c.stopOnce.Do(func() {
		close(c.stop)
		_ = c.ws.Close(websocket.StatusNormalClosure, "")
		<-c.readDone
		c.mu.Lock()
		pub, sub := c.pub, c.sub
		c.mu.Unlock()
		if pub != nil {
			_ = pub.Close()
		}
		if sub != nil {
			_ = sub.Close()
		}
		c.wg.Wait()
	})
}

// leaveSocketOnly closes the signalling socket but keeps the PeerConnections open, like a client that lost its
// socket: the server must stop sending it media anyway.
func (c *client) leaveSocketOnly() {
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	<-c.readDone
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// steady checks that cond keeps holding for d (used to show that something stopped).
func steady(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
