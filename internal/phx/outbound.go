package phx

import (
	"sync"

	"github.com/gobwas/ws"
)

// Outbound is an encoded frame ready to write. It is immutable once made, so one broadcast frame is shared by
// every recipient's queue.
type Outbound struct {
	frame []byte
	op    ws.OpCode
	// ephemeral frames (position updates) may be dropped when a recipient falls behind; the next update
	// supersedes them. Everything else is ordered: losing it would leave the client wrong.
	ephemeral bool
}

// NewOutbound wraps an encoded text frame.
func NewOutbound(frame []byte, ephemeral bool) *Outbound {
	return &Outbound{frame: frame, op: ws.OpText, ephemeral: ephemeral}
}

// Bytes returns the encoded frame (read only).
func (o *Outbound) Bytes() []byte { return o.frame }

// queueResult says what enqueue did, so the caller can count it.
type queueResult int

const (
	queued queueResult = iota
	queuedDroppedOldest
	droppedNew
	overflow
	queueClosed
)

// outQueue is a socket's bounded outbound queue between the goroutines that produce frames and its writer.
type outQueue struct {
	mu     sync.Mutex // guards items and closed
	items  []*Outbound
	closed bool
	limit  int
	notify chan struct{} // capacity 1: "there is something to write"
}

func newOutQueue(limit int) *outQueue {
	return &outQueue{limit: limit, notify: make(chan struct{}, 1), items: make([]*Outbound, 0, 16)}
}

// push adds o without blocking. When the queue is full the oldest queued ephemeral frame makes room. When
// none is queued, a new ephemeral frame is itself dropped, and an ordered one reports overflow, and the
// socket closes: a client that cannot keep up with ordered traffic would show a wrong room.
func (q *outQueue) push(o *Outbound) queueResult {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return queueClosed
	}
	res := queued
	if len(q.items) >= q.limit {
		idx := -1
		for i, it := range q.items {
			if it.ephemeral {
				idx = i
				break
			}
		}
		if idx < 0 {
			q.mu.Unlock()
			if o.ephemeral {
				return droppedNew
			}
			return overflow
		}
		copy(q.items[idx:], q.items[idx+1:])
		q.items = q.items[:len(q.items)-1]
		res = queuedDroppedOldest
	}
	q.items = append(q.items, o)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return res
}

// take swaps the queued frames for spare (an empty slice the writer is done with) and returns them.
func (q *outQueue) take(spare []*Outbound) []*Outbound {
	q.mu.Lock()
	items := q.items
	q.items = spare[:0]
	q.mu.Unlock()
	return items
}

// close stops further pushes.
func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
