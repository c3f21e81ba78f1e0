package loadtest

// Voice for --media: each simulated person joins the room's media the way the browser does (docs/media.md): a
// signalling socket at /media/socket, join with the perms token from the hub channel's join reply, a subscribe
// PeerConnection that answers the server's offers, and for talkers a publish PeerConnection with one Opus track.
// Talkers send Opus-sized RTP packets (60 to 160 bytes, 50 a second) whose payload carries the sender, a sequence
// number and the send time; nothing is encoded or decoded, so a simulated voice costs the generator a packet
// write, and a received one a packet read and a few comparisons.
//
// Each packet also carries the audio level extension a browser adds (RFC 6464), so that a server forwarding only
// each room's loudest voices (serve --media-max-voices) has levels to choose by. Each talker has its own base
// loudness and swells and fades around it (voiceLevel), so the loudest few change during a run.
//
// Loss with loudest-voice forwarding: a receiver does not get the voices the server left out, on purpose, so
// "every packet of every talker" is not what it should receive. The server numbers each receiver's stream on
// (it closes the sequence gaps a suppressed or muted voice leaves), so a gap in the RTP sequence numbers a
// receiver sees is a packet the server sent and the receiver lost. Voice loss is counted that way: the packets
// received plus the gaps before them, for packets stamped inside the window. What the server did not forward
// is reported apart (MediaStats.NotForwarded: offered minus received minus lost).

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Voice packets: one every 20 ms, as Opus sends them.
const (
	voiceInterval   = 20 * time.Millisecond
	voicePerSecond  = 50
	voiceMinPayload = 60
	voiceMaxPayload = 160
	ptOpus          = 111
	// permsRefreshEvery is how often a person fetches a fresh perms token for the media server: tokens live 5
	// minutes, and the Hubs client refreshes them about every 4.
	permsRefreshEvery = 4 * time.Minute
)

// voiceMagic starts every voice payload the load test sends; what else arrives is counted as unreadable.
var voiceMagic = [2]byte{'l', 'v'}

const voiceHeader = 2 + 4 + 4 + 8 // magic, person, sequence, send time in µs

// appendVoice writes one voice payload: the stamp, then filler up to a size that varies between packets as a
// variable-bitrate Opus stream's does (60 to 160 bytes).
func appendVoice(b []byte, person int, seq uint32, sentUS int64) []byte {
	size := voiceMinPayload + int(seq*37)%(voiceMaxPayload-voiceMinPayload+1)
	b = append(b, voiceMagic[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(person))
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(sentUS))
	for len(b) < size {
		b = append(b, byte(len(b)))
	}
	return b
}

// parseVoice reads a voice payload's stamp.
func parseVoice(p []byte) (person int, seq uint32, sentUS int64, ok bool) {
	if len(p) < voiceHeader || p[0] != voiceMagic[0] || p[1] != voiceMagic[1] {
		return 0, 0, 0, false
	}
	return int(binary.BigEndian.Uint32(p[2:])), binary.BigEndian.Uint32(p[6:]), int64(binary.BigEndian.Uint64(p[10:])), true
}

// mediaKit is what a run's people share for media: one WebRTC API (Opus only, no interceptors: the generator
// neither estimates bandwidth nor resends) and where the signalling socket is.
type mediaKit struct {
	api       *webrtc.API
	socketURL string
	http      *http.Client
}

func newMediaKit(base *url.URL, tlsConfig *tls.Config) (*mediaKit, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType: ptOpus,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	// Offered as Chromium does; a server that does not take it gets packets without it.
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	logs := logging.NewDefaultLoggerFactory()
	logs.DefaultLogLevel = logging.LogLevelDisabled
	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true) // a server on this machine may announce only its loopback address
	ws := *base
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	ws.Path = "/media/socket"
	// The handshake goes through a client like the run's own (no proxy, no redirects), without its overall
	// timeout, which the WebSocket library does not allow: the dial's context bounds it instead.
	hc := newHTTPClient(tlsConfig)
	hc.Timeout = 0
	// An empty interceptor registry: without one Pion adds its defaults (NACK, reports, TWCC, stats), which
	// cost the generator more per received packet than everything else it does with it.
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
	return &mediaKit{api: api, socketURL: ws.String(), http: hc}, nil
}

// voiceCounters are one person's media figures, written by its media goroutines and summed by the coordinator.
type voiceCounters struct {
	packetsOut, packetsIn, bytesIn atomic.Int64
	sentWindow, gotWindow          atomic.Int64 // in-window voice packets: sent, and received from others
	lostWindow                     atomic.Int64 // RTP sequence gaps before in-window packets received from others
	resumed                        atomic.Int64 // a voice came back after the server left a stretch of it out
	gaps, dups, foreign, bad       atomic.Int64
	tracksIn                       atomic.Int64 // others' voices this person started receiving
	delays                         hist
}

// Media states of a person.
const (
	mediaNone int32 = iota
	mediaReady
	mediaFailed
)

// mediaMsg is the signalling envelope (docs/media.md): request, response or notification.
type mediaMsg struct {
	Request      bool            `json:"request,omitempty"`
	Response     bool            `json:"response,omitempty"`
	Notification bool            `json:"notification,omitempty"`
	ID           json.RawMessage `json:"id,omitempty"`
	Method       string          `json:"method,omitempty"`
	OK           bool            `json:"ok"`
	Data         json.RawMessage `json:"data,omitempty"`
	ErrorCode    string          `json:"errorCode,omitempty"`
	ErrorReason  string          `json:"errorReason,omitempty"`
}

// mediaPeer is one person's media session: the signalling socket and the PeerConnections.
type mediaPeer struct {
	p  *person
	ws *websocket.Conn

	mu      sync.Mutex // guards pending, nextID, sub, pub
	pending map[int64]chan mediaMsg
	nextID  int64
	pub     *webrtc.PeerConnection
	sub     *webrtc.PeerConnection

	offerMu sync.Mutex // the server's offers are answered one at a time, in order
	done    chan struct{}
	readErr error
	wg      sync.WaitGroup // the reader, offer answerers and the voice sender
}

// joinMedia connects the person's media after it entered the room: join, subscribe and, for a talker, publish.
func (p *person) joinMedia(ctx context.Context, permsToken string) error {
	kit := p.r.media
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	u := kit.socketURL + "?hub_id=" + url.QueryEscape(p.room.sid)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: kit.http, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return fmt.Errorf("media: connect: %s", firstLine(err.Error()))
	}
	ws.SetReadLimit(1 << 20)
	m := &mediaPeer{p: p, ws: ws, pending: map[int64]chan mediaMsg{}, done: make(chan struct{})}
	p.media = m
	m.wg.Add(1)
	go m.readLoop()
	data, err := m.request(ctx, "join", map[string]string{"hub_id": p.room.sid, "session_id": p.av.session, "token": permsToken})
	if err != nil {
		return fmt.Errorf("media: join: %w", err)
	}
	var jr struct {
		Voice struct {
			Allowed bool `json:"allowed"`
		} `json:"voice"`
	}
	_ = json.Unmarshal(data, &jr)
	if p.talker {
		if !jr.Voice.Allowed {
			return errors.New("media: the room does not let this person talk (voice_chat is off)")
		}
		if err := m.publish(ctx); err != nil {
			return fmt.Errorf("media: publish: %w", err)
		}
	}
	return nil
}

// request sends a signalling request and waits for its response's data.
func (m *mediaPeer) request(ctx context.Context, method string, data any) (json.RawMessage, error) {
	ch := make(chan mediaMsg, 1)
	m.mu.Lock()
	m.nextID++
	id := m.nextID
	m.pending[id] = ch
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.pending, id)
		m.mu.Unlock()
	}()
	b, _ := json.Marshal(map[string]any{"request": true, "id": id, "method": method, "data": data})
	if err := m.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if !r.OK {
			return nil, fmt.Errorf("%s: %s", r.ErrorCode, r.ErrorReason)
		}
		return r.Data, nil
	case <-m.done:
		return nil, fmt.Errorf("the media socket closed: %v", m.readErr)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *mediaPeer) readLoop() {
	defer m.wg.Done()
	defer close(m.done)
	for {
		_, b, err := m.ws.Read(context.Background())
		if err != nil {
			m.readErr = err
			return
		}
		var msg mediaMsg
		if err := json.Unmarshal(b, &msg); err != nil {
			m.readErr = fmt.Errorf("the media server sent bad JSON: %.80s", b)
			return
		}
		switch {
		case msg.Response:
			id, _ := strconv.ParseInt(string(msg.ID), 10, 64)
			m.mu.Lock()
			ch := m.pending[id]
			m.mu.Unlock()
			if ch != nil {
				ch <- msg
			}
		case msg.Request && msg.Method == "offer":
			m.wg.Add(1)
			go func() { defer m.wg.Done(); m.answer(msg) }()
		case msg.Request:
			m.reply(msg.ID, false, nil, "the load test does not handle "+msg.Method)
		}
		// Notifications (peer_joined, tracks, ...) need nothing: the offers carry the tracks.
	}
}

func (m *mediaPeer) reply(id json.RawMessage, ok bool, data any, reason string) {
	b, _ := json.Marshal(map[string]any{"response": true, "id": id, "ok": ok, "data": data, "errorReason": reason})
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	_ = m.ws.Write(ctx, websocket.MessageText, b)
}

// answer applies the server's offer to the subscribe connection, creating it the first time.
func (m *mediaPeer) answer(msg mediaMsg) {
	m.offerMu.Lock()
	defer m.offerMu.Unlock()
	var offer struct {
		SDP string `json:"sdp"`
	}
	_ = json.Unmarshal(msg.Data, &offer)
	m.mu.Lock()
	pc := m.sub
	if pc == nil {
		var err error
		if pc, err = m.p.r.media.api.NewPeerConnection(webrtc.Configuration{}); err != nil {
			m.mu.Unlock()
			m.reply(msg.ID, false, nil, err.Error())
			return
		}
		pc.OnTrack(m.onTrack)
		m.watch(pc, "subscribe")
		m.sub = pc
	}
	m.mu.Unlock()
	err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP})
	var ans webrtc.SessionDescription
	if err == nil {
		ans, err = pc.CreateAnswer(nil)
	}
	if err == nil {
		err = pc.SetLocalDescription(ans)
	}
	if err != nil {
		m.p.r.fail("media: answering the subscribe offer: " + firstLine(err.Error()))
		m.reply(msg.ID, false, nil, err.Error())
		return
	}
	m.reply(msg.ID, true, map[string]string{"sdp": pc.LocalDescription().SDP}, "")
}

// watch records a PeerConnection that fails while the run still wants it.
func (m *mediaPeer) watch(pc *webrtc.PeerConnection, which string) {
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed {
			select {
			case <-m.p.r.closeAll:
			default:
				m.p.r.fail("media: the " + which + " connection failed (ICE or DTLS)")
			}
		}
	})
}

// onTrack reads one other person's voice until the connection closes: each packet's stamp gives its delay,
// and its sequence number the packets lost on the way.
func (m *mediaPeer) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	p, r := m.p, m.p.r
	v := &p.voice
	v.tracksIn.Add(1)
	go func() {
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		var last uint32    // the stamp's sequence: a jump is a stretch the server did not forward, or a loss
		var lastRTP uint16 // the receiver's RTP sequence: a jump is a loss
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			now := time.Now().UnixMicro()
			v.packetsIn.Add(1)
			v.bytesIn.Add(int64(n))
			if pkt.Unmarshal(buf[:n]) != nil {
				v.bad.Add(1)
				continue
			}
			from, seq, sent, ok := parseVoice(pkt.Payload)
			if !ok {
				v.bad.Add(1)
				continue
			}
			slot := from - p.room.base
			if slot < 0 || slot >= p.room.size || slot == p.slot {
				v.foreign.Add(1) // another room's voice, or our own back
				continue
			}
			if seq <= last {
				v.dups.Add(1)
				continue
			}
			var lost int64
			if d := int16(pkt.SequenceNumber - lastRTP); last != 0 && d > 1 {
				lost = int64(d - 1)
				v.gaps.Add(lost)
			} else if last != 0 && seq > last+1 {
				v.resumed.Add(1) // packets missing from the stamps but not from the RTP numbers: left out, not lost
			}
			last, lastRTP = seq, pkt.SequenceNumber
			if !p.mediaCounted.Load() || !r.inWindow(sent) || !r.persons[from].mediaCounted.Load() {
				continue
			}
			v.gotWindow.Add(1)
			v.lostWindow.Add(lost)
			v.delays.observe(now - sent)
		}
	}()
}

// publish opens the publish connection with one Opus track and starts sending.
func (m *mediaPeer) publish(ctx context.Context) error {
	p := m.p
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		"audio", p.av.session)
	if err != nil {
		return err
	}
	pc, err := p.r.media.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.pub = pc
	m.mu.Unlock()
	m.watch(pc, "publish")
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	data, err := m.request(ctx, "publish", map[string]string{"sdp": offer.SDP, "source": "camera"})
	if err != nil {
		return err
	}
	var ans struct {
		SDP string `json:"sdp"`
	}
	if err := json.Unmarshal(data, &ans); err != nil || ans.SDP == "" {
		return errors.New("the publish response has no sdp")
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		return err
	}
	var levelID uint8 // 0: the server did not take the audio level extension
	for _, h := range tr.Sender().GetParameters().HeaderExtensions {
		if h.URI == sdp.AudioLevelURI && h.ID > 0 && h.ID < 15 {
			levelID = uint8(h.ID)
		}
	}
	m.wg.Add(1)
	go func() { defer m.wg.Done(); m.talk(track, levelID) }()
	return nil
}

// voiceLevel is a talker's audio level at t (RFC 6464: -dBov, 0 the loudest, 127 silence): a base loudness of
// its own between -20 and -50 dBov, swelling and fading by up to 15 dB every 2 to 4 s, as speech does.
// Talkers' swells are out of step, so which are the loudest changes every few seconds.
func voiceLevel(person int, t time.Duration) byte {
	base := 20 + (person*7)%31
	period := float64(2+person%3) * float64(time.Second)
	phase := math.Mod(float64(person)*0.37, 1)
	x := math.Mod(float64(t)/period+phase, 1)
	swell := 15 * (2*math.Abs(2*x-1) - 1) // a triangle from -15 to +15 dB
	return byte(min(127, max(0, base+int(swell))))
}

func (m *mediaPeer) talk(track *webrtc.TrackLocalStaticRTP, levelID uint8) {
	p, r := m.p, m.p.r
	v := &p.voice
	phase := time.NewTimer(rand.N(voiceInterval)) // independent talkers are not in step
	select {
	case <-phase.C:
	case <-r.closeAll:
		phase.Stop()
		return
	}
	tick := time.NewTicker(voiceInterval)
	defer tick.Stop()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptOpus, SSRC: rand.Uint32(),
		SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
	buf := make([]byte, 0, voiceMaxPayload)
	var level [1]byte
	start := time.Now()
	var frame, seq uint32 // frames of the capture clock handled; packets sent (the stamp's sequence)
	for {
		select {
		case <-tick.C:
		case <-m.done:
			return
		case <-r.closeAll:
			return
		}
		due := uint32(time.Since(start)/voiceInterval) + 1
		if due > frame+maxVoiceBurst {
			// A stall too long to make up: those frames are gone, as a browser's would be. The RTP clock moves
			// on; sequence numbers (RTP's and the stamp's) count only packets sent, so receivers' gaps stay the
			// network's.
			skipped := due - maxVoiceBurst - frame
			frame += skipped
			pkt.Timestamp += skipped * (48000 / voicePerSecond)
		}
		for ; frame < due; frame++ {
			us := time.Now().UnixMicro()
			if us >= r.windowEnd.Load() {
				return // the window is over: quiet, so the drain sees only packets in flight
			}
			seq++
			pkt.SequenceNumber++
			pkt.Timestamp += 48000 / voicePerSecond
			pkt.Payload = appendVoice(buf[:0], p.idx, seq, us)
			if levelID != 0 {
				level[0] = voiceLevel(p.idx, time.Duration(frame)*voiceInterval)
				_ = pkt.SetExtension(levelID, level[:])
			}
			if err := track.WriteRTP(&pkt); err != nil {
				return
			}
			v.packetsOut.Add(1)
			if p.mediaCounted.Load() && r.inWindow(us) {
				v.sentWindow.Add(1)
			}
		}
	}
}

// maxVoiceBurst is the most packets a late talker sends at once to catch up.
const maxVoiceBurst = 5

// keepToken refreshes the perms token on the media socket before it runs out, as the browser does, until
// everyone leaves. A run shorter than a token's life never refreshes.
func (p *person) keepToken(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(permsRefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.media.done:
			return
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
		rctx, cancel := context.WithTimeout(ctx, stepTimeout)
		status, resp, err := p.conn.request(rctx, p.joinRef, p.room.topic, "refresh_perms_token", []byte(`{}`))
		var tok struct {
			Token string `json:"perms_token"`
		}
		if err == nil && status == "ok" && json.Unmarshal(resp, &tok) == nil && tok.Token != "" {
			_, err = p.media.request(rctx, "refresh_token", map[string]string{"token": tok.Token})
		} else if err == nil {
			err = fmt.Errorf("refresh_perms_token: %s", reason(resp))
		}
		cancel()
		if err != nil {
			p.r.fail("media: refreshing the perms token: " + firstLine(err.Error()))
		}
	}
}

// close leaves the media server: the socket closes normally and both connections end.
func (m *mediaPeer) close() {
	_ = m.ws.Close(websocket.StatusNormalClosure, "")
	m.mu.Lock()
	pub, sub := m.pub, m.sub
	m.mu.Unlock()
	if pub != nil {
		_ = pub.Close()
	}
	if sub != nil {
		_ = sub.Close()
	}
	m.wg.Wait()
	// An offer answered while closing may have made the subscribe connection after the look above.
	m.mu.Lock()
	sub2 := m.sub
	m.mu.Unlock()
	if sub2 != nil && sub2 != sub {
		_ = sub2.Close()
	}
}

// talkersIn is how many of a room's size people talk with a share of share; 0 means one.
func talkersIn(size int, share float64) int {
	if share <= 0 {
		return 1
	}
	return min(size, max(1, int(share*float64(size)+0.5)))
}
