package hub

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"toncon/internal/phx"
	"toncon/internal/store"
)

// benchmarkRelay measures the server's work to relay one avatar update (nafr, as Hubs sends them) to everyone
// else in a room: decode, checks, one encode, and a queue push per recipient, plus each recipient's writer
// taking its queue (without the socket write, which the kernel does).
//
// With interest set, everyone has entered and stands on a 30 m × 30 m floor with their avatar's place known, and
// interest management is on: the sender's updates reach those more than 8 m away at most every 300 ms.
func benchmarkRelay(b *testing.B, members int, interest bool) {
	e := newEnv(b, func(c *Config) {
		c.NAFRate = -1
		if interest {
			c.InterestMinRoom = 30
		}
	})
	e.svc.flushEvery = time.Hour // the loop flushes, so its cost is counted here
	h := e.createHub(func(h *store.Hub) { h.RoomSize = 1000 })
	peers := make([]*peer, members)
	for i := range peers {
		peers[i] = e.peer("session-" + strconv.Itoa(i))
		peers[i].mustJoin(h.SID, "Member "+strconv.Itoa(i))
		if interest {
			peers[i].push("events:entered", map[string]any{})
			id := "av-" + strconv.Itoa(i)
			peers[i].push("naf", avatarFirstSync(id, "#remote-avatar"))
			peers[i].push("naf", poseUpdate(id, "session-"+strconv.Itoa(i), float64(i*7%31), float64(i*13%31)))
		}
	}
	for _, p := range peers {
		p.sock.TakeQueued()
	}
	sender := peers[0]
	sender.push("naf", avatarFirstSync("naf-3kd9a", "#remote-avatar"))
	inner, _ := json.Marshal(map[string]any{"dataType": "um", "data": map[string]any{"d": []any{map[string]any{
		"networkId": "naf-3kd9a", "owner": "session-0", "creator": "session-0", "lastOwnerTime": 1732780000123,
		"template": "#remote-avatar", "persistent": false, "parent": nil, "components": map[string]any{
			"0": map[string]float64{"x": 1.234, "y": 0, "z": -3.21}, "1": map[string]float64{"x": 0, "y": 1.57, "z": 0},
			"5": map[string]float64{"x": 0.1, "y": 1.6, "z": 0}, "7": map[string]float64{"x": -0.2, "y": 1.1, "z": 0.3},
			"10": map[string]float64{"x": 0.2, "y": 1.1, "z": 0.3}}}}}})
	payload, _ := json.Marshal(map[string]string{"naf": string(inner)})
	jr := strconv.AppendQuote(nil, sender.joinRef)
	frame := phx.AppendFrame(nil, jr, []byte(`"99"`), sender.topic, "nafr", payload)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	e.svc.mu.Lock()
	r := e.svc.rooms[h.SID]
	e.svc.mu.Unlock()
	var scratch []*channel
	b.ResetTimer()
	delivered := 0
	for b.Loop() {
		e.advance(100 * time.Millisecond) // the sender's 10 updates a second
		sender.sock.Deliver(frame)
		if interest {
			scratch = r.flushDue(e.clock(), scratch[:0])
		}
		for _, p := range peers[1:] {
			delivered += len(p.sock.TakeQueued())
		}
	}
	b.StopTimer()
	if e.svc.Stats().NAFRelayed.Load() < int64(b.N) {
		b.Fatalf("relayed %d of %d", e.svc.Stats().NAFRelayed.Load(), b.N)
	}
	b.ReportMetric(float64(members-1), "recipients/op")
	b.ReportMetric(float64(delivered)/float64(b.N), "delivered/op")
}

func BenchmarkRelayNAFRoom24(b *testing.B)          { benchmarkRelay(b, 24, false) }
func BenchmarkRelayNAFRoom200(b *testing.B)         { benchmarkRelay(b, 200, false) }
func BenchmarkRelayNAFRoom200Interest(b *testing.B) { benchmarkRelay(b, 200, true) }
