package hub

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"toncon/internal/auth"
	"toncon/internal/phx"
	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

var (
	keysOnce sync.Once
	keys     *auth.Keys
	keysErr  error
	keysDir  string
)

// testKeys generates one RSA key pair for the whole test binary: generating one per test would be slow.
func testKeys(t testing.TB) *auth.Keys {
	keysOnce.Do(func() {
		dir, err := tempDir()
		if err != nil {
			keysErr = err
			return
		}
		keysDir = dir
		keys, _, keysErr = auth.LoadOrCreateKeys(dir)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return keys
}

// env is a hub service on a phx server, driven through local sockets (no network).
type env struct {
	t     testing.TB
	svc   *Service
	srv   *phx.Server
	store store.Store
	now   time.Time
	mu    sync.Mutex // guards now
}

func newEnv(t testing.TB, tweak func(*Config)) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/toncon.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, store: db, now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	cfg := Config{Store: db, Keys: testKeys(t), PublicURL: &url.URL{Scheme: "https", Host: "localhost:4000"}, Now: e.clock}
	if tweak != nil {
		tweak(&cfg)
	}
	if e.svc, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	e.srv = phx.NewServer(phx.Config{}, e.svc.Route, e.svc.Connect, nil)
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *env) createHub(tweak func(*store.Hub)) store.Hub {
	e.t.Helper()
	h := store.Hub{SID: store.NewSID(), Name: "Test room", EntryMode: store.EntryAllow, RoomSize: 24,
		MemberPermissions: store.PermRestrictiveDefault, CreatorAssignmentToken: "tok"}
	if tweak != nil {
		tweak(&h)
	}
	h, err := e.store.CreateHub(context.Background(), h)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// peer is one client session on a local socket.
type peer struct {
	e       *env
	sock    *phx.Socket
	topic   string
	joinRef string
	ref     int
	inbox   []phx.ClientMessage
}

var sessionSeq int

func (e *env) peer(id string) *peer {
	if id == "" {
		sessionSeq++
		id = "session-" + strconv.Itoa(sessionSeq)
	}
	return &peer{e: e, sock: e.srv.NewLocalSocket(id, nil)}
}

func profile(name string) map[string]any {
	return map[string]any{
		"profile": map[string]any{"displayName": name, "avatarId": "basic"},
		"context": map[string]any{"mobile": false, "hmd": false, "embed": false},
	}
}

func (p *peer) send(joinRef, topic, event string, payload any) string {
	p.e.t.Helper()
	p.ref++
	ref := strconv.Itoa(p.ref)
	b, err := json.Marshal(payload)
	if err != nil {
		p.e.t.Fatal(err)
	}
	var jr []byte
	if joinRef != "" {
		jr = strconv.AppendQuote(nil, joinRef)
	}
	p.sock.Deliver(phx.AppendFrame(nil, jr, strconv.AppendQuote(nil, ref), topic, event, b))
	return ref
}

// join joins the hub and returns the reply status and response.
func (p *peer) join(sid store.HubSID, payload any) (string, map[string]any) {
	p.e.t.Helper()
	p.topic = "hub:" + string(sid)
	p.ref++
	p.joinRef = strconv.Itoa(p.ref)
	b, _ := json.Marshal(payload)
	q := strconv.AppendQuote(nil, p.joinRef)
	p.sock.Deliver(phx.AppendFrame(nil, q, q, p.topic, "phx_join", b))
	return p.replyTo(p.joinRef)
}

func (p *peer) mustJoin(sid store.HubSID, name string) map[string]any {
	p.e.t.Helper()
	status, resp := p.join(sid, profile(name))
	if status != "ok" {
		p.e.t.Fatalf("join %s as %s: %s %v", sid, name, status, resp)
	}
	return resp
}

// push sends an event on the joined hub and returns its ref.
func (p *peer) push(event string, payload any) string {
	return p.send(p.joinRef, p.topic, event, payload)
}

// request pushes and returns the reply.
func (p *peer) request(event string, payload any) (string, map[string]any) {
	p.e.t.Helper()
	return p.replyTo(p.push(event, payload))
}

// receive moves what the server queued into the inbox.
func (p *peer) receive() {
	p.e.t.Helper()
	for _, o := range p.sock.TakeQueued() {
		m, err := phx.DecodeClientMessage(o.Bytes())
		if err != nil {
			p.e.t.Fatal(err)
		}
		p.inbox = append(p.inbox, m)
	}
}

// take removes and returns the inbox messages of an event.
func (p *peer) take(event string) []phx.ClientMessage {
	p.receive()
	var got, rest []phx.ClientMessage
	for _, m := range p.inbox {
		if m.Event == event {
			got = append(got, m)
		} else {
			rest = append(rest, m)
		}
	}
	p.inbox = rest
	return got
}

func (p *peer) replyTo(ref string) (string, map[string]any) {
	p.e.t.Helper()
	for _, m := range p.take("phx_reply") {
		if m.Ref != nil && *m.Ref == ref {
			status, resp := m.Status()
			var r map[string]any
			_ = json.Unmarshal(resp, &r)
			return status, r
		}
	}
	p.e.t.Fatalf("no reply to ref %s", ref)
	return "", nil
}

func decode(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m
}
