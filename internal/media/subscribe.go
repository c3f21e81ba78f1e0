package media

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// subscriber is a peer's receiving side: the subscribe PeerConnection, on which the server is always the one to
// offer. Changes (tracks published or unpublished in the room) only ever set a flag; one goroutine at a time
// brings the connection up to date and sends one offer, waits for its answer, and goes round again if more
// changes came meanwhile. So offers never cross (no glare), and a burst of changes costs one or two offers.
type subscriber struct {
	peer *peer

	mu      sync.Mutex // guards everything below
	pc      *webrtc.PeerConnection
	slots   map[*pubTrack]*slot
	running bool // a negotiation goroutine is active
	pending bool // something changed since it last looked
	closed  bool
}

// slot is one forwarded track on the subscribe connection.
type slot struct {
	sender *webrtc.RTPSender
	down   *downTrack
}

// schedule notes that the room's tracks changed and starts a negotiation goroutine unless one is running.
func (s *subscriber) schedule() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending = true
	if s.running {
		s.mu.Unlock()
		return
	}
	s.running = true
	s.mu.Unlock()
	s.peer.goIfOpen(s.run)
}

func (s *subscriber) run() {
	for {
		s.mu.Lock()
		if s.closed || !s.pending {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.pending = false
		s.mu.Unlock()
		if err := s.negotiate(); err != nil {
			if s.isClosed() {
				return
			}
			s.peer.log.Info("subscribe negotiation failed", "err", err)
			s.peer.closeWith(CloseNoAnswer, "the subscribe offer was not answered")
			return
		}
	}
}

func (s *subscriber) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// negotiate adds the room's new tracks, drops the ended ones, and, if anything changed, offers and applies the
// client's answer.
func (s *subscriber) negotiate() error {
	want := s.peer.room.tracksFor(s.peer)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	changed := false
	keep := make(map[*pubTrack]bool, len(want))
	for _, t := range want {
		keep[t] = true
	}
	for t, sl := range s.slots {
		if !keep[t] {
			_ = s.pc.RemoveTrack(sl.sender) // Unbind stops the forwarding; the transceiver is reused later
			delete(s.slots, t)
			changed = true
		}
	}
	var added []*slot
	for _, t := range want {
		if s.slots[t] != nil {
			continue
		}
		if s.pc == nil {
			pc, err := s.peer.newPeerConnection()
			if err != nil {
				s.mu.Unlock()
				return err
			}
			s.pc = pc
		}
		d := newDownTrack(s.peer.sfu, t)
		sender, err := s.pc.AddTrack(d)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		sl := &slot{sender: sender, down: d}
		s.slots[t] = sl
		added = append(added, sl)
		changed = true
	}
	pc := s.pc
	s.mu.Unlock()
	for _, sl := range added {
		s.peer.goIfOpen(func() { readSubscriberRTCP(sl) })
	}
	if !changed {
		return nil
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.peer.sfu.cfg.AnswerTimeout)
	defer cancel()
	sdpText, err := localDescription(ctx, pc, offer)
	if err != nil {
		return err
	}
	resp, err := s.peer.conn.request(ctx, "offer", map[string]string{"sdp": sdpText})
	if err != nil {
		return err
	}
	var answer struct {
		SDP string `json:"sdp"`
	}
	if err := json.Unmarshal(resp, &answer); err != nil || answer.SDP == "" {
		return errors.New("the answer to offer has no sdp")
	}
	return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP})
}

// readSubscriberRTCP reads what the subscriber says about one track until the sender stops: keyframe requests
// go to the publisher (rate limited there), and receiver reports drive layer choice. Reading is also what lets
// Pion's NACK responder resend lost packets.
func readSubscriberRTCP(sl *slot) {
	d := sl.down
	for {
		pkts, _, err := sl.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch p := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.track.requestKeyframe(d.keyframeLayer())
			case *rtcp.ReceiverReport:
				if d.track.kind != webrtc.RTPCodecTypeVideo {
					continue
				}
				for _, r := range p.Reports {
					d.onReceiverReport(r.SSRC, r.FractionLost, nanotime())
				}
			}
		}
	}
}

func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	pc := s.pc
	s.mu.Unlock()
	if pc != nil {
		_ = pc.Close() // stops every sender, which unbinds its downTrack
	}
}

func (s *subscriber) currentPC() *webrtc.PeerConnection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pc
}

// videoFrom is the downTrack of session's video on this subscriber, if any.
func (s *subscriber) videoFrom(session string) *downTrack {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, sl := range s.slots {
		if t.owner.session == session && t.kind == webrtc.RTPCodecTypeVideo {
			return sl.down
		}
	}
	return nil
}

// downFor returns the downTrack forwarding t to this subscriber (tests).
func (s *subscriber) downFor(t *pubTrack) *downTrack {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sl := s.slots[t]; sl != nil {
		return sl.down
	}
	return nil
}
