package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// recordingWriter keeps the headers a subscriber was sent.
type recordingWriter struct{ headers []rtp.Header }

func (w *recordingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.headers = append(w.headers, *h)
	return len(payload), nil
}

func (w *recordingWriter) Write(b []byte) (int, error) { return len(b), nil }

func TestForwardKeepsSequenceAcrossMuteAndLayerSwitch(t *testing.T) {
	owner := &peer{session: "pub"}
	owner.audioOn.Store(true)
	tr := &pubTrack{owner: owner, id: "v", kind: webrtc.RTPCodecTypeVideo, video: videoVP8}
	tr.downs.Store(&[]*downTrack{})
	low, high := &layer{rid: "q"}, &layer{rid: "f"}
	w := &recordingWriter{}
	d := &downTrack{track: tr, writer: w, ssrc: 7, pt: 96, clock: 90000, target: high}
	tr.addDown(d)
	var scratch rtp.Header
	send := func(l *layer, gen uint32, seq uint16, ts uint32, key bool) {
		payload := []byte{0x10, 0x01}
		if key {
			payload[1] = 0x00
		}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: 99, PayloadType: 100}, Payload: payload}
		_ = pkt.Header.SetExtension(3, []byte("f"))
		tr.forward(l, gen, &pkt, &scratch, nanotime())
	}
	send(high, 0, 100, 9000, false) // no keyframe yet: not forwarded
	if len(w.headers) != 0 {
		t.Fatal("forwarded before a keyframe")
	}
	send(high, 0, 101, 12000, true)
	send(high, 0, 102, 15000, false)
	send(low, 0, 5000, 777000, true) // the other layer: not wanted
	// Switch to the low layer: it starts at its next keyframe, continuing the sequence.
	d.mu.Lock()
	d.target = low
	d.mu.Unlock()
	time.Sleep(time.Millisecond)
	send(high, 0, 103, 18000, false) // still on high until low's keyframe
	send(low, 0, 5001, 780000, false)
	send(low, 0, 5002, 783000, true)
	send(low, 0, 5003, 786000, false)
	send(low, 3, 5010, 807000, false) // after a deliberate gap (gen changed): no hole either

	wantSeq := []uint16{101, 102, 103, 104, 105, 106}
	if len(w.headers) != len(wantSeq) {
		t.Fatalf("forwarded %d packets, want %d", len(w.headers), len(wantSeq))
	}
	for i, h := range w.headers {
		if h.SequenceNumber != wantSeq[i] || h.SSRC != 7 || h.PayloadType != 96 || h.Extension || len(h.Extensions) != 0 {
			t.Fatalf("packet %d: seq %d ssrc %d pt %d ext %v", i, h.SequenceNumber, h.SSRC, h.PayloadType, h.Extensions)
		}
	}
	if ts := w.headers[3].Timestamp; ts <= 18000 || ts > 18000+90000 {
		t.Fatalf("timestamp after the switch %d does not follow 18000", ts)
	}
	if w.headers[4].Timestamp-w.headers[3].Timestamp != 3000 || w.headers[5].Timestamp-w.headers[4].Timestamp != 21000 {
		t.Fatalf("timestamps within the new layer lost their spacing: %d %d %d", w.headers[3].Timestamp, w.headers[4].Timestamp, w.headers[5].Timestamp)
	}
}

func TestKeyframeDetection(t *testing.T) {
	cases := []struct {
		name  string
		codec videoCodec
		p     []byte
		want  bool
	}{
		{"vp8 key", videoVP8, []byte{0x10, 0x00}, true},
		{"vp8 inter", videoVP8, []byte{0x10, 0x01}, false},
		{"vp8 not a frame start", videoVP8, []byte{0x00, 0x00}, false},
		{"vp8 key with 15-bit picture id", videoVP8, []byte{0x90, 0x80, 0x81, 0x02, 0x00}, true},
		{"vp8 key with picture id, tl0, tid", videoVP8, []byte{0x90, 0xe0, 0x05, 0x01, 0x40, 0x00}, true},
		{"vp8 truncated", videoVP8, []byte{0x90, 0x80}, false},
		{"h264 idr", videoH264, []byte{0x65, 0x88}, true},
		{"h264 sps", videoH264, []byte{0x67, 0x42}, true},
		{"h264 non-idr slice", videoH264, []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", videoH264, []byte{0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68}, true},
		{"h264 stap-a without", videoH264, []byte{0x18, 0x00, 0x01, 0x06}, false},
		{"h264 fu-a idr start", videoH264, []byte{0x7c, 0x85}, true},
		{"h264 fu-a idr middle", videoH264, []byte{0x7c, 0x05}, false},
		{"empty", videoH264, nil, false},
	}
	for _, c := range cases {
		if got := isKeyframeStart(c.codec, c.p); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestLayerOrderAndLossSteps(t *testing.T) {
	tr := &pubTrack{owner: &peer{session: "pub"}, kind: webrtc.RTPCodecTypeVideo}
	f, q, h := &layer{rid: "f"}, &layer{rid: "q"}, &layer{rid: "h"}
	tr.order = []*layer{f, q, h}
	tr.sortLayersLocked()
	if tr.order[0] != q || tr.order[1] != h || tr.order[2] != f {
		t.Fatalf("order by name: %s %s %s", tr.order[0].rid, tr.order[1].rid, tr.order[2].rid)
	}
	f.bps, q.bps, h.bps = 0, 100, 300 // f paused by the browser
	tr.sortLayersLocked()
	if tr.order[2] != h || tr.order[0] != f {
		t.Fatalf("a paused layer must sink: %s %s %s", tr.order[0].rid, tr.order[1].rid, tr.order[2].rid)
	}

	d := &downTrack{track: tr, writer: &recordingWriter{}, ssrc: 1}
	order := []*layer{q, h, f}
	if d.choose(order, time.Now()); d.target != f {
		t.Fatal("default is the top layer")
	}
	now := nanotime()
	d.onReceiverReport(1, 60, now)
	d.onReceiverReport(2, 60, now) // another stream's report: ignored
	d.onReceiverReport(1, 60, now)
	if d.choose(order, time.Now()); d.target != h {
		t.Fatal("two lossy reports step one layer down")
	}
	d.onReceiverReport(1, 0, now+int64(5*time.Second))
	if d.choose(order, time.Now()); d.target != h {
		t.Fatal("stepped up too soon")
	}
	d.onReceiverReport(1, 0, now+int64(11*time.Second))
	if d.choose(order, time.Now()); d.target != f {
		t.Fatal("no step up after 10 s without loss")
	}
	d.pin("q")
	if d.target != q {
		t.Fatal("pin")
	}
}
