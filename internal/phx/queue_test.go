package phx

import (
	"testing"

	"github.com/gobwas/ws"
)

func TestQueueDropsOldestEphemeral(t *testing.T) {
	q := newOutQueue(3)
	e1, o1, e2 := NewOutbound([]byte("e1"), true), NewOutbound([]byte("o1"), false), NewOutbound([]byte("e2"), true)
	for _, o := range []*Outbound{e1, o1, e2} {
		if r := q.push(o); r != queued {
			t.Fatalf("push %s: %v", o.frame, r)
		}
	}
	e3 := NewOutbound([]byte("e3"), true)
	if r := q.push(e3); r != queuedDroppedOldest {
		t.Fatalf("full push: %v", r)
	}
	got := q.take(nil)
	if len(got) != 3 || got[0] != o1 || got[1] != e2 || got[2] != e3 {
		t.Fatalf("queue after drop: %q %q %q", got[0].frame, got[1].frame, got[2].frame)
	}
	// Full of ordered frames: a new ephemeral frame is the one dropped; an ordered one overflows.
	for i := 0; i < 3; i++ {
		q.push(NewOutbound([]byte("o"), false))
	}
	if r := q.push(NewOutbound([]byte("e"), true)); r != droppedNew {
		t.Fatalf("ephemeral into ordered queue: %v", r)
	}
	if r := q.push(NewOutbound([]byte("o"), false)); r != overflow {
		t.Fatalf("ordered overflow: %v", r)
	}
	q.close()
	if r := q.push(NewOutbound([]byte("o"), false)); r != queueClosed {
		t.Fatalf("push after close: %v", r)
	}
}

func TestSlowConsumerIsClosedAndCounted(t *testing.T) {
	srv := NewServer(Config{QueueLen: 4}, nil, nil, nil)
	s := &Socket{server: srv, queue: newOutQueue(4), closing: make(chan struct{})}
	for i := 0; i < 10; i++ {
		s.send(NewOutbound([]byte("naf"), true))
	}
	if got := srv.Stats().EphemeralDropped.Load(); got != 6 {
		t.Fatalf("dropped %d ephemeral frames, want 6", got)
	}
	select {
	case <-s.closing:
		t.Fatal("closed for ephemeral overflow")
	default:
	}
	// Ordered frames push the queued ephemeral ones out first...
	for i := 0; i < 4; i++ {
		s.send(NewOutbound([]byte("chat"), false))
	}
	select {
	case <-s.closing:
		t.Fatal("closed while ephemeral frames could make room")
	default:
	}
	// ...and overflow once none is left.
	s.send(NewOutbound([]byte("chat"), false))
	select {
	case <-s.closing:
	default:
		t.Fatal("not closed on ordered overflow")
	}
	if s.closeCode != ws.StatusPolicyViolation || s.closeWhy != ReasonSlowConsumer || srv.Stats().SlowConsumerDisconnects.Load() != 1 {
		t.Fatalf("close %d %q, counted %d", s.closeCode, s.closeWhy, srv.Stats().SlowConsumerDisconnects.Load())
	}
}
