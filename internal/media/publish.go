package media

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

type publishRequest struct {
	SDP    string `json:"sdp"`    // the publish PeerConnection's offer
	Source string `json:"source"` // what the video track shows: camera (default) or screen
}

// handlePublish answers the client's offer on its publish PeerConnection: the first offer creates it, later ones
// renegotiate (adding or dropping video, switching camera and screen, an ICE restart).
func (p *peer) handlePublish(data json.RawMessage) (any, error) {
	var req publishRequest
	if err := json.Unmarshal(data, &req); err != nil || req.SDP == "" {
		return nil, refuse("bad_request", "publish needs {sdp} with the publish connection's offer")
	}
	switch req.Source {
	case "":
		req.Source = "camera"
	case "camera", "screen":
	default:
		return nil, refuse("bad_request", "source is camera or screen, not %q", req.Source)
	}
	if err := checkPublishOffer(req.SDP); err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, refuse("closed", "this session is closing")
	}
	pc := p.pub
	if pc == nil {
		var err error
		if pc, err = p.newPeerConnection(); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		pc.OnTrack(p.onTrack)
		p.pub = pc
	}
	sourceChanged := p.videoSource != req.Source
	p.videoSource = req.Source
	var video *pubTrack
	for _, t := range p.tracks {
		if t.kind == webrtc.RTPCodecTypeVideo {
			video = t
		}
	}
	p.mu.Unlock()
	if video != nil && sourceChanged {
		video.setSource(req.Source)
		p.announceTracks(p.room.others(p))
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: req.SDP}); err != nil {
		return nil, refuse("bad_offer", "the offer was not accepted: %v", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, refuse("bad_offer", "no answer to that offer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sdpText, err := localDescription(ctx, pc, answer)
	if err != nil {
		return nil, err
	}
	return map[string]string{"sdp": sdpText}, nil
}

// checkPublishOffer enforces what a person may publish: one audio track and at most one video track (camera or
// screen), and no data channels.
func checkPublishOffer(offer string) error {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return refuse("bad_offer", "the offer is not valid SDP: %v", err)
	}
	count := map[string]int{}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Port.Value == 0 {
			continue // rejected or stopped section
		}
		kind := m.MediaName.Media
		if kind == "application" {
			return refuse("bad_offer", "data channels are not supported on the media socket")
		}
		sends := true
		for _, a := range m.Attributes {
			if a.Key == "recvonly" || a.Key == "inactive" {
				sends = false
			}
		}
		if sends {
			count[kind]++
		}
	}
	if count["audio"] > 1 || count["video"] > 1 {
		return refuse("too_many_tracks", "publish at most one audio and one video track (camera or screen); this offer sends %d and %d",
			count["audio"], count["video"])
	}
	return nil
}

// onTrack runs when a published track (or one simulcast layer of it) starts: it starts the layer's reader and,
// for a new track, tells the room.
func (p *peer) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	t := p.tracks[recv]
	isNew := t == nil
	if isNew {
		source := "mic"
		if remote.Kind() == webrtc.RTPCodecTypeVideo {
			source = p.videoSource
		}
		t = newPubTrack(p, remote, source)
		if t.kind == webrtc.RTPCodecTypeAudio && p.sfu.cfg.MaxVoices > 0 {
			t.levelID = audioLevelID(recv) // without a limit nobody reads the level: the reader skips it
		}
		p.tracks[recv] = t
	}
	l := t.addLayer(remote)
	p.sfu.wg.Add(1) // under p.mu, not closed: see goIfOpen
	p.mu.Unlock()
	go func() {
		defer p.sfu.wg.Done()
		t.readLoop(l)
		if t.removeLayer(l) == 0 {
			p.mu.Lock()
			delete(p.tracks, recv)
			p.mu.Unlock()
			others := p.room.removeTrack(t)
			p.announceTracks(others)
			for _, o := range others {
				o.sub.schedule()
			}
		}
	}()
	p.log.Debug("publishing", "kind", remote.Kind(), "rid", remote.RID(), "codec", remote.Codec().MimeType)
	var others []*peer
	if isNew {
		others = p.room.addTrack(t)
	} else {
		others = p.room.others(p)
	}
	p.announceTracks(others)
	if isNew {
		for _, o := range others {
			o.sub.schedule()
		}
	}
}

// announceTracks tells the given peers what this peer publishes now.
func (p *peer) announceTracks(to []*peer) {
	p.mu.Lock()
	list := make([]*pubTrack, 0, len(p.tracks))
	for _, t := range p.tracks {
		list = append(list, t)
	}
	p.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	msg := peerInfo{SessionID: p.session, Tracks: describeTracks(list)}
	for _, o := range to {
		if o != p {
			o.conn.notify("tracks", msg)
		}
	}
}

// pubTrack is one published track: audio, or video with one or more simulcast layers. Its layers' readers
// forward every packet to the track's downTracks, one per subscriber.
type pubTrack struct {
	owner *peer
	id    string // the id subscribers see: "<kind>-<the publisher's track id>"
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecCapability
	video videoCodec

	downs      atomic.Pointer[[]*downTrack] // copy-on-write under mu; the readers load it once a packet
	forwarded  atomic.Int64                 // packets written to subscribers
	suppressed atomic.Bool                  // audio: not among the room's loudest voices (voices.go)
	dropped    atomic.Int64                 // packets not written to subscribers because the voice was suppressed

	// Audio level (voices.go): the negotiated extension id, and the smoothed loudness the reader keeps.
	levelID  uint8
	loudness atomic.Int32 // dB above silence × loudScale
	levelAt  atomic.Int64 // nanotime of the last packet with a level; 0 until one carries a level

	mu     sync.Mutex // guards layers, order, source and the writable list behind downs
	layers []*layer
	order  []*layer // lowest to highest, by measured bitrate (see tick)
	source string
}

// layer is one RTP stream of a track: the only one, or one simulcast rid.
type layer struct {
	rid     string
	remote  *webrtc.TrackRemote
	bytes   atomic.Int64
	lastPLI atomic.Int64 // Unix nanoseconds of the last keyframe request sent upstream
	bps     int64        // bitrate over the last tick; guarded by pubTrack.mu
	seen    int64        // bytes at the last tick; guarded by pubTrack.mu
}

func newPubTrack(owner *peer, remote *webrtc.TrackRemote, source string) *pubTrack {
	kind := remote.Kind()
	t := &pubTrack{owner: owner, kind: kind, codec: remote.Codec().RTPCodecCapability, source: source}
	t.id = fmt.Sprintf("%s-%s", kind, remote.ID())
	if kind == webrtc.RTPCodecTypeVideo {
		t.video = videoCodecOf(t.codec.MimeType)
	}
	t.downs.Store(&[]*downTrack{})
	return t
}

func (t *pubTrack) addLayer(remote *webrtc.TrackRemote) *layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := &layer{rid: remote.RID(), remote: remote}
	t.layers = append(t.layers, l)
	t.order = append(t.order, l)
	t.sortLayersLocked()
	return l
}

// removeLayer drops an ended layer and returns how many are left.
func (t *pubTrack) removeLayer(l *layer) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.layers = deleteLayer(t.layers, l)
	t.order = deleteLayer(t.order, l)
	return len(t.layers)
}

func deleteLayer(list []*layer, l *layer) []*layer {
	for i, x := range list {
		if x == l {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

func (t *pubTrack) hasLayer(rid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range t.layers {
		if l.rid == rid {
			return true
		}
	}
	return false
}

func (t *pubTrack) setSource(s string) {
	t.mu.Lock()
	t.source = s
	t.mu.Unlock()
}

func (t *pubTrack) info() trackInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	ti := trackInfo{ID: t.id, Kind: t.kind.String(), Source: t.source, Layers: []string{}}
	for _, l := range t.order {
		if l.rid != "" {
			ti.Layers = append(ti.Layers, l.rid)
		}
	}
	return ti
}

// sortLayersLocked orders layers lowest first. A layer that sent nothing over the last tick (the browser paused
// it, or it has not started) is below every layer that flows, so automatic choice leaves it alone; otherwise the
// usual rid names decide (q < h < f, r0 < r1 < r2, l < m), and the measured bitrate when names do not tell.
// t.mu must be held.
func (t *pubTrack) sortLayersLocked() {
	sort.SliceStable(t.order, func(i, j int) bool {
		a, b := t.order[i], t.order[j]
		if (a.bps > 0) != (b.bps > 0) {
			return b.bps > 0
		}
		ra, rb := ridRank(a.rid), ridRank(b.rid)
		if ra >= 0 && rb >= 0 && ra != rb {
			return ra < rb
		}
		return a.bps < b.bps
	})
}

func ridRank(rid string) int {
	switch strings.ToLower(rid) {
	case "q", "l", "low", "r0":
		return 0
	case "h", "m", "mid", "r1":
		return 1
	case "f", "hi", "high", "r2":
		return 2
	}
	return -1
}

// addDown and removeDown change the forwarding list; readers see the new list from their next packet.
func (t *pubTrack) addDown(d *downTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.downs.Load()
	list := make([]*downTrack, len(old), len(old)+1)
	copy(list, old)
	list = append(list, d)
	t.downs.Store(&list)
}

func (t *pubTrack) removeDown(d *downTrack) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.downs.Load()
	list := make([]*downTrack, 0, len(old))
	found := false
	for _, x := range old {
		if x == d {
			found = true
			continue
		}
		list = append(list, x)
	}
	t.downs.Store(&list)
	return found
}

// readLoop reads one layer's packets until the layer ends and forwards each to the subscribers. One goroutine
// per published layer; the buffer, the packet and the outgoing header are reused, so forwarding does not allocate.
func (t *pubTrack) readLoop(l *layer) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	var scratch rtp.Header
	var gen uint32
	gated := false
	for {
		n, _, err := l.remote.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		l.bytes.Add(int64(n))
		now := nanotime()
		if t.kind == webrtc.RTPCodecTypeAudio {
			if !t.owner.audioOn.Load() {
				gated = true // muted or no voice_chat: read and drop
				continue
			}
			t.observeLevel(&pkt, now)
			if t.suppressed.Load() {
				gated = true // not among the loudest voices: read and drop
				t.dropped.Add(int64(len(*t.downs.Load())))
				continue
			}
		}
		if gated {
			gated = false
			gen++ // subscribers close the sequence gap the dropped packets left
		}
		t.forward(l, gen, &pkt, &scratch, now)
	}
}

// forward writes one received packet to every subscriber that takes this layer, and returns how many.
func (t *pubTrack) forward(l *layer, gen uint32, pkt *rtp.Packet, scratch *rtp.Header, now int64) int {
	kf := keyframeProbe{codec: t.video, payload: pkt.Payload}
	sent := 0
	for _, d := range *t.downs.Load() {
		w := d.prepare(l, gen, pkt, &kf, scratch, now)
		if w == nil {
			continue
		}
		if _, err := w.WriteRTP(scratch, pkt.Payload); err == nil {
			sent++
		}
	}
	t.forwarded.Add(int64(sent))
	return sent
}

// requestKeyframe asks the publisher for a keyframe on a layer, at most once per keyframeInterval: a room of
// subscribers asking at once costs the publisher one keyframe.
func (t *pubTrack) requestKeyframe(l *layer) {
	if l == nil || t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := nanotime()
	last := l.lastPLI.Load()
	if now-last < int64(keyframeInterval) || !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	t.owner.mu.Lock()
	pc := t.owner.pub
	t.owner.mu.Unlock()
	if pc != nil {
		_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(l.remote.SSRC())}})
	}
}

const keyframeInterval = 500 * time.Millisecond

// tick measures layer bitrates, re-sorts the layers and lets each subscriber re-choose its layer.
func (t *pubTrack) tick(now time.Time) {
	if t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	t.mu.Lock()
	for _, l := range t.layers {
		b := l.bytes.Load()
		l.bps = (b - l.seen) * 8 // per tick; only the order matters
		l.seen = b
	}
	t.sortLayersLocked()
	order := append([]*layer(nil), t.order...)
	t.mu.Unlock()
	for _, d := range *t.downs.Load() {
		if l := d.choose(order, now); l != nil {
			t.requestKeyframe(l)
		}
	}
}
