package hub

import (
	"encoding/json"
	"testing"
	"time"

	"toncon/internal/store"
)

// interestRoom is a room of four entered people with avatars: the sender s at the origin, near at 2 m, far at
// 20 m and one more at 30 m. The flusher is stretched so the tests flush by hand.
type interestRoom struct {
	e                 *env
	h                 store.Hub
	s, near, far, oth *peer
}

func newInterestRoom(t *testing.T, minRoom int) *interestRoom {
	e := newEnv(t, func(c *Config) {
		c.NAFRate = -1
		c.InterestMinRoom, c.InterestRadius, c.InterestInterval = minRoom, 8, 300*time.Millisecond
	})
	e.svc.flushEvery = time.Hour
	h := e.createHub(func(h *store.Hub) { h.MemberPermissions = store.PermAll })
	ir := &interestRoom{e: e, h: h, s: e.peer("s"), near: e.peer("near"), far: e.peer("far"), oth: e.peer("oth")}
	for i, p := range []*peer{ir.s, ir.near, ir.far, ir.oth} {
		p.mustJoin(h.SID, "P")
		if status, _ := p.request("events:entered", map[string]any{}); status != "ok" {
			t.Fatalf("enter: %s", status)
		}
		id := "av-" + []string{"s", "near", "far", "oth"}[i]
		p.push("naf", avatarFirstSync(id, "#toncon-avatar"))
		p.push("naf", poseUpdate(id, string(p.sock.ID()), []float64{0, 2, 20, 30}[i], 0))
	}
	for _, p := range []*peer{ir.s, ir.near, ir.far, ir.oth} {
		p.take("naf")
		p.inbox = nil
	}
	return ir
}

func poseUpdate(id, owner string, x, z float64) map[string]any {
	return map[string]any{"dataType": "um", "data": map[string]any{"d": []any{map[string]any{
		"networkId": id, "owner": owner, "creator": owner, "lastOwnerTime": 1, "template": "#toncon-avatar",
		"persistent": false, "parent": nil, "components": map[string]any{
			"0": map[string]float64{"x": x, "y": 0, "z": z}, "1": map[string]float64{"x": 0, "y": 1, "z": 0}}}}}}
}

// positions returns the x of component "0" of each av-s update a peer received, in order; -1 for an update
// without a position, and -100 for a first sync.
func positions(t *testing.T, p *peer) []float64 {
	t.Helper()
	var xs []float64
	for _, m := range p.take("naf") {
		var msg struct {
			Data struct {
				D           []json.RawMessage `json:"d"`
				NetworkID   string            `json:"networkId"`
				IsFirstSync bool              `json:"isFirstSync"`
			} `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Data.IsFirstSync {
			if msg.Data.NetworkID == "av-s" {
				xs = append(xs, -100)
			}
			continue
		}
		for _, raw := range msg.Data.D {
			var d struct {
				NetworkID  string `json:"networkId"`
				Components map[string]struct {
					X float64 `json:"x"`
				} `json:"components"`
			}
			_ = json.Unmarshal(raw, &d)
			if d.NetworkID != "av-s" {
				continue
			}
			if pos, ok := d.Components["0"]; ok {
				xs = append(xs, pos.X)
			} else {
				xs = append(xs, -1)
			}
		}
	}
	return xs
}

// walk sends ten pose updates from s, 50 ms apart, at x = 0.1 … 1.0.
func (ir *interestRoom) walk() {
	for i := 1; i <= 10; i++ {
		ir.s.push("naf", poseUpdate("av-s", "s", float64(i)/10, 0))
		ir.e.advance(50 * time.Millisecond)
	}
}

func (ir *interestRoom) flush() {
	ir.e.svc.mu.Lock()
	r := ir.e.svc.rooms[ir.h.SID]
	ir.e.svc.mu.Unlock()
	r.flushDue(ir.e.clock(), nil)
}

func TestInterestThinsFarAvatarsAndKeepsTheLast(t *testing.T) {
	ir := newInterestRoom(t, 4)
	ir.walk()
	if got := positions(t, ir.near); len(got) != 10 || got[9] != 1 {
		t.Fatalf("the near person got %v, want all ten updates", got)
	}
	got := positions(t, ir.far)
	// at 0 ms (nothing sent yet) and at 300 ms; the rest are held, the newest pending
	if len(got) != 2 || got[0] != 0.1 || got[1] != 0.7 {
		t.Fatalf("the far person got %v before the flush, want [0.1 0.7]", got)
	}
	ir.flush() // 500 ms: the interval since 300 ms has not passed
	if got := positions(t, ir.far); len(got) != 0 {
		t.Fatalf("flushed early: %v", got)
	}
	ir.e.advance(150 * time.Millisecond)
	ir.flush()
	if got := positions(t, ir.far); len(got) != 1 || got[0] != 1 {
		t.Fatalf("after the sender stopped the far person got %v, want its last place [1]", got)
	}
	ir.e.advance(time.Second)
	ir.flush()
	if got := positions(t, ir.far); len(got) != 0 {
		t.Fatalf("a pending update went out twice: %v", got)
	}
	st := ir.e.svc.Stats()
	if st.InterestHeld.Load() != 8*2 || st.InterestFlushed.Load() != 2 || st.InterestSuperseded.Load() != 7*2 {
		t.Fatalf("held %d, flushed %d, superseded %d", st.InterestHeld.Load(), st.InterestFlushed.Load(), st.InterestSuperseded.Load())
	}
}

func TestInterestNeverThinsFirstSyncsOtherComponentsOrEntities(t *testing.T) {
	ir := newInterestRoom(t, 4)
	ir.walk() // the far person has 1.0 pending
	positions(t, ir.far)
	// A first sync goes out at once, after the pending pose, which it must not overtake.
	ir.s.push("naf", avatarFirstSync("av-s", "#toncon-avatar"))
	if got := positions(t, ir.far); len(got) != 2 || got[0] != 1 || got[1] != -100 {
		t.Fatalf("the far person got %v, want the pending pose then the first sync", got)
	}
	// An update with a component other than a pose one goes out at once.
	ir.s.push("naf", map[string]any{"dataType": "u", "data": map[string]any{"networkId": "av-s", "owner": "s",
		"lastOwnerTime": 1, "template": "#toncon-avatar", "components": map[string]any{"3": map[string]any{"muted": true}}}})
	if got := ir.far.take("naf"); len(got) != 1 {
		t.Fatalf("the far person got %d player-info updates, want 1", len(got))
	}
	// Another entity's updates are never thinned, however far.
	ir.s.push("naf", avatarFirstSync("obj", "#interactable-media"))
	for i := range 5 {
		ir.s.push("naf", map[string]any{"dataType": "u", "data": map[string]any{"networkId": "obj", "owner": "s",
			"lastOwnerTime": 1, "template": "#interactable-media", "components": map[string]any{"0": map[string]float64{"x": float64(i)}}}})
	}
	if got := ir.far.take("naf"); len(got) != 6 {
		t.Fatalf("the far person got %d of the media object's 6 messages", len(got))
	}
}

func TestInterestSendsAnOlderPendingWhenTheNewerLacksItsComponents(t *testing.T) {
	ir := newInterestRoom(t, 4)
	ir.s.push("naf", poseUpdate("av-s", "s", 0.5, 0)) // goes out: nothing sent to far yet
	ir.e.advance(50 * time.Millisecond)
	ir.s.push("naf", poseUpdate("av-s", "s", 0.6, 0)) // held
	ir.e.advance(50 * time.Millisecond)
	// Head only: it does not carry the position, so the held one must go out rather than be replaced.
	ir.s.push("nafr", map[string]any{"naf": `{"dataType":"um","data":{"d":[{"networkId":"av-s","owner":"s","lastOwnerTime":1,"template":"#toncon-avatar","components":{"2":{"x":0.3,"y":0,"z":0}}}]}}`})
	if got := positions(t, ir.far); len(got) != 2 || got[0] != 0.5 || got[1] != 0.6 {
		t.Fatalf("the far person got %v, want [0.5 0.6] with the head update held", got)
	}
	ir.e.advance(300 * time.Millisecond)
	ir.flush()
	got := ir.far.take("nafr")
	if len(got) != 1 {
		t.Fatalf("the held head update did not come: %d nafr", len(got))
	}
}

func TestInterestOffBelowTheThreshold(t *testing.T) {
	for _, minRoom := range []int{5, 0} {
		ir := newInterestRoom(t, minRoom)
		ir.walk()
		if got := positions(t, ir.far); len(got) != 10 {
			t.Fatalf("min room %d: the far person got %d of 10 updates in a room of 4", minRoom, len(got))
		}
		if n := ir.e.svc.Stats().InterestHeld.Load(); n != 0 {
			t.Fatalf("min room %d: %d held", minRoom, n)
		}
	}
}

func TestInterestFlusherRunsOnItsOwn(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.NAFRate = -1; c.InterestMinRoom = 2 })
	e.svc.flushEvery = 5 * time.Millisecond
	h := e.createHub(nil)
	a, b := e.peer("a"), e.peer("b")
	for i, p := range []*peer{a, b} {
		p.mustJoin(h.SID, "P")
		p.request("events:entered", map[string]any{})
		id := []string{"av-s", "av-b"}[i]
		p.push("naf", avatarFirstSync(id, "#toncon-avatar"))
		p.push("naf", poseUpdate(id, string(p.sock.ID()), float64(i)*50, 0))
	}
	b.take("naf")
	a.push("naf", poseUpdate("av-s", "a", 0.1, 0))
	a.push("naf", poseUpdate("av-s", "a", 0.2, 0)) // held: the same instant
	e.advance(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	var got []float64
	for time.Now().Before(deadline) && len(got) < 2 {
		got = append(got, positions(t, b)...)
		time.Sleep(5 * time.Millisecond)
	}
	if len(got) != 2 || got[1] != 0.2 {
		t.Fatalf("b got %v, want the flusher to deliver the held 0.2", got)
	}
}

func TestInterestForgetsRecipientsWhoLeft(t *testing.T) {
	ir := newInterestRoom(t, 4)
	ir.walk() // far and oth each have an update of s pending
	ir.far.push("phx_leave", map[string]any{})
	ir.far.take("phx_reply")
	ir.e.advance(time.Second)
	ir.flush()
	st := &ir.s.sockChannel(t).interest
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := st.npending.Load(); n != 0 {
		t.Fatalf("%d still pending", n)
	}
	for other := range st.pairs {
		if other.sessionID == "far" {
			t.Fatal("the sender still keeps a pair for someone who left")
		}
	}
	if got := positions(t, ir.oth); len(got) != 3 || got[2] != 1 {
		t.Fatalf("the one who stayed got %v", got)
	}
}

// sockChannel finds the hub channel of a peer.
func (p *peer) sockChannel(t *testing.T) *channel {
	t.Helper()
	p.e.svc.mu.Lock()
	defer p.e.svc.mu.Unlock()
	for _, r := range p.e.svc.rooms {
		r.mu.Lock()
		for m := range r.members {
			if m.sessionID == string(p.sock.ID()) {
				r.mu.Unlock()
				return m
			}
		}
		r.mu.Unlock()
	}
	t.Fatal("no channel")
	return nil
}

// Until the sender's own updates say where its avatar is, it is near everyone.
func TestInterestDoesNotThinAnUnplacedSender(t *testing.T) {
	ir := newInterestRoom(t, 4)
	u := ir.e.peer("u")
	u.mustJoin(ir.h.SID, "U")
	u.request("events:entered", map[string]any{})
	u.push("naf", avatarFirstSync("av-u", "#toncon-avatar"))
	ir.far.take("naf")
	for i := range 5 {
		u.push("naf", map[string]any{"dataType": "u", "data": map[string]any{"networkId": "av-u", "owner": "u",
			"lastOwnerTime": 1, "template": "#toncon-avatar", "components": map[string]any{"2": map[string]float64{"x": float64(i)}}}})
		ir.e.advance(10 * time.Millisecond)
	}
	if got := ir.far.take("naf"); len(got) != 5 {
		t.Fatalf("the far person got %d of an unplaced avatar's 5 head updates", len(got))
	}
	if n := ir.e.svc.Stats().InterestHeld.Load(); n != 0 {
		t.Fatalf("%d held", n)
	}
}
