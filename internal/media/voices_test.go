package media

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// levelAPI is clientAPI plus the audio level header extension, which Chromium offers on every audio section.
func levelAPI(t testing.TB) *webrtc.API {
	return clientAPIOver(t, webrtc.NetworkTypeUDP4, sdp.AudioLevelURI)
}

// publishVoice publishes one Opus track whose packets carry the audio level extension with *level (in -dBov:
// 0 the loudest, 127 silence), 50 packets a second until the client closes. It returns the negotiated id.
func (c *client) publishVoice(level *atomic.Int32) uint8 {
	c.t.Helper()
	pc, err := levelAPI(c.t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.pub = pc
	c.mu.Unlock()
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", c.name)
	if err != nil {
		c.t.Fatal(err)
	}
	x, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		c.t.Fatal(err)
	}
	c.negotiatePublish(pc, "camera")
	var id uint8
	for _, h := range x.Sender().GetParameters().HeaderExtensions {
		if h.URI == sdp.AudioLevelURI {
			id = uint8(h.ID)
		}
	}
	if id == 0 {
		c.t.Fatal("the server's answer did not accept the audio level extension")
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()},
			Payload: make([]byte, 80)}
		pkt.Payload[0] = 0xfc
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			pkt.SequenceNumber++
			pkt.Timestamp += 960
			_ = pkt.SetExtension(id, []byte{byte(level.Load()) & 0x7f})
			_ = tr.WriteRTP(&pkt)
		}
	}()
	return id
}

// rates counts, over d, the audio packets listener receives from each of names.
func rates(l *client, d time.Duration, names ...string) map[string]int64 {
	before := map[string]int64{}
	for _, n := range names {
		before[n] = l.got(n, "audio")
	}
	time.Sleep(d)
	out := map[string]int64{}
	for _, n := range names {
		out[n] = l.got(n, "audio") - before[n]
	}
	return out
}

// TestLoudestVoices: five talkers at different levels and one without levels; with MaxVoices 3 a listener
// hears the three loudest and the one without levels. A quiet talker who gets loud is heard within half a
// second, with no sequence gap on the listener's side; the voice it replaced stops. A muted voice frees its place.
func TestLoudestVoices(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxVoices, c.VoiceInterval = 3, 100*time.Millisecond })
	l := e.dial("listener")
	joinAll(e, l)
	names := []string{"t1", "t2", "t3", "t4", "t5"}
	levels := make([]atomic.Int32, len(names))
	for i, n := range names {
		levels[i].Store(int32(20 + 10*i)) // t1 at -20 dBov is the loudest, t5 at -60 the quietest
		c := e.dial(n)
		joinAll(e, c)
		c.publishVoice(&levels[i])
	}
	plain := e.dial("plain") // no audio level: always forwarded
	joinAll(e, plain)
	plain.publish(true, false)
	all := append([]string{"plain"}, names...)

	eventually(t, 15*time.Second, "the listener hears t1, t2, t3 and plain, and not t4 or t5", func() bool {
		r := rates(l, 400*time.Millisecond, all...)
		return r["t1"] > 10 && r["t2"] > 10 && r["t3"] > 10 && r["plain"] > 10 && r["t4"] == 0 && r["t5"] == 0
	})
	if sup := e.sfu.Load().SuppressedPackets; sup == 0 {
		t.Fatal("no packets counted as suppressed")
	}

	// t5 gets loud: it is heard within half a second, and t3 (now the quietest of the chosen) stops.
	gaps := l.gaps("t5", "audio")
	had := l.got("t5", "audio")
	levels[4].Store(5)
	start := time.Now()
	eventually(t, 2*time.Second, "t5 is heard", func() bool { return l.got("t5", "audio") > had })
	took := time.Since(start)
	t.Logf("t5 heard %v after getting loud", took)
	if took > 600*time.Millisecond {
		t.Errorf("t5 took %v to be heard, want about half a second at most", took)
	}
	eventually(t, 3*time.Second, "t3 stops and t5, t1, t2 are heard", func() bool {
		r := rates(l, 400*time.Millisecond, all...)
		return r["t5"] > 10 && r["t1"] > 10 && r["t2"] > 10 && r["plain"] > 10 && r["t3"] == 0 && r["t4"] == 0
	})
	if g := l.gaps("t5", "audio") - gaps; g != 0 {
		t.Errorf("the listener saw %d sequence numbers missing from t5 when it came back; the SFU should renumber", g)
	}

	// A small change does not swap voices (hysteresis): t3 at 2 dB louder than t2 stays out.
	levels[2].Store(28)
	if r := rates(l, time.Second, "t3"); r["t3"] != 0 {
		t.Errorf("t3 got %d packets through at 2 dB above the quietest chosen voice", r["t3"])
	}

	// Muting t1 frees its place for the loudest of the others (t3), without the moderator's mute leaking.
	e.sfu.Mute(hub, "t1", true)
	eventually(t, 3*time.Second, "t1 is silent and t3 takes its place", func() bool {
		r := rates(l, 400*time.Millisecond, all...)
		return r["t1"] == 0 && r["t3"] > 10 && r["t2"] > 10 && r["t5"] > 10 && r["t4"] == 0
	})
}

// TestAllVoicesWithoutLimit: MaxVoices 0 forwards every voice, levels or not, and suppresses nothing.
func TestAllVoicesWithoutLimit(t *testing.T) {
	e := newEnv(t, nil)
	l := e.dial("listener")
	joinAll(e, l)
	names := []string{"t1", "t2", "t3", "t4", "t5"}
	levels := make([]atomic.Int32, len(names))
	for i, n := range names {
		levels[i].Store(int32(20 + 10*i))
		c := e.dial(n)
		joinAll(e, c)
		c.publishVoice(&levels[i])
	}
	eventually(t, 15*time.Second, "the listener hears all five", func() bool {
		r := rates(l, 400*time.Millisecond, names...)
		for _, n := range names {
			if r[n] <= 10 {
				return false
			}
		}
		return true
	})
	if ld := e.sfu.Load(); ld.SuppressedPackets != 0 || ld.MaxVoices != 0 {
		t.Fatalf("without a limit: %+v", ld)
	}
}

func TestNegativeMaxVoicesIsRefused(t *testing.T) {
	_, err := New(Config{PermsKey: testKeys.PermsPublicKey(), MaxVoices: -1, ListenIP: "127.0.0.1"})
	if err == nil {
		t.Fatal("MaxVoices -1 was accepted")
	}
}

// voiceTrack is an audio track for the selection's unit tests, with a loudness set directly.
func voiceTrack(r *room, id string, loud int32, now int64) *pubTrack {
	owner := &peer{session: id, room: r}
	owner.audioOn.Store(true)
	t := &pubTrack{owner: owner, id: id, kind: webrtc.RTPCodecTypeAudio}
	t.downs.Store(&[]*downTrack{})
	if loud >= 0 {
		t.loudness.Store(loud * loudScale)
		t.levelAt.Store(now)
	}
	r.tracks = append(r.tracks, t)
	return t
}

func forwarded(ts ...*pubTrack) string {
	s := ""
	for _, t := range ts {
		if !t.suppressed.Load() {
			s += t.id + " "
		}
	}
	return s
}

func TestSelectVoicesHysteresis(t *testing.T) {
	r := newRoom(nil, "r")
	now := int64(time.Hour)
	a, b, c, d := voiceTrack(r, "a", 90, now), voiceTrack(r, "b", 80, now), voiceTrack(r, "c", 70, now), voiceTrack(r, "d", 60, now)
	none := voiceTrack(r, "none", -1, now) // no level: always forwarded
	r.selectVoices(2, now)
	if got := forwarded(a, b, c, d, none); got != "a b none " {
		t.Fatalf("forwarded %q, want the two loudest and the one without a level", got)
	}
	c.loudness.Store(85 * loudScale) // 5 dB above b: not enough
	r.selectVoices(2, now)
	if got := forwarded(a, b, c, d, none); got != "a b none " {
		t.Fatalf("a voice %d dB louder swapped in: %q", 5, got)
	}
	c.loudness.Store(86 * loudScale) // 6 dB above b
	r.selectVoices(2, now)
	if got := forwarded(a, b, c, d, none); got != "a c none " {
		t.Fatalf("forwarded %q, want c to replace b", got)
	}
	// A chosen voice that goes quiet (no packets: DTX) is replaced by a louder one.
	a.levelAt.Store(now - int64(time.Second))
	r.selectVoices(2, now)
	if got := forwarded(a, b, c, d, none); got != "b c none " {
		t.Fatalf("forwarded %q after a went quiet, want b back", got)
	}
	// A muted voice holds no place.
	c.owner.audioOn.Store(false)
	r.selectVoices(2, now)
	if got := forwarded(a, b, c, d, none); got != "b d none " {
		t.Fatalf("forwarded %q with c muted", got)
	}
	// 0: everything.
	r.selectVoices(0, now)
	if got := forwarded(a, b, c, d, none); got != "a b c d none " {
		t.Fatalf("forwarded %q with no limit", got)
	}
}

func TestPacketLoudness(t *testing.T) {
	for _, tc := range []struct {
		ext  []byte
		id   uint8
		want int32
		ok   bool
	}{
		{[]byte{0x80 | 30}, 1, 97, true}, // V bit set, -30 dBov
		{[]byte{127}, 1, 0, true},        // silence
		{[]byte{0}, 1, 127, true},        // the loudest
		{[]byte{30}, 2, 0, false},        // another id
		{nil, 1, 0, false},               // no extension at all
	} {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2}, Payload: []byte{1, 2, 3}}
		if tc.ext != nil {
			if err := pkt.SetExtension(1, tc.ext); err != nil {
				t.Fatal(err)
			}
		}
		// Through the wire format, as the reader gets it.
		b, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var got rtp.Packet
		if err := got.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		loud, ok := packetLoudness(&got, tc.id)
		if loud != tc.want || ok != tc.ok {
			t.Errorf("%v id %d: got %d %v, want %d %v", tc.ext, tc.id, loud, ok, tc.want, tc.ok)
		}
	}
}

// BenchmarkReadAudioLevel is what loudest-voice forwarding adds to each received voice packet: unmarshal (which
// the reader did before) and the level's smoothing.
func BenchmarkReadAudioLevel(b *testing.B) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111}, Payload: make([]byte, 80)}
	_ = pkt.SetExtension(1, []byte{0x80 | 40})
	_ = pkt.SetExtension(3, []byte{0, 1}) // a second extension, as browsers also send the mid or TWCC
	buf, err := pkt.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	tr := &pubTrack{levelID: 1, kind: webrtc.RTPCodecTypeAudio}
	var in rtp.Packet
	const warm = 20 // packets for the smoothed level to settle, whatever b.N is
	b.ReportAllocs()
	for i := 0; i < b.N+warm; i++ {
		if err := in.Unmarshal(buf); err != nil {
			b.Fatal(err)
		}
		tr.observeLevel(&in, int64(i)*int64(20*time.Millisecond))
	}
	if got := tr.currentLoudness(int64(b.N+warm-1) * int64(20*time.Millisecond)); got != 87 {
		b.Fatalf("smoothed loudness %d, want about 87", got)
	}
}
