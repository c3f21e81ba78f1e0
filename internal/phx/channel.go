package phx

import (
	"encoding/json"
	"fmt"
)

// Handler serves one joined channel. A socket calls its methods from its reader goroutine, one at a time, so a
// handler needs no lock for state that only it touches.
type Handler interface {
	// Join decides whether the client may join. A *Refusal is sent as an error reply carrying its Response;
	// any other error is reported as {"reason":"join crashed"}. The reply is sent as the ok response.
	Join(c *Channel, payload []byte) (reply any, err error)
	// HandleIn handles one event the client pushed on the joined topic. It may reply with c.Reply.
	HandleIn(c *Channel, m *Message)
	// Terminate is called exactly once when a joined channel ends (leave, duplicate join, socket closed).
	// Presence tracked by the channel is removed after it returns.
	Terminate(c *Channel, reason string)
}

// AfterJoiner is implemented by handlers that act once the join reply has been queued, as Phoenix channels do
// with a message to themselves: pushes made here (presence_state, say) reach the client after the reply.
type AfterJoiner interface {
	AfterJoin(c *Channel)
}

// Router returns the handler for a topic the socket wants to join, or nil when no channel serves it.
type Router func(s *Socket, topic string) Handler

// Refusal is the error a Join returns to refuse the client with a reason it can show.
type Refusal struct{ Response any }

func (r *Refusal) Error() string { return fmt.Sprintf("join refused: %v", r.Response) }

// Channel is one joined topic on one socket.
type Channel struct {
	topic   string
	joinRef []byte // copied from the join frame: the frame buffer is reused
	socket  *Socket
	handler Handler
}

// Topic is the channel's topic, e.g. "hub:abc1234".
func (c *Channel) Topic() string { return c.topic }

// Socket is the connection the channel lives on.
func (c *Channel) Socket() *Socket { return c.socket }

// Handler is the channel's handler, for callers that need its state (broadcast filters).
func (c *Channel) Handler() Handler { return c.handler }

// Push sends an event to this client only, with the channel's join_ref as Phoenix does for pushes.
func (c *Channel) Push(event string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("push %s on %s: %w", event, c.topic, err)
	}
	c.PushRaw(event, b, false)
	return nil
}

// PushRaw sends an already encoded JSON payload to this client only.
func (c *Channel) PushRaw(event string, payload []byte, ephemeral bool) {
	frame := AppendFrame(make([]byte, 0, len(payload)+len(c.topic)+len(event)+32), c.joinRef, nil, c.topic, event, payload)
	c.socket.send(NewOutbound(frame, ephemeral))
}

// Send queues a frame made with EncodeBroadcast or NewOutbound to this client.
func (c *Channel) Send(o *Outbound) { c.socket.send(o) }

// Reply answers the push m with status ok or error and a response (nil means {}).
func (c *Channel) Reply(m *Message, ok bool, response any) {
	c.socket.reply(m.JoinRef, m.Ref, c.topic, ok, response)
}

// Server is the server the channel's socket belongs to, for broadcasts and presence.
func (c *Channel) Server() *Server { return c.socket.server }
