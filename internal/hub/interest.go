package hub

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"toncon/internal/phx"
)

// Interest management: in a big room, each person gets the pose updates of avatars farther away than a radius
// less often. It is what lets one room hold hundreds: the pose fan-out grows with the square of the room.
//
// Only ordinary updates of one avatar whose components are all pose-like are thinned. For a far recipient at
// most one such update per interval goes out; one held back becomes the pair's pending update (replacing an
// older one), and the room's flusher sends it when the interval has passed, so a far avatar that stops still
// ends where it stopped. NAF updates carry only the components that changed, so a newer update replaces the
// pending one only when it carries every component the pending one does; otherwise the pending one goes out
// first. Everything else the sender relays (first syncs, removals, other entities, batches) goes out at once,
// after any pending update of the sender, so nothing is overtaken by an older pose.

const (
	defaultInterestInterval = 300 * time.Millisecond
	interestTick            = 50 * time.Millisecond
)

// poseKeys are the component indices that may be thinned: those of a moving body. The web client's avatar
// syncs "0" position, "1" rotation and "2" head rotation; the Hubs avatar "0", "1", "2" scale, "5"/"6" head,
// "7"/"8" and "10"/"11" hands. Others ("3" player info and the like) are delivered at once.
const poseKeys uint64 = 1<<0 | 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<11

// interestPos is where a session's avatar stands, as its own updates said: x and z as float32 bits, set
// once known. Written by the session's reader goroutine, read by everyone's.
type interestPos struct {
	xz    atomic.Uint64
	known atomic.Bool
}

func (p *interestPos) set(x, z float64) {
	p.xz.Store(uint64(math.Float32bits(float32(x)))<<32 | uint64(math.Float32bits(float32(z))))
	p.known.Store(true)
}

func (p *interestPos) get() (x, z float64, ok bool) {
	if !p.known.Load() {
		return 0, 0, false
	}
	v := p.xz.Load()
	return float64(math.Float32frombits(uint32(v >> 32))), float64(math.Float32frombits(uint32(v))), true
}

// pair is what a sender remembers of one recipient far away.
type pair struct {
	to      *channel
	last    time.Time     // when an update of the sender's avatar last went to the recipient
	pending *phx.Outbound // the newest held-back update, nil when none
	mask    uint64        // the components pending carries
	listed  bool          // in the sender's held list
}

// interestState is a sender's side of interest management. mu is held across a whole fan-out, so the room's
// flusher cannot slip an older pending update in between.
type interestState struct {
	mu       sync.Mutex
	pairs    map[*channel]*pair
	held     []*pair // the pairs that may have a pending update: the flusher looks at these, not at every pair
	sweeps   int     // flushes since pairs was last swept of recipients who left
	npending atomic.Int32
}

// avatarPose reads a single avatar update: the components it carries as a bitmask of poseKeys, whether they are
// all pose-like, and the position when it carries "0".
func avatarPose(item []byte) (mask uint64, poseOnly bool, x, z float64, hasPos bool) {
	comps, ok := phx.ObjectField(item, "components")
	if !ok {
		return 0, false, 0, 0, false
	}
	poseOnly = true
	walked := phx.ObjectEach(comps, func(k, v []byte) bool {
		n, err := strconv.Atoi(string(k))
		if err != nil || n < 0 || n > 63 || poseKeys&(1<<n) == 0 {
			poseOnly = false
			return false
		}
		mask |= 1 << n
		if n == 0 {
			xt, ok1 := phx.ObjectField(v, "x")
			zt, ok2 := phx.ObjectField(v, "z")
			if ok1 && ok2 {
				var err1, err2 error
				x, err1 = strconv.ParseFloat(string(xt), 64)
				z, err2 = strconv.ParseFloat(string(zt), 64)
				hasPos = err1 == nil && err2 == nil && !math.IsNaN(x+z) && !math.IsInf(x+z, 0)
			}
		}
		return true
	})
	return mask, poseOnly && walked && mask != 0, x, z, hasPos
}

// relayThinned sends o, a pose-only update of the sender's avatar, to everyone else in the room: at once to those
// within the radius (and to those whose place is unknown), at most once an interval to the others.
func (c *channel) relayThinned(o *phx.Outbound, mask uint64) {
	s := c.svc
	sx, sz, placed := c.pos.get() // unplaced, the sender is near everyone
	radius2 := s.cfg.InterestRadius * s.cfg.InterestRadius
	interval := s.cfg.InterestInterval
	now := s.cfg.Now()
	blocks := c.room.blocks.Load() != 0
	st := &c.interest
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.pairs == nil {
		st.pairs = map[*channel]*pair{}
	}
	var n interestCounts // added to the service's counters once, after the fan-out, not once a recipient
	anyPending := st.npending.Load() > 0
	c.ch.Server().BroadcastFunc(c.room.topic, o, func(to *phx.Channel) bool {
		other, ok := to.Handler().(*channel)
		if to == c.ch || !ok || (blocks && c.room.blocked(c.sessionID, other.sessionID)) {
			return false
		}
		var p *pair
		if rx, rz, known := other.pos.get(); known && placed {
			if dx, dz := rx-sx, rz-sz; dx*dx+dz*dz > radius2 {
				if p = st.pairs[other]; p == nil {
					p = &pair{to: other}
					st.pairs[other] = p
				}
				if now.Sub(p.last) < interval {
					if p.pending != nil {
						settle(to, p, mask, &n)
					}
					if !p.listed {
						p.listed = true
						st.held = append(st.held, p)
					}
					n.pending++
					p.pending, p.mask = o, mask
					n.held++
					return false
				}
				p.last = now
			} else if anyPending {
				p = st.pairs[other] // near now, but something may be held from when it was far
			}
		}
		if p != nil && p.pending != nil {
			settle(to, p, mask, &n)
		}
		return true
	})
	if n.pending != 0 {
		st.npending.Add(n.pending)
	}
	n.addTo(&s.stats)
	if n.held > 0 {
		c.room.startFlusher(s)
	}
}

// interestCounts are one fan-out's contributions to the service's interest counters and to the sender's
// npending: a big room holds back an update for most recipients, and an atomic add each (on counters every
// sender shares, for the service's) would cost more than the holding.
type interestCounts struct {
	held, superseded, flushed int64
	pending                   int32 // the change in npending
}

func (n *interestCounts) addTo(st *Stats) {
	if n.held != 0 {
		st.InterestHeld.Add(n.held)
	}
	if n.superseded != 0 {
		st.InterestSuperseded.Add(n.superseded)
	}
	if n.flushed != 0 {
		st.InterestFlushed.Add(n.flushed)
	}
}

// settle ends p's pending update before a newer one with components mask goes to, or is held for, to: it is sent
// first when the newer update lacks some of its components, and superseded otherwise.
func settle(to *phx.Channel, p *pair, mask uint64, n *interestCounts) {
	if p.mask&^mask != 0 {
		to.Send(p.pending)
		n.flushed++
	} else {
		n.superseded++
	}
	p.pending = nil
	n.pending--
}

// flushPendingLocked sends the sender's pending updates now (only those whose interval has passed when dueOnly
// is set); st.mu must be held.
func (c *channel) flushPendingLocked(now time.Time, dueOnly bool) {
	st := &c.interest
	keep := st.held[:0]
	var sent, ended int32 // counted here and added once, like relayThinned's counts
	for _, p := range st.held {
		switch {
		case p.to.gone.Load():
			if p.pending != nil {
				ended++
			}
			delete(st.pairs, p.to)
			continue
		case p.pending == nil:
		case dueOnly && now.Sub(p.last) < c.svc.cfg.InterestInterval:
			keep = append(keep, p)
			continue
		default:
			p.to.ch.Send(p.pending)
			sent++
			p.pending, p.last = nil, now
		}
		p.listed = false
	}
	clear(st.held[len(keep):])
	st.held = keep
	if sent+ended != 0 {
		st.npending.Add(-(sent + ended))
	}
	if sent != 0 {
		c.svc.stats.InterestFlushed.Add(int64(sent))
	}
	if st.sweeps++; st.sweeps >= 200 { // now and then, forget the recipients who left without anything pending
		st.sweeps = 0
		for other := range st.pairs {
			if other.gone.Load() {
				delete(st.pairs, other)
			}
		}
	}
}

// flushPending sends the sender's pending updates before something that must not overtake them.
func (c *channel) flushPending() {
	if c.interest.npending.Load() == 0 {
		return
	}
	c.interest.mu.Lock()
	c.flushPendingLocked(c.svc.cfg.Now(), false)
	c.interest.mu.Unlock()
}

// startFlusher starts the room's flusher once; it ends when the room is forgotten.
func (r *room) startFlusher(s *Service) {
	r.flusherOnce.Do(func() {
		go func() {
			t := time.NewTicker(s.flushEvery)
			defer t.Stop()
			var senders []*channel
			for range t.C {
				if r.gone.Load() {
					return
				}
				senders = r.flushDue(s.cfg.Now(), senders[:0])
			}
		}()
	})
}

// flushDue sends the pending updates whose interval has passed. senders is scratch space, returned for reuse.
func (r *room) flushDue(now time.Time, senders []*channel) []*channel {
	r.mu.Lock()
	for m := range r.members {
		if m.interest.npending.Load() > 0 {
			senders = append(senders, m)
		}
	}
	r.mu.Unlock()
	for _, m := range senders {
		m.interest.mu.Lock()
		m.flushPendingLocked(now, true)
		m.interest.mu.Unlock()
	}
	return senders
}

// updateInfo is what check learnt of an update message, for the relay that follows: the reader goroutine's
// scratch, reset by every check.
type updateInfo struct {
	n      int    // entity updates in the message
	item   []byte // the last one, in the message's buffer
	avatar bool   // whether that one is of an avatar
	inRoom int    // people in the room when it was checked
}

func (u *updateInfo) note(item []byte, e *entity) {
	u.n++
	u.item, u.avatar = item, strings.HasSuffix(e.template, "-avatar")
}

// thinnable consumes what check learnt: it keeps the sender's position up to date from its avatar's updates,
// and says whether this message may be thinned, with the components it carries.
func (c *channel) thinnable() (uint64, bool) {
	u := c.upd
	c.upd = updateInfo{}
	min := c.svc.cfg.InterestMinRoom
	if min <= 0 || u.n != 1 || !u.avatar {
		return 0, false
	}
	mask, poseOnly, x, z, hasPos := avatarPose(u.item)
	if hasPos {
		c.pos.set(x, z)
	}
	return mask, poseOnly && u.inRoom >= min
}
