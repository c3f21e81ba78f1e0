package media

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// countingWriter stands in for a subscriber's Pion send path (interceptors, SRTP, UDP), which the load run in
// load_test.go measures with everything else.
type countingWriter struct{ packets, bytes int }

func (w *countingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.packets++
	w.bytes += h.MarshalSize() + len(payload)
	return len(payload), nil
}

func (w *countingWriter) Write(b []byte) (int, error) { return len(b), nil }

// benchTrack is a published track with subs bound subscribers, built without PeerConnections.
func benchTrack(kind webrtc.RTPCodecType, subs int) (*pubTrack, *layer, []*countingWriter) {
	owner := &peer{session: "pub"}
	owner.audioOn.Store(true)
	t := &pubTrack{owner: owner, id: "t", kind: kind}
	if kind == webrtc.RTPCodecTypeVideo {
		t.video = videoVP8
	}
	t.downs.Store(&[]*downTrack{})
	l := &layer{rid: "f"}
	t.layers, t.order = []*layer{l}, []*layer{l}
	var ws []*countingWriter
	for i := range subs {
		w := &countingWriter{}
		d := &downTrack{track: t, writer: w, ssrc: uint32(1000 + i), pt: 111, clock: 48000, target: l}
		t.addDown(d)
		ws = append(ws, w)
	}
	return t, l, ws
}

// BenchmarkForwardAudioTo23 is the forwarding hot path of an audio room of 24: one received Opus packet
// written to 23 subscribers (rewriting SSRC, payload type, sequence number and timestamp for each).
func BenchmarkForwardAudioTo23(b *testing.B) {
	benchForward(b, webrtc.RTPCodecTypeAudio, 23, make([]byte, 80))
}

// BenchmarkForwardVideoTo23 is the same for a VP8 interframe packet of a typical size.
func BenchmarkForwardVideoTo23(b *testing.B) {
	payload := make([]byte, 1100)
	payload[0], payload[1] = 0x10, 0x01 // start of partition 0, interframe
	benchForward(b, webrtc.RTPCodecTypeVideo, 23, payload)
}

func benchForward(b *testing.B, kind webrtc.RTPCodecType, subs int, payload []byte) {
	t, l, ws := benchTrack(kind, subs)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 42, Marker: true}, Payload: payload}
	// The first packet must be a keyframe for video subscribers to start.
	if kind == webrtc.RTPCodecTypeVideo {
		key := append([]byte{0x10, 0x00}, payload[2:]...)
		first := pkt
		first.Payload = key
		var scratch rtp.Header
		t.forward(l, 0, &first, &scratch, nanotime())
	}
	var scratch rtp.Header
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pkt.SequenceNumber++
		pkt.Timestamp += 960
		if t.forward(l, 0, &pkt, &scratch, nanotime()) != subs {
			b.Fatal("not forwarded to every subscriber")
		}
	}
	b.StopTimer()
	perPacket := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(subs)
	b.ReportMetric(perPacket, "ns/forwarded")
	b.ReportMetric(1e9/perPacket, "forwarded/s/core")
	if ws[subs-1].packets < b.N {
		b.Fatal("the last subscriber missed packets")
	}
}
