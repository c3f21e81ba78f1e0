package media

import (
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// downTrack is one published track as one subscriber receives it. It is the webrtc.TrackLocal on the subscriber's
// connection, and it rewrites what it forwards so the subscriber sees one continuous stream: its own SSRC and
// payload type, and sequence numbers and timestamps that run on across mutes and simulcast layer switches.
//
// Layer choice (video): the subscriber takes the highest layer the publisher is sending unless its receiver
// reports show loss. Two reports in a row with more than 10% loss step it one layer down; after 10 s without
// loss it tries one layer up again. set_layer pins a layer instead. A switch waits for a keyframe on the new
// layer (requested from the publisher), so pictures never break up.
type downTrack struct {
	track *pubTrack
	sfu   *SFU

	mu      sync.Mutex // guards everything below
	writer  webrtc.TrackLocalWriter
	ssrc    uint32
	pt      uint8
	clock   uint32
	current *layer // the layer being forwarded; nil until the first keyframe (video)
	target  *layer // the layer wanted; a switch happens at its next keyframe
	pinned  string // rid pinned by set_layer; "" = automatic
	down    int    // automatic choice: layers below the top
	lossy   int    // consecutive receiver reports with high loss
	changed int64  // nanotime of the last automatic step
	gen     uint32 // the reader's gap generation last seen (see pubTrack.readLoop)
	started bool
	switch_ bool // the next forwarded packet starts a new layer: re-base sequence numbers and timestamps
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16
	lastTS  uint32
	lastAt  int64
	packets uint64
}

func newDownTrack(s *SFU, t *pubTrack) *downTrack {
	return &downTrack{track: t, sfu: s}
}

// ID, RID, StreamID and Kind describe the track in the subscriber's SDP: the stream id is the publisher's
// session id, so a client knows whose voice or picture a track is.
func (d *downTrack) ID() string                { return d.track.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.track.owner.session }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.track.kind }

// Bind is called by Pion once the subscriber's answer is applied: from then on packets flow.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.track.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.mu.Lock()
	d.writer = ctx.WriteStream()
	d.ssrc = uint32(ctx.SSRC())
	d.pt = uint8(codec.PayloadType)
	d.clock = codec.ClockRate
	d.mu.Unlock()
	d.track.addDown(d)
	d.sfu.stats.streams.Add(1)
	if d.track.kind == webrtc.RTPCodecTypeVideo {
		if l := d.choose(d.track.layerOrder(), time.Now()); l != nil {
			d.track.requestKeyframe(l)
		}
	}
	return codec, nil
}

// Unbind is called when the subscriber's sender stops (track removed, connection closed).
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.writer = nil
	d.mu.Unlock()
	if d.track.removeDown(d) {
		d.sfu.stats.streams.Add(-1)
	}
	return nil
}

// matchCodec picks the subscriber's payload type for the publisher's codec: same MIME type, and for H264 the
// same profile and packetization mode when the subscriber offers it.
func matchCodec(want webrtc.RTPCodecCapability, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var fallback *webrtc.RTPCodecParameters
	for i := range have {
		c := &have[i]
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if !strings.EqualFold(want.MimeType, webrtc.MimeTypeH264) {
			return *c, true
		}
		if h264Profile(c.SDPFmtpLine) == h264Profile(want.SDPFmtpLine) {
			return *c, true
		}
		if fallback == nil {
			fallback = c
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}

// h264Profile is the profile part of profile-level-id (without the level) and the packetization mode.
func h264Profile(fmtp string) string {
	var profile, mode string
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch strings.ToLower(k) {
		case "profile-level-id":
			if len(v) >= 4 {
				profile = strings.ToLower(v[:4])
			}
		case "packetization-mode":
			mode = v
		}
	}
	if mode == "" {
		mode = "0"
	}
	return profile + "/" + mode
}

// prepare decides whether this subscriber takes the packet and, if so, fills scratch with the header to send and
// returns where to write it. The write itself happens outside the lock.
func (d *downTrack) prepare(l *layer, gen uint32, pkt *rtp.Packet, kf *keyframeProbe, scratch *rtp.Header, now int64) webrtc.TrackLocalWriter {
	d.mu.Lock()
	w := d.writer
	if w == nil {
		d.mu.Unlock()
		return nil
	}
	if d.track.kind == webrtc.RTPCodecTypeVideo && l != d.current {
		if l != d.target || !kf.isStart() {
			d.mu.Unlock()
			return nil
		}
		d.current = l
		d.switch_ = true
	}
	switch {
	case !d.started:
		d.started, d.switch_, d.gen = true, false, gen
	case d.switch_:
		d.switch_, d.gen = false, gen
		d.seqOff = pkt.SequenceNumber - (d.lastSeq + 1)
		delta := uint32((now - d.lastAt) * int64(d.clock) / int64(time.Second))
		if delta == 0 {
			delta = 1
		}
		d.tsOff = pkt.Timestamp - (d.lastTS + delta)
	case gen != d.gen:
		// Packets were dropped on purpose (a mute): continue the sequence so the receiver sees no loss, but keep
		// the timestamps, which say how long the silence was.
		d.gen = gen
		d.seqOff = pkt.SequenceNumber - (d.lastSeq + 1)
	}
	seq := pkt.SequenceNumber - d.seqOff
	ts := pkt.Timestamp - d.tsOff
	if d.packets == 0 || int16(seq-d.lastSeq) > 0 {
		d.lastSeq, d.lastTS, d.lastAt = seq, ts, now
	}
	d.packets++
	*scratch = pkt.Header
	scratch.SSRC = d.ssrc
	scratch.PayloadType = d.pt
	scratch.SequenceNumber = seq
	scratch.Timestamp = ts
	// The publisher's header extensions carry its own ids (mid, rid, audio level...), which mean nothing on the
	// subscriber's connection; the interceptors add what this connection negotiated.
	scratch.Extension = false
	scratch.ExtensionProfile = 0
	scratch.Extensions = nil
	d.mu.Unlock()
	return w
}

// choose re-picks the layer from order (lowest first) and returns the target layer while it is still waiting for
// that layer's keyframe, so the caller can ask the publisher for one.
func (d *downTrack) choose(order []*layer, now time.Time) *layer {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.writer == nil || len(order) == 0 {
		return nil
	}
	if d.down > len(order)-1 {
		d.down = len(order) - 1
	}
	want := order[len(order)-1-d.down]
	if d.pinned != "" {
		for _, l := range order {
			if l.rid == d.pinned {
				want = l
			}
		}
	}
	d.target = want
	if d.current != d.target {
		return d.target
	}
	return nil
}

// pin fixes the layer to rid ("" returns to automatic choice). The switch happens at the next tick.
func (d *downTrack) pin(rid string) {
	d.mu.Lock()
	d.pinned = rid
	d.mu.Unlock()
	if l := d.choose(d.track.layerOrder(), time.Now()); l != nil {
		d.track.requestKeyframe(l)
	}
}

// onReceiverReport feeds the loss the subscriber reports into automatic layer choice. A report block about
// another SSRC (receivers report all their streams together) is ignored.
func (d *downTrack) onReceiverReport(ssrc uint32, fractionLost uint8, now int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ssrc != d.ssrc {
		return
	}
	switch {
	case fractionLost > 25: // more than 10%
		d.lossy++
		if d.lossy >= 2 {
			d.down++
			d.lossy = 0
			d.changed = now
		}
	case fractionLost < 5 && d.down > 0 && now-d.changed > int64(10*time.Second):
		d.lossy = 0
		d.down--
		d.changed = now
	default:
		d.lossy = 0
	}
}

// keyframeLayer is the layer a subscriber's keyframe request is about: the one it receives, or the one it
// waits for.
func (d *downTrack) keyframeLayer() *layer {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current != nil {
		return d.current
	}
	return d.target
}

func (d *downTrack) sent() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.packets
}

func (t *pubTrack) layerOrder() []*layer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*layer(nil), t.order...)
}

type videoCodec uint8

const (
	videoOther videoCodec = iota
	videoVP8
	videoH264
)

func videoCodecOf(mime string) videoCodec {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return videoVP8
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return videoH264
	}
	return videoOther
}

// keyframeProbe looks at a packet's payload at most once, and only if some subscriber needs to know.
type keyframeProbe struct {
	codec   videoCodec
	payload []byte
	done    bool
	key     bool
}

func (k *keyframeProbe) isStart() bool {
	if !k.done {
		k.key, k.done = isKeyframeStart(k.codec, k.payload), true
	}
	return k.key
}

// isKeyframeStart says whether an RTP payload begins a keyframe: where a subscriber can start or switch layers.
func isKeyframeStart(codec videoCodec, p []byte) bool {
	switch codec {
	case videoVP8:
		return vp8KeyframeStart(p)
	case videoH264:
		return h264KeyframeStart(p)
	}
	return true // no way to tell: switch at once
}

// vp8KeyframeStart reads the VP8 payload descriptor (RFC 7741 §4.2): the packet must start partition 0 of a
// frame, and the frame header's P bit must be 0 (a key frame).
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte follows
		if len(p) <= i {
			return false
		}
		x := p[i]
		i++
		if x&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// h264KeyframeStart finds an SPS or IDR slice at the start of the packet: a single NAL unit, inside a STAP-A
// aggregate, or the first fragment of an FU-A.
func h264KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch nal := p[0] & 0x1f; nal {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit size, then the NAL unit
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if t := p[i] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += size
		}
	case 28: // FU-A
		return len(p) >= 2 && p[1]&0x80 != 0 && (p[1]&0x1f == 5 || p[1]&0x1f == 7)
	}
	return false
}

var epoch = time.Now()

// nanotime is monotonic nanoseconds since the process started.
func nanotime() int64 { return int64(time.Since(epoch)) }
