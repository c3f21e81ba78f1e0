package phx

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// testHandler is a channel used to exercise the socket: its join payload and events steer what it does.
type testHandler struct {
	terminated chan string
	track      string
}

func (h *testHandler) AfterJoin(c *Channel) {
	if h.track != "" {
		if err := c.Socket().server.Presence().Track(c, h.track, map[string]string{"name": h.track}); err != nil {
			panic(err)
		}
		c.PushRaw("presence_state", c.Socket().server.Presence().State(c.Topic()), false)
	}
}

func (h *testHandler) Join(c *Channel, payload []byte) (any, error) {
	var p struct {
		Refuse, Crash bool
		Track         string
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, &Refusal{Response: map[string]string{"reason": "bad payload"}}
	}
	switch {
	case p.Refuse:
		return nil, &Refusal{Response: map[string]string{"reason": "refused", "message": "go away"}}
	case p.Crash:
		panic("join exploded")
	}
	h.track = p.Track
	return map[string]string{"joined": c.Topic(), "session": c.Socket().ID()}, nil
}

func (h *testHandler) HandleIn(c *Channel, m *Message) {
	switch m.Event {
	case "echo":
		c.Reply(m, true, json.RawMessage(append([]byte(nil), m.Payload...)))
	case "shout":
		c.Socket().server.Broadcast(c.Topic(), EncodeBroadcast(c.Topic(), "shout", m.Payload, false), c)
	case "rename":
		var p struct{ Key, Name string }
		_ = json.Unmarshal(m.Payload, &p)
		if err := c.Socket().server.Presence().Update(c, p.Key, map[string]string{"name": p.Name}); err != nil {
			c.Reply(m, false, map[string]string{"reason": err.Error()})
			return
		}
		c.Reply(m, true, nil)
	case "boom":
		panic("handler exploded")
	default:
		c.Reply(m, false, map[string]string{"reason": "unknown event"})
	}
}

func (h *testHandler) Terminate(c *Channel, reason string) {
	if h.terminated != nil {
		h.terminated <- reason
	}
}

type fixture struct {
	srv  *Server
	http *httptest.Server
	url  string
	term chan string
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{term: make(chan string, 100)}
	router := func(s *Socket, topic string) Handler {
		if strings.HasPrefix(topic, "room:") {
			return &testHandler{terminated: f.term}
		}
		return nil
	}
	f.srv = NewServer(cfg, router, nil, nil)
	f.http = httptest.NewServer(f.srv)
	f.url = "ws" + strings.TrimPrefix(f.http.URL, "http") + "/socket/websocket?vsn=2.0.0"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		f.http.Close()
	})
	return f
}

func (f *fixture) dial(t *testing.T) *Client {
	t.Helper()
	c, err := Dial(ctxT(t), f.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustJoin(t *testing.T, c *Client, topic string, payload any) string {
	t.Helper()
	jr, status, resp, err := c.Join(ctxT(t), topic, payload)
	if err != nil || status != "ok" {
		t.Fatalf("join %s: status %q resp %s err %v", topic, status, resp, err)
	}
	return jr
}

// awaitClose waits for the server to close the connection and returns its close frame.
func awaitClose(t *testing.T, c *Client) (ws.StatusCode, string) {
	t.Helper()
	select {
	case <-c.Done():
		return c.CloseCode, c.CloseReason
	case <-time.After(10 * time.Second):
		t.Fatal("socket was not closed")
		return 0, ""
	}
}

func TestHeartbeat(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	status, resp, err := c.Request(ctxT(t), "", "phoenix", "heartbeat", map[string]any{})
	if err != nil || status != "ok" || string(resp) != "{}" {
		t.Fatalf("heartbeat: %q %s %v", status, resp, err)
	}
}

func TestJoinReplyAndEcho(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	jr, status, resp, err := c.Join(ctxT(t), "room:1", map[string]any{})
	if err != nil || status != "ok" || !strings.Contains(string(resp), `"joined":"room:1"`) {
		t.Fatalf("join: %q %s %v", status, resp, err)
	}
	status, resp, err = c.Request(ctxT(t), jr, "room:1", "echo", map[string]any{"x": 1})
	if err != nil || status != "ok" || string(resp) != `{"x":1}` {
		t.Fatalf("echo: %q %s %v", status, resp, err)
	}
}

func TestJoinRefusedAndCrashed(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	_, status, resp, _ := c.Join(ctxT(t), "room:1", map[string]any{"refuse": true})
	if status != "error" || !strings.Contains(string(resp), `"reason":"refused"`) {
		t.Fatalf("refused join: %q %s", status, resp)
	}
	_, status, resp, _ = c.Join(ctxT(t), "room:1", map[string]any{"crash": true})
	if status != "error" || string(resp) != `{"reason":"join crashed"}` {
		t.Fatalf("crashed join: %q %s", status, resp)
	}
	// The socket survives both, and the topic is still joinable.
	mustJoin(t, c, "room:1", map[string]any{})
}

func TestUnmatchedTopic(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	for _, tc := range []struct{ topic, event string }{{"nowhere:1", "phx_join"}, {"room:9", "echo"}, {"room:9", "phx_leave"}} {
		status, resp, err := c.Request(ctxT(t), "", tc.topic, tc.event, map[string]any{})
		if err != nil || status != "error" || string(resp) != `{"reason":"unmatched topic"}` {
			t.Errorf("%s on %s: %q %s %v", tc.event, tc.topic, status, resp, err)
		}
	}
}

func TestLeaveSendsCloseAndTerminates(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	jr := mustJoin(t, c, "room:1", map[string]any{})
	status, _, err := c.Request(ctxT(t), jr, "room:1", "phx_leave", map[string]any{})
	if err != nil || status != "ok" {
		t.Fatalf("leave: %q %v", status, err)
	}
	m, err := c.Await(ctxT(t), func(m ClientMessage) bool { return m.Event == "phx_close" })
	if err != nil || m.JoinRef == nil || *m.JoinRef != jr || m.Ref == nil || *m.Ref != jr {
		t.Fatalf("phx_close: %+v %v", m, err)
	}
	if reason := <-f.term; reason != "leave" {
		t.Fatalf("terminate reason %q", reason)
	}
	status, _, _ = c.Request(ctxT(t), jr, "room:1", "echo", map[string]any{})
	if status != "error" {
		t.Fatalf("push after leave should be unmatched, got %q", status)
	}
}

func TestDuplicateJoinReplacesChannel(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	mustJoin(t, c, "room:1", map[string]any{})
	jr2 := mustJoin(t, c, "room:1", map[string]any{})
	if reason := <-f.term; reason != "duplicate_join" {
		t.Fatalf("old channel terminated with %q", reason)
	}
	if n := len(f.srv.Subscribers("room:1")); n != 1 {
		t.Fatalf("%d subscribers after duplicate join, want 1", n)
	}
	if status, _, _ := c.Request(ctxT(t), jr2, "room:1", "echo", map[string]any{}); status != "ok" {
		t.Fatalf("new channel does not answer: %q", status)
	}
}

func TestHandlerPanicSendsPhxError(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	jr := mustJoin(t, c, "room:1", map[string]any{})
	if _, err := c.Push(jr, "room:1", "boom", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	m, err := c.Await(ctxT(t), func(m ClientMessage) bool { return m.Event == "phx_error" })
	if err != nil || m.Topic != "room:1" || *m.JoinRef != jr {
		t.Fatalf("phx_error: %+v %v", m, err)
	}
	if reason := <-f.term; reason != "crashed" {
		t.Fatalf("terminate reason %q", reason)
	}
	// Other channels and the socket go on.
	status, _, _ := c.Request(ctxT(t), "", "phoenix", "heartbeat", map[string]any{})
	if status != "ok" {
		t.Fatal("socket died with the channel")
	}
}

func TestUnknownEventGetsErrorReply(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	jr := mustJoin(t, c, "room:1", map[string]any{})
	status, resp, _ := c.Request(ctxT(t), jr, "room:1", "no_such_event", map[string]any{})
	if status != "error" || !strings.Contains(string(resp), "unknown event") {
		t.Fatalf("%q %s", status, resp)
	}
}

func TestBroadcastReachesOthersOnly(t *testing.T) {
	f := newFixture(t, Config{})
	a, b, other := f.dial(t), f.dial(t), f.dial(t)
	ja := mustJoin(t, a, "room:1", map[string]any{})
	mustJoin(t, b, "room:1", map[string]any{})
	mustJoin(t, other, "room:2", map[string]any{})
	if _, err := a.Push(ja, "room:1", "shout", map[string]any{"hi": true}); err != nil {
		t.Fatal(err)
	}
	m, err := b.Await(ctxT(t), func(m ClientMessage) bool { return m.Event == "shout" })
	if err != nil || string(m.Payload) != `{"hi":true}` || m.JoinRef != nil || m.Ref != nil {
		t.Fatalf("b got %+v %v", m, err)
	}
	// a (the sender) and room:2 must not get it: a round trip after the shout proves nothing was queued before.
	for _, c := range []*Client{a, other} {
		topic := "room:1"
		if c == other {
			topic = "room:2"
		}
		_ = topic
		ref, _ := c.Push("", "phoenix", "heartbeat", map[string]any{})
		m, err := c.Await(ctxT(t), func(m ClientMessage) bool { return m.Event == "shout" || (m.Ref != nil && *m.Ref == ref) })
		if err != nil || m.Event == "shout" {
			t.Fatalf("unexpected shout or error: %+v %v", m, err)
		}
	}
}

func TestPresenceStateAndDiffs(t *testing.T) {
	f := newFixture(t, Config{})
	a, b := f.dial(t), f.dial(t)
	mustJoin(t, a, "room:1", map[string]any{"track": "alice"})
	st, err := a.Await(ctxT(t), func(m ClientMessage) bool { return m.Event == "presence_state" })
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]struct {
		Metas []map[string]any `json:"metas"`
	}
	if err := json.Unmarshal(st.Payload, &state); err != nil || len(state["alice"].Metas) != 1 || state["alice"].Metas[0]["phx_ref"] == "" {
		t.Fatalf("state %s %v", st.Payload, err)
	}
	jb := mustJoin(t, b, "room:1", map[string]any{"track": "bob"})
	d, err := a.Await(ctxT(t), func(m ClientMessage) bool {
		return m.Event == "presence_diff" && strings.Contains(string(m.Payload), "bob")
	})
	if err != nil {
		t.Fatal(err)
	}
	var diff struct {
		Joins, Leaves map[string]struct {
			Metas []map[string]any `json:"metas"`
		}
	}
	if err := json.Unmarshal(d.Payload, &diff); err != nil || diff.Joins["bob"].Metas[0]["name"] != "bob" || len(diff.Leaves) != 0 {
		t.Fatalf("join diff %s %v", d.Payload, err)
	}
	bobRef := diff.Joins["bob"].Metas[0]["phx_ref"]
	// An update is a leave of the old meta and a join of the new one with phx_ref_prev.
	if status, resp, _ := b.Request(ctxT(t), jb, "room:1", "rename", map[string]any{"key": "bob", "name": "robert"}); status != "ok" {
		t.Fatalf("rename: %s", resp)
	}
	d, err = a.Await(ctxT(t), func(m ClientMessage) bool {
		return m.Event == "presence_diff" && strings.Contains(string(m.Payload), "robert")
	})
	if err != nil {
		t.Fatal(err)
	}
	diff.Joins, diff.Leaves = nil, nil
	_ = json.Unmarshal(d.Payload, &diff)
	if diff.Leaves["bob"].Metas[0]["phx_ref"] != bobRef || diff.Joins["bob"].Metas[0]["phx_ref_prev"] != bobRef {
		t.Fatalf("update diff %s", d.Payload)
	}
	// Closing b's socket is a leave.
	b.Close()
	d, err = a.Await(ctxT(t), func(m ClientMessage) bool {
		return m.Event == "presence_diff" && strings.Contains(string(m.Payload), `"leaves":{"bob"`)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.srv.Presence().Keys("room:1"); n != 1 {
		t.Fatalf("%d keys left, want 1", n)
	}
}

func TestMalformedFramesCloseTheSocket(t *testing.T) {
	cases := map[string]string{
		"not json":         `hello`,
		"object":           `{"topic":"room:1"}`,
		"four elements":    `[null,"1","phoenix","heartbeat"]`,
		"six elements":     `[null,"1","phoenix","heartbeat",{},1]`,
		"numeric topic":    `[null,"1",5,"heartbeat",{}]`,
		"numeric ref":      `[null,1,"phoenix","heartbeat",{}]`,
		"array payload":    `[null,"1","phoenix","heartbeat",[]]`,
		"truncated":        `[null,"1","phoenix","heartbeat",{"a":`,
		"trailing garbage": `[null,"1","phoenix","heartbeat",{}]]`,
		"bad escape":       `[null,"1","pho\xnix","heartbeat",{}]`,
		"deep nesting":     `[null,"1","phoenix","heartbeat",` + strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100) + `]`,
	}
	f := newFixture(t, Config{})
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			c := f.dial(t)
			if err := c.SendRaw([]byte(frame)); err != nil {
				t.Fatal(err)
			}
			code, reason := awaitClose(t, c)
			if code != ws.StatusUnsupportedData || !strings.HasPrefix(reason, "malformed frame") {
				t.Fatalf("close %d %q", code, reason)
			}
		})
	}
	if f.srv.Stats().MalformedFrames.Load() != int64(len(cases)) {
		t.Fatalf("counted %d malformed frames, want %d", f.srv.Stats().MalformedFrames.Load(), len(cases))
	}
}

func TestOversizedFrameClosesTheSocket(t *testing.T) {
	f := newFixture(t, Config{MaxFrameBytes: 1024})
	c := f.dial(t)
	mustJoin(t, c, "room:1", map[string]any{})
	big := `[null,"1","room:1","echo",{"x":"` + strings.Repeat("a", 2000) + `"}]`
	if err := c.SendRaw([]byte(big)); err != nil {
		t.Fatal(err)
	}
	code, reason := awaitClose(t, c)
	if code != ws.StatusMessageTooBig || !strings.Contains(reason, "frame too large") {
		t.Fatalf("close %d %q", code, reason)
	}
	if reason := <-f.term; reason != "socket closed" {
		t.Fatalf("channel not terminated: %q", reason)
	}
}

func TestIdleTimeoutClosesTheSocket(t *testing.T) {
	f := newFixture(t, Config{IdleTimeout: 200 * time.Millisecond})
	c := f.dial(t)
	code, reason := awaitClose(t, c)
	if code != ws.StatusNormalClosure || reason != ReasonIdle {
		t.Fatalf("close %d %q", code, reason)
	}
}

func TestHeartbeatsKeepTheSocketOpen(t *testing.T) {
	f := newFixture(t, Config{IdleTimeout: 300 * time.Millisecond})
	c := f.dial(t)
	for i := 0; i < 6; i++ {
		time.Sleep(100 * time.Millisecond)
		if status, _, err := c.Request(ctxT(t), "", "phoenix", "heartbeat", map[string]any{}); err != nil || status != "ok" {
			t.Fatalf("heartbeat %d: %q %v", i, status, err)
		}
	}
}

func TestVersionAndConnectRefusal(t *testing.T) {
	f := newFixture(t, Config{})
	if _, err := Dial(ctxT(t), strings.Replace(f.url, "vsn=2.0.0", "vsn=1.0.0", 1), nil); err == nil {
		t.Fatal("vsn 1 accepted")
	}
}

func TestShutdownSendsCloseFrames(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t)
	mustJoin(t, c, "room:1", map[string]any{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	code, reason := awaitClose(t, c)
	if code != ws.StatusGoingAway || reason != ReasonShutdown {
		t.Fatalf("close %d %q", code, reason)
	}
	if reason := <-f.term; reason != "socket closed" {
		t.Fatalf("terminate %q", reason)
	}
}

func TestCloseSession(t *testing.T) {
	f := newFixture(t, Config{})
	a, b := f.dial(t), f.dial(t)
	mustJoin(t, a, "room:1", map[string]any{})
	_, _, resp, _ := b.Join(ctxT(t), "room:1", map[string]any{})
	var r struct{ Session string }
	_ = json.Unmarshal(resp, &r)
	if n := f.srv.CloseSession(r.Session, ws.StatusPolicyViolation, "kicked"); n != 1 {
		t.Fatalf("closed %d sockets", n)
	}
	if code, reason := awaitClose(t, b); reason != "kicked" {
		t.Fatalf("close %d %q", code, reason)
	}
	if status, _, _ := a.Request(ctxT(t), "", "phoenix", "heartbeat", map[string]any{}); status != "ok" {
		t.Fatal("the other socket was closed too")
	}
}
