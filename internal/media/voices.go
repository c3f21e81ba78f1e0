package media

// Loudest-voice forwarding. In a room where many people talk at once, forwarding every voice to every listener
// costs one packet write per (voice, listener) pair, and listeners cannot follow more than a few voices anyway.
// With Config.MaxVoices set, each room forwards only its MaxVoices loudest voices, chosen every VoiceInterval
// from the audio level browsers put in each packet (RFC 6464, urn:ietf:params:rtp-hdrext:ssrc-audio-level);
// the other voices are read and dropped ("suppressed"), the way a mute drops them.
//
// The level costs no allocation: the reader already unmarshals each packet, and the extension's one byte is
// read in place from it. Each voice keeps a smoothed loudness that rises fast (a voice that starts is heard at
// once) and falls slowly (pauses between words do not hand its place over). A voice outside the set takes the
// place of the quietest one inside only when it is louder by voiceMargin dB, so two voices of about the same
// loudness do not flap. A voice whose packets carry no level (an old client, or one that did not negotiate the
// extension) is never chosen against: it is always forwarded, as before.
//
// A suppressed voice comes back without any help from its publisher: audio needs no keyframe, and the reader's
// gap generation (see pubTrack.readLoop) makes each receiver's stream continue its sequence numbers, so the
// receiver sees a jump in timestamps (a silence, like Opus DTX) and no loss. The server never NACKs what it
// suppressed either: it received those packets, and Opus is not NACKed on the subscriber side (no nack
// feedback is offered for audio).

import (
	"sort"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

const (
	// loudScale is the fixed-point scale of a smoothed loudness: loudness in dB above silence (0 to 127) × 16.
	loudScale = 16
	// voiceMargin is how much louder (dB) a voice must be than the quietest chosen one to take its place.
	voiceMargin = 6
	// voiceStale is how long a voice may send nothing (Opus DTX in a silence sends little) before it counts as
	// silent.
	voiceStale = 300 * time.Millisecond
)

// audioLevelID returns the id the publisher's connection negotiated for the audio level extension, or 0.
func audioLevelID(recv *webrtc.RTPReceiver) uint8 {
	if recv == nil {
		return 0
	}
	for _, h := range recv.GetParameters().HeaderExtensions {
		if h.URI == sdp.AudioLevelURI && h.ID > 0 && h.ID < 256 {
			return uint8(h.ID)
		}
	}
	return 0
}

// packetLoudness reads the audio level extension of pkt (RFC 6464: a V bit, then the level in -dBov, 0 the
// loudest and 127 silence) and returns the loudness in dB above silence, 0 to 127; ok is false without it.
func packetLoudness(pkt *rtp.Packet, id uint8) (loud int32, ok bool) {
	if id == 0 || !pkt.Extension {
		return 0, false
	}
	b := pkt.GetExtension(id)
	if len(b) < 1 {
		return 0, false
	}
	return 127 - int32(b[0]&0x7f), true
}

// observeLevel updates the track's smoothed loudness from one packet. Only the track's reader calls it (one
// writer); the selector reads with atomics.
func (t *pubTrack) observeLevel(pkt *rtp.Packet, now int64) {
	loud, ok := packetLoudness(pkt, t.levelID)
	if !ok {
		return
	}
	x := loud * loudScale
	s := t.loudness.Load()
	if now-t.levelAt.Load() > int64(voiceStale) {
		s = 0 // quiet too long: start again from silence (before the first level, loudness is 0 anyway)
	}
	if x > s {
		s += (x - s + 1) / 2 // attack: half way each packet, about 40 ms to a new level
	} else {
		s -= (s - x) / 16 // release: 1/16 each packet, about 300 ms
	}
	t.loudness.Store(s)
	t.levelAt.Store(now)
}

// currentLoudness is the smoothed loudness in dB, 0 for a voice that has been quiet longer than voiceStale.
func (t *pubTrack) currentLoudness(now int64) int32 {
	if now-t.levelAt.Load() > int64(voiceStale) {
		return 0
	}
	return t.loudness.Load() / loudScale
}

// selectVoices chooses the room's voices to forward, at most max of them among the voices that carry a level,
// and marks the others suppressed. max 0 forwards everything.
func (r *room) selectVoices(max int, now int64) {
	_, tracks := r.counts()
	type cand struct {
		t    *pubTrack
		loud int32
		in   bool
	}
	var cands []cand
	for _, t := range tracks {
		if t.kind != webrtc.RTPCodecTypeAudio {
			continue
		}
		if max <= 0 || t.levelAt.Load() == 0 {
			t.suppressed.Store(false) // no level to choose by, or no choosing: always forwarded
			continue
		}
		if !t.owner.audioOn.Load() {
			t.suppressed.Store(true) // muted: dropped anyway, and it must not hold a place
			continue
		}
		cands = append(cands, cand{t: t, loud: t.currentLoudness(now), in: !t.suppressed.Load()})
	}
	if len(cands) == 0 {
		return
	}
	// Loudest first; ties keep the voices already chosen, then a stable order.
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.loud != b.loud {
			return a.loud > b.loud
		}
		if a.in != b.in {
			return a.in
		}
		return a.t.id < b.t.id
	})
	var chosen []*cand
	for i := range cands {
		if cands[i].in && len(chosen) < max {
			chosen = append(chosen, &cands[i])
		} else {
			cands[i].in = false
		}
	}
	// Fill free places with the loudest of the others, then let a clearly louder voice replace the quietest.
	for i := range cands {
		c := &cands[i]
		if c.in {
			continue
		}
		if len(chosen) < max {
			c.in = true
			chosen = append(chosen, c)
			continue
		}
		q := 0
		for k := range chosen {
			if chosen[k].loud < chosen[q].loud {
				q = k
			}
		}
		if c.loud >= chosen[q].loud+voiceMargin {
			chosen[q].in = false
			c.in = true
			chosen[q] = c
		}
	}
	for _, c := range cands {
		c.t.suppressed.Store(!c.in)
	}
}
