package media

import (
	"testing"
)

// FuzzKeyframeStart feeds arbitrary RTP payloads to the VP8 and H264 readers, which look at what any publisher
// sends: they must never read out of bounds.
func FuzzKeyframeStart(f *testing.F) {
	for _, seed := range [][]byte{
		{0x10, 0x00},                   // VP8 keyframe start
		{0x90, 0xe0, 0x80, 0x01, 0x00}, // VP8 with picture id, TL0PICIDX, TID
		{0x65},                         // H264 IDR
		{0x18, 0x00, 0x02, 0x67, 0x42}, // H264 STAP-A with an SPS
		{0x7c, 0x85},                   // H264 FU-A start of an IDR
		{0x18, 0xff, 0xff},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		vp8KeyframeStart(p)
		h264KeyframeStart(p)
	})
}

// FuzzPublishOffer feeds arbitrary text to the publish offer check and the token expiry reader, both of which
// see what clients send before anything else looks at it.
func FuzzPublishOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n")
	f.Add("m=video 0 UDP/TLS/RTP/SAVPF 96\r\n")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		_ = checkPublishOffer(s)
		_, _ = tokenExpiry(s)
		_ = h264Profile(s)
	})
}
