package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"toncon/internal/auth"
	hubpkg "toncon/internal/hub"
)

// The SFU in the same process, and a separate media node seen from an app node, are what the hub channel calls.
var (
	_ hubpkg.Media = (*SFU)(nil)
	_ hubpkg.Media = (*Remote)(nil)
)

// testKeysDir holds testKeys (keys/perms.pub.pem is what a separate media process needs).
var testKeysDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "toncon-media-test")
	if err != nil {
		panic(err)
	}
	testKeysDir = filepath.Join(dir, "keys")
	if testKeys, _, err = auth.LoadOrCreateKeys(testKeysDir); err != nil {
		panic(err)
	}
	if forgeKeys, _, err = auth.LoadOrCreateKeys(filepath.Join(dir, "forged")); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		// Every test has closed its SFU and clients: nothing of theirs may still run.
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines leaked: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

const hub = "hub1abc"

func joinAll(e *env, cs ...*client) {
	for _, c := range cs {
		c.join(e, hub, e.token(hub, nil))
	}
}

func receives(c *client, from, kind string) func() bool {
	return func() bool { return c.got(from, kind) > 5 }
}

// TestAudioAndVideoReachEveryoneAndStopAfterLeave: A publishes Opus and VP8; B and C receive both; when B leaves,
// A's tracks stop going to B while C keeps getting them.
func TestAudioAndVideoReachEveryoneAndStopAfterLeave(t *testing.T) {
	e := newEnv(t, nil)
	a, b, c := e.dial("a"), e.dial("b"), e.dial("c")
	joinAll(e, a, b, c)
	a.publish(true, true)
	for _, x := range []*client{b, c} {
		eventually(t, 10*time.Second, x.name+" receives A's audio", receives(x, "a", "audio"))
		eventually(t, 10*time.Second, x.name+" receives A's video", receives(x, "a", "video"))
	}
	if l := e.sfu.Load(); l.Peers != 3 || l.Tracks != 2 || l.Streams != 4 || l.Cap != 4 {
		t.Fatalf("load with 3 peers and A's 2 tracks going to B and C: %+v", l)
	}
	b.note("tracks", func(d json.RawMessage) bool { return bytes.Contains(d, []byte(`"source":"camera"`)) })

	// B drops its socket but keeps its PeerConnections, as a crashed tab might: the server stops sending anyway.
	b.leaveSocketOnly()
	eventually(t, 5*time.Second, "the server drops B's streams", func() bool { return e.sfu.Load().Streams == 2 })
	c.note("peer_left", func(d json.RawMessage) bool { return bytes.Contains(d, []byte(`"b"`)) })
	cAudio := c.got("a", "audio")
	time.Sleep(100 * time.Millisecond) // packets already in flight to B may still land
	bAudio, bVideo := b.got("a", "audio"), b.got("a", "video")
	steady(t, 700*time.Millisecond, "B gets nothing more from A", func() bool {
		return b.got("a", "audio") == bAudio && b.got("a", "video") == bVideo
	})
	eventually(t, 5*time.Second, "C still receives A", func() bool { return c.got("a", "audio") > cAudio+10 })
}

// TestRefusedJoins: a forged, expired, other-room or join_hub=false token, or none, is refused with a clear
// reason, the socket is closed, and no PeerConnection is ever made.
func TestRefusedJoins(t *testing.T) {
	e := newEnv(t, nil)
	mint := func(k *auth.Keys, hubID string, perms map[string]bool, at time.Time) string {
		tok, err := k.MintPerms(auth.PermsClaims{HubID: hubID, Perms: perms}, at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ok := map[string]bool{"join_hub": true, "voice_chat": true}
	cases := []struct {
		name, token, code string
	}{
		{"forged", mint(forgeKeys, hub, ok, time.Now()), "token_invalid"},
		{"expired", mint(testKeys, hub, ok, time.Now().Add(-10*time.Minute)), "token_expired"},
		{"other hub", mint(testKeys, "otherhub", ok, time.Now()), "wrong_hub"},
		{"join_hub false", mint(testKeys, hub, map[string]bool{"join_hub": false}, time.Now()), "join_denied"},
		{"garbage", "not.a.jwt", "token_invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial("x")
			// Before joining, nothing else is allowed either.
			if _, rerr := c.request("publish", map[string]string{"sdp": "v=0"}); rerr == nil || rerr.Code != "not_joined" {
				t.Fatalf("publish before join: %v", rerr)
			}
			_, rerr := c.request("join", map[string]string{"hub_id": hub, "token": tc.token})
			if rerr == nil || rerr.Code != tc.code || rerr.Reason == "" {
				t.Fatalf("join with a %s token: got %+v, want code %s", tc.name, rerr, tc.code)
			}
			if code, _ := c.closedWith(); code != CloseJoinRefused {
				t.Fatalf("close code %d, want %d", code, CloseJoinRefused)
			}
		})
	}
	// A token names the hub session it was issued to: joining under another session is refused.
	aliceTok, err := testKeys.MintPerms(auth.PermsClaims{HubID: hub, SessionID: "alice", Perms: ok}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial("mallory")
	if _, rerr := c.request("join", map[string]string{"hub_id": hub, "session_id": "mallory", "token": aliceTok}); rerr == nil || rerr.Code != "wrong_session" {
		t.Fatalf("join with someone else's token: %+v", rerr)
	}
	if n := e.sfu.stats.peerConnections.Load(); n != 0 {
		t.Fatalf("%d PeerConnections made for refused peers", n)
	}
	if l := e.sfu.Load(); l.Peers != 0 || l.Rooms != 0 {
		t.Fatalf("refused peers are in rooms: %+v", l)
	}
	// Without a session_id in the request, the token's session is used.
	d := e.dial("alice")
	data, rerr := d.request("join", map[string]string{"hub_id": hub, "token": aliceTok})
	if rerr != nil || !strings.Contains(string(data), `"session_id":"alice"`) {
		t.Fatalf("join with the token's own session: %s %+v", data, rerr)
	}
	d.request("leave", map[string]string{})
}

// TestVoiceChatFalse: without voice_chat, A's audio is not forwarded; A's video is.
func TestVoiceChatFalse(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	jr := a.join(e, hub, e.token(hub, map[string]bool{"voice_chat": false}))
	if jr.Voice.Allowed {
		t.Fatal("join response says voice is allowed")
	}
	joinAll(e, b)
	a.publish(true, true)
	eventually(t, 10*time.Second, "B receives A's video", receives(b, "a", "video"))
	steady(t, time.Second, "B gets no audio from A", func() bool { return b.got("a", "audio") == 0 })
}

// TestModeratorMuteUntilSelfUnmute: a moderator's mute stops A's audio reaching B while video goes on; only A's
// own unmute lifts it.
func TestModeratorMuteUntilSelfUnmute(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	joinAll(e, a, b)
	a.publish(true, true)
	eventually(t, 10*time.Second, "B receives A's audio", receives(b, "a", "audio"))

	e.sfu.Mute(hub, "a", true)
	a.note("muted", func(d json.RawMessage) bool { return bytes.Contains(d, []byte(`"muted":true`)) })
	time.Sleep(100 * time.Millisecond) // in flight
	audio, video := b.got("a", "audio"), b.got("a", "video")
	steady(t, 700*time.Millisecond, "A's audio stays muted", func() bool { return b.got("a", "audio") == audio })
	if b.got("a", "video") <= video {
		t.Fatal("A's video stopped too")
	}
	// B cannot unmute A: unmute only ever concerns the sender.
	if _, rerr := b.request("unmute", nil); rerr != nil {
		t.Fatal(rerr)
	}
	steady(t, 300*time.Millisecond, "A's audio stays muted after B's unmute", func() bool { return b.got("a", "audio") == audio })

	if _, rerr := a.request("unmute", nil); rerr != nil {
		t.Fatal(rerr)
	}
	eventually(t, 5*time.Second, "A's audio flows again", func() bool { return b.got("a", "audio") > audio+5 })
}

// TestMuteSurvivesReconnect: a muted session that reconnects is still muted.
func TestMuteSurvivesReconnect(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	joinAll(e, a, b)
	e.sfu.Mute(hub, "a", true)
	a2 := e.dial("a")
	jr := a2.join(e, hub, e.token(hub, nil))
	if !jr.Voice.Muted {
		t.Fatal("reconnected session is not muted")
	}
	if code, _ := a.closedWith(); code != CloseReplaced {
		t.Fatalf("old socket closed with %d, want %d", code, CloseReplaced)
	}
}

// TestKickClosesMedia: a kick closes A's socket with a reason and A's media, and B hears of it.
func TestKickClosesMedia(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	joinAll(e, a, b)
	a.publish(true, true)
	eventually(t, 10*time.Second, "B receives A's video", receives(b, "a", "video"))

	e.sfu.Kick(hub, "a")
	if code, reason := a.closedWith(); code != CloseKicked || reason == "" {
		t.Fatalf("kicked socket closed with %d %q", code, reason)
	}
	b.note("peer_left", func(d json.RawMessage) bool { return bytes.Contains(d, []byte(`"a"`)) })
	eventually(t, 5*time.Second, "A's tracks are gone", func() bool { l := e.sfu.Load(); return l.Tracks == 0 && l.Streams == 0 })
	eventually(t, 5*time.Second, "A's publish connection is closed", func() bool {
		st := a.pub.ConnectionState()
		return st == webrtc.PeerConnectionStateClosed || st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateDisconnected
	})
}

// TestTokenRefreshAndExpiry: refresh_token keeps a session whose token runs out, checks the room, and applies
// new permissions; without a refresh the session ends.
func TestTokenRefreshAndExpiry(t *testing.T) {
	e := newEnv(t, nil)
	// Tokens that run out (with the verifier's leeway) about 1.5 s from now.
	soon := func() string {
		at := time.Now().Add(-auth.PermsTTL - auth.TokenLeeway + 1500*time.Millisecond)
		tok, err := testKeys.MintPerms(auth.PermsClaims{HubID: hub, Perms: map[string]bool{"join_hub": true, "voice_chat": true}}, at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a, b := e.dial("a"), e.dial("b")
	a.join(e, hub, soon())
	b.join(e, hub, soon())
	if _, rerr := b.request("refresh_token", map[string]string{"token": e.token("otherhub", nil)}); rerr == nil || rerr.Code != "wrong_hub" {
		t.Fatalf("refresh with another room's token: %v", rerr)
	}
	data, rerr := b.request("refresh_token", map[string]string{"token": e.token(hub, map[string]bool{"voice_chat": false})})
	if rerr != nil || !bytes.Contains(data, []byte(`"allowed":false`)) {
		t.Fatalf("refresh: %s %v", data, rerr)
	}
	if code, _ := a.closedWith(); code != CloseTokenExpired {
		t.Fatalf("A's session without refresh closed with %d, want %d", code, CloseTokenExpired)
	}
	eventually(t, 5*time.Second, "A is gone", func() bool { return e.sfu.Load().Peers == 1 })
	steady(t, time.Second, "B's refreshed session stays", func() bool {
		return e.sfu.room(hub, false).peer("b") != nil && b.err() == nil
	})
	if e.sfu.room(hub, false).peer("b").audioOn.Load() {
		t.Fatal("B's audio is forwarded after a refresh took voice_chat away")
	}
}

// TestSimulcastLayerChoice: a subscriber gets the highest layer by default and the one it asks for with
// set_layer, switching at a keyframe.
func TestSimulcastLayerChoice(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	joinAll(e, a, b)
	a.publishSimulcast()
	layer := func() byte {
		if p := b.lastPayload("a", "video"); len(p) > 2 {
			return p[2]
		}
		return 0
	}
	eventually(t, 10*time.Second, "B receives A's f layer", func() bool { return layer() == 'f' })
	b.note("tracks", func(d json.RawMessage) bool { return bytes.Contains(d, []byte(`"layers":["q","f"]`)) })
	if _, rerr := b.request("set_layer", map[string]string{"session_id": "a", "rid": "x"}); rerr == nil || rerr.Code != "no_layer" {
		t.Fatalf("set_layer to a missing layer: %v", rerr)
	}
	if _, rerr := b.request("set_layer", map[string]string{"session_id": "a", "rid": "q"}); rerr != nil {
		t.Fatal(rerr)
	}
	eventually(t, 5*time.Second, "B switches to the q layer", func() bool { return layer() == 'q' })
	if _, rerr := b.request("set_layer", map[string]string{"session_id": "a", "rid": "auto"}); rerr != nil {
		t.Fatal(rerr)
	}
	eventually(t, 5*time.Second, "B is back on f", func() bool { return layer() == 'f' })
}

// TestKeyframeRequestsReachThePublisher: a subscriber's PLI reaches the publisher, rate limited.
func TestKeyframeRequestsReachThePublisher(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	joinAll(e, a, b)
	a.publish(false, true)
	eventually(t, 10*time.Second, "B receives A's video", receives(b, "a", "video"))
	var ssrc uint32
	for _, r := range b.sub.GetReceivers() {
		if tr := r.Track(); tr != nil && tr.Kind() == webrtc.RTPCodecTypeVideo {
			ssrc = uint32(tr.SSRC())
		}
	}
	time.Sleep(keyframeInterval + 50*time.Millisecond)
	before := a.plis.Load()
	for range 20 {
		if err := b.sub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "A gets a keyframe request", func() bool { return a.plis.Load() > before })
	time.Sleep(200 * time.Millisecond)
	if n := a.plis.Load() - before; n > 2 {
		t.Fatalf("20 PLIs in a burst became %d upstream; want them rate limited", n)
	}
}

// TestH264Video: an H264 publisher reaches a subscriber, starting at its keyframe (SPS in a STAP-A).
func TestH264Video(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	joinAll(e, a, b)
	pc, err := a.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.pub = pc
	a.mu.Unlock()
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "cam", "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	sps, pps := []byte{0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0xda}, []byte{0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80}
	a.sendSamples(tr, 33*time.Millisecond, func(i int, _ bool) []byte {
		if i%30 == 0 {
			return append(append(append([]byte{}, sps...), pps...), 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00)
		}
		return []byte{0, 0, 0, 1, 0x41, 0x9a, 0x02, 0x03}
	})
	a.negotiatePublish(pc, "camera")
	eventually(t, 10*time.Second, "B receives A's H264 video", receives(b, "a", "video"))
	var mime string
	for _, r := range b.sub.GetReceivers() {
		if tr := r.Track(); tr != nil && tr.Kind() == webrtc.RTPCodecTypeVideo {
			mime = tr.Codec().MimeType
		}
	}
	if mime != webrtc.MimeTypeH264 {
		t.Fatalf("B receives %q", mime)
	}
}

// TestICETCPFallback: a client that cannot use UDP reaches the server over ICE-TCP.
func TestICETCPFallback(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	a.api, b.api = clientAPIOver(t, webrtc.NetworkTypeTCP4), clientAPIOver(t, webrtc.NetworkTypeTCP4)
	joinAll(e, a, b)
	a.publish(true, false)
	eventually(t, 10*time.Second, "B receives A's audio over TCP", receives(b, "a", "audio"))
	pair, err := b.sub.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Protocol != webrtc.ICEProtocolTCP {
		t.Fatalf("B's selected pair: %v %v", pair, err)
	}
}

// TestPublishLimits: at most one audio and one video track.
func TestPublishLimits(t *testing.T) {
	e := newEnv(t, nil)
	a := e.dial("a")
	joinAll(e, a)
	pc, err := a.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for range 2 {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, _ := pc.CreateOffer(nil)
	if _, rerr := a.request("publish", map[string]string{"sdp": offer.SDP}); rerr == nil || rerr.Code != "too_many_tracks" {
		t.Fatalf("two audio tracks: %v", rerr)
	}
}

// TestMetaAndControl: /media/meta reports load; /media/control (what Remote calls) mutes and kicks with a
// token that grants it, and refuses a member's token.
func TestMetaAndControl(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.dial("a"), e.dial("b")
	joinAll(e, a, b)
	resp, err := http.Get(e.http.URL + "/media/meta")
	if err != nil {
		t.Fatal(err)
	}
	var l map[string]int
	err = json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if err != nil || l["rooms"] != 1 || l["peers"] != 2 || l["tracks"] != 0 {
		t.Fatalf("meta: %v %v", l, err)
	}
	if _, ok := l["cap"]; !ok {
		t.Fatalf("meta has no cap: %v", l)
	}

	body := `{"action":"mute","hub_id":"` + hub + `","session_id":"a"}`
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/media/control", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+e.token(hub, nil))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("mute with a member's token: %s", resp.Status)
	}

	remote, err := NewRemote(e.http.URL, testKeys, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host, port := remote.Host(hub); host != "127.0.0.1" || port == 0 {
		t.Fatalf("remote host %s:%d", host, port)
	}
	remote.Mute(hub, "a", true)
	a.note("muted", func(d json.RawMessage) bool { return bytes.Contains(d, []byte(`"muted":true`)) })
	remote.Kick(hub, "b")
	if code, _ := b.closedWith(); code != CloseKicked {
		t.Fatalf("remote kick closed with %d", code)
	}
}

// TestNoGoroutinesLeftAfterEveryoneLeaves: a room with media, emptied and closed, leaves nothing running.
func TestNoGoroutinesLeftAfterEveryoneLeaves(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	func() {
		e := newEnv(t, nil)
		a, b := e.dial("a"), e.dial("b")
		joinAll(e, a, b)
		a.publish(true, true)
		b.publish(true, false)
		eventually(t, 10*time.Second, "media flows both ways", func() bool {
			return b.got("a", "video") > 5 && a.got("b", "audio") > 5
		})
		a.close()
		b.close()
		eventually(t, 5*time.Second, "the room is gone", func() bool { return e.sfu.Load().Rooms == 0 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.sfu.Close(ctx); err != nil {
			t.Fatal(err)
		}
		e.http.Close()
	}()
	goleak.VerifyNone(t, ignore)
}

// TestLeave: leave is answered, then the socket closes normally and the room forgets the peer.
func TestLeave(t *testing.T) {
	e := newEnv(t, nil)
	a := e.dial("a")
	joinAll(e, a)
	if _, rerr := a.request("leave", nil); rerr != nil {
		t.Fatal(rerr)
	}
	if code, _ := a.closedWith(); code != websocket.StatusNormalClosure {
		t.Fatalf("closed with %d", code)
	}
	eventually(t, 5*time.Second, "the room is gone", func() bool { return e.sfu.Load().Rooms == 0 })
}

func TestCloseCodesAreDistinct(t *testing.T) {
	seen := map[websocket.StatusCode]bool{}
	for _, c := range []websocket.StatusCode{CloseShutdown, CloseTokenExpired, CloseReplaced, CloseKicked, CloseJoinRefused, CloseProtocol, CloseNoAnswer, CloseMediaFailed} {
		if seen[c] {
			t.Fatalf("close code %d used twice", c)
		}
		seen[c] = true
	}
}
