package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// person is one simulated participant: a socket, a sender loop on its own goroutine, and the accounting its
// socket's reader does for every update it receives.
type person struct {
	r      *run
	idx    int // in the run; also the "person" of its updates' stamps
	room   *room
	slot   int // in its room
	moving bool
	talker bool // with --media: publishes a voice
	rate   float64
	av     avatar
	conn   *conn
	// joinRef is the ref of the hub join, sent with every push on the hub topic; set before the sender starts.
	joinRef string

	state   atomic.Int32
	counted atomic.Bool // entered before the window: its sends and receipts count

	// Counters, written by this person's goroutines and summed by the coordinator.
	framesOut, framesIn, bytesIn     atomic.Int64
	posesSent, posesIn, firstSyncsIn atomic.Int64
	chatSent, chatIn, otherIn, badIn atomic.Int64
	sentWindow, gotWindow            atomic.Int64 // pose updates stamped inside the window: sent, and received from others
	gaps, dups, foreign              atomic.Int64
	delays                           hist

	// Media (--media): the session, set before joined is called; its state; whether it counts in the window.
	media        *mediaPeer
	permsToken   string
	mediaState   atomic.Int32
	mediaCounted atomic.Bool
	voice        voiceCounters

	lastSeq []uint64 // by sender slot in the room; touched only by the reader goroutine

	seq  uint64 // the sender's own sequence; touched only by the sender goroutine
	out  []byte // the sender's buffers, reused
	body []byte
}

func newPerson(r *run, idx int, rm *room, slot int) *person {
	prof := r.cfg.Profile
	moving := slot%prof.MovingOneIn == 0
	p := &person{r: r, idx: idx, room: rm, slot: slot, moving: moving, rate: prof.StillRate,
		lastSeq: make([]uint64, rm.size)}
	if moving {
		p.rate = prof.Rate
	}
	p.talker = r.cfg.Media && slot < talkersIn(rm.size, r.cfg.talkShare())
	p.av = avatar{networkID: randomID(7), person: idx}
	return p
}

const idChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func randomID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idChars[rand.IntN(len(idChars))]
	}
	return string(b)
}

// stepTimeout bounds each request of the join sequence.
const stepTimeout = 15 * time.Second

// live runs the person from connecting to leaving. joined is called once the join sequence has ended, in
// success or failure.
func (p *person) live(ctx context.Context, joined func()) {
	err := p.join(ctx)
	if err == nil && p.r.media != nil {
		if merr := p.joinMedia(ctx, p.permsToken); merr != nil {
			p.mediaState.Store(mediaFailed)
			p.r.fail(merr.Error())
		} else {
			p.mediaState.Store(mediaReady)
		}
	}
	joined()
	if err != nil {
		if p.state.Load() != stateLobby {
			p.state.Store(stateFailed)
		}
		p.r.fail(err.Error())
		if p.conn != nil && p.state.Load() == stateFailed {
			p.conn.close()
			return
		}
	}
	if p.conn == nil {
		return
	}
	defer p.conn.close()
	if p.media != nil {
		stop := make(chan struct{})
		done := make(chan struct{})
		if p.mediaState.Load() == mediaReady {
			go func() { defer close(done); p.keepToken(ctx, stop) }()
		} else {
			close(done)
		}
		defer func() { close(stop); <-done; p.media.close() }()
	}
	if p.state.Load() == stateEntered {
		p.send(ctx)
	} else {
		p.idle(ctx) // in the lobby, as a browser waiting for room: heartbeats only
	}
}

// join dials, joins the hub, enters and first-syncs the avatar, as the Hubs client does.
func (p *person) join(ctx context.Context) error {
	var err error
	dctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if p.conn, err = dialConn(dctx, p.r.socketURL, p.r.cfg.TLS, p.onFrame); err != nil {
		return fmt.Errorf("connect: %s", firstLine(err.Error()))
	}
	p.framesOut.Add(1)
	payload := fmt.Appendf(nil, `{"profile":{"displayName":"Load %d","avatarId":"loadtest"},"context":{"mobile":false,"hmd":false,"embed":false}}`, p.idx)
	joinRef, status, resp, err := p.conn.join(dctx, p.room.topic, payload)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	if status != "ok" {
		return fmt.Errorf("join refused: %s", reason(resp))
	}
	var reply struct {
		SessionID  string `json:"session_id"`
		PermsToken string `json:"perms_token"`
	}
	if err := json.Unmarshal(resp, &reply); err != nil || reply.SessionID == "" {
		return errors.New("join reply without a session_id")
	}
	p.av.session = reply.SessionID
	p.permsToken = reply.PermsToken
	p.joinRef = joinRef

	p.framesOut.Add(1)
	if err := p.conn.push(p.joinRef, p.room.topic, "events:entering", []byte(`{}`)); err != nil {
		return fmt.Errorf("entering: %w", err)
	}
	p.framesOut.Add(1)
	status, resp, err = p.conn.request(dctx, p.joinRef, p.room.topic, "events:entered",
		[]byte(`{"entryDisplayType":"Screen","userAgent":"toncon-loadtest"}`))
	if err != nil {
		return fmt.Errorf("entered: %w", err)
	}
	if status != "ok" {
		p.state.Store(stateLobby)
		return fmt.Errorf("could not enter the room: %s", reason(resp))
	}
	p.state.Store(stateEntered)

	now := time.Now()
	p.av.lastOwnerTime = now.UnixMilli()
	p.seq++
	p.body = p.av.appendFirstSync(p.body[:0], poseAt(p.idx, now.Sub(p.r.start).Seconds()), p.seq, now.UnixMicro())
	p.framesOut.Add(1)
	if err := p.conn.push(p.joinRef, p.room.topic, "naf", p.body); err != nil {
		return fmt.Errorf("first sync: %w", err)
	}
	return nil
}

func reason(resp json.RawMessage) string {
	var r struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(resp, &r)
	if r.Message != "" {
		return r.Reason + " (" + r.Message + ")"
	}
	if r.Reason != "" {
		return r.Reason
	}
	return string(resp)
}

// send runs the person in the room until everyone leaves: pose updates at its rate until the window ends,
// a heartbeat every HeartbeatEvery and a chat message now and then.
func (p *person) send(ctx context.Context) {
	cfg := &p.r.cfg
	interval := time.Duration(float64(time.Second) / p.rate)
	// A random phase spreads everyone's updates over the interval, as independent browsers would.
	if !p.wait(ctx, rand.N(interval)) {
		return
	}
	poses := time.NewTicker(interval)
	defer poses.Stop()
	heartbeat := time.NewTicker(cfg.HeartbeatEvery)
	defer heartbeat.Stop()
	var chat <-chan time.Time // nil, never ready, when nobody chats
	if cfg.ChatEvery > 0 {
		chat = time.After(rand.N(2 * cfg.ChatEvery)) // intervals uniform on [0, 2×ChatEvery): mean ChatEvery
	}
	var chatN int
	for {
		select {
		case <-poses.C:
			if !p.sendPose() {
				poses.Stop() // the window is over: no more updates
			}
		case <-heartbeat.C:
			p.heartbeat()
		case <-chat:
			chatN++
			p.chat(chatN)
			chat = time.After(rand.N(2 * cfg.ChatEvery))
		case <-p.conn.done:
			p.lost()
			return
		case <-p.r.closeAll:
			return
		case <-ctx.Done():
			return
		}
	}
}

// idle keeps a lobby member's socket alive until everyone leaves.
func (p *person) idle(ctx context.Context) {
	heartbeat := time.NewTicker(p.r.cfg.HeartbeatEvery)
	defer heartbeat.Stop()
	for {
		select {
		case <-heartbeat.C:
			p.heartbeat()
		case <-p.conn.done:
			return
		case <-p.r.closeAll:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (p *person) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.conn.done:
		p.lost()
	case <-p.r.closeAll:
	case <-ctx.Done():
	}
	return false
}

// lost records a socket the server closed while the person was still in the room.
func (p *person) lost() {
	select {
	case <-p.r.closeAll:
		return // closing anyway
	default:
	}
	p.r.fail("socket lost in the room: " + p.conn.endErr().Error())
}

// sendPose sends one pose update and reports whether the person should go on sending.
func (p *person) sendPose() bool {
	now := time.Now()
	us := now.UnixMicro()
	if us >= p.r.windowEnd.Load() {
		return false
	}
	p.seq++
	p.body = p.av.appendUpdate(p.body[:0], poseAt(p.idx, now.Sub(p.r.start).Seconds()), p.moving, p.seq, us)
	p.out = append(p.out[:0], `{"naf":`...)
	p.out = appendJSONString(p.out, p.body)
	p.out = append(p.out, '}')
	if err := p.conn.push(p.joinRef, p.room.topic, "nafr", p.out); err != nil {
		return false // the reader sees the connection end and reports it
	}
	p.framesOut.Add(1)
	p.posesSent.Add(1)
	if p.counted.Load() && p.r.inWindow(us) {
		p.sentWindow.Add(1)
	}
	return true
}

func (p *person) heartbeat() {
	if p.conn.push("", "phoenix", "heartbeat", []byte(`{}`)) == nil {
		p.framesOut.Add(1)
	}
}

func (p *person) chat(n int) {
	body := fmt.Appendf(nil, `{"type":"chat","body":"Hello from load test person %d (message %d)"}`, p.idx, n)
	if p.conn.push(p.joinRef, p.room.topic, "message", body) == nil {
		p.framesOut.Add(1)
		p.chatSent.Add(1)
	}
}

// onFrame is the reader's callback for every frame that is not an awaited reply. It must stay cheap: at the
// ceiling it runs hundreds of thousands of times a second.
func (p *person) onFrame(f []byte) {
	now := time.Now().UnixMicro()
	p.framesIn.Add(1)
	p.bytesIn.Add(int64(len(f)))
	switch {
	case bytes.HasPrefix(f, p.room.nafrPrefix):
		p.posesIn.Add(1)
		p.onStamped(f, ltMarkerEscaped, now)
	case bytes.HasPrefix(f, p.room.nafPrefix):
		if bytes.Contains(f, []byte(`"isFirstSync":true`)) {
			p.firstSyncsIn.Add(1)
			p.onStamped(f, ltMarkerRaw, now)
		} else {
			p.otherIn.Add(1) // removals when someone leaves
		}
	case bytes.HasPrefix(f, p.room.messagePrefix):
		p.chatIn.Add(1)
	default:
		p.otherIn.Add(1) // presence, replies to pushes
	}
}

func (p *person) onStamped(f, marker []byte, now int64) {
	from, seq, sent, ok := parseLT(f, marker)
	if !ok {
		p.badIn.Add(1)
		return
	}
	slot := from - p.room.base
	if slot < 0 || slot >= p.room.size || slot == p.slot {
		p.foreign.Add(1) // not from this room: the server leaked across rooms, or echoed our own
		return
	}
	last := p.lastSeq[slot]
	if seq <= last {
		p.dups.Add(1)
		return
	}
	if last != 0 && seq > last+1 {
		p.gaps.Add(int64(seq - last - 1))
	}
	p.lastSeq[slot] = seq
	if !p.counted.Load() || !p.r.inWindow(sent) {
		return
	}
	p.gotWindow.Add(1)
	p.delays.observe(now - sent)
}
