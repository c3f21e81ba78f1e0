package phx

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// Close reasons a client may see in the close frame, and that stats count.
const (
	ReasonSlowConsumer  = "slow consumer: could not keep up with ordered messages"
	ReasonIdle          = "idle timeout: no frame received"
	ReasonShutdown      = "server shutting down"
	ReasonFrameTooLarge = "frame too large"
)

// Socket is one WebSocket connection speaking Phoenix Channels v2.
type Socket struct {
	id         string
	assigns    any
	remoteAddr string // the HTTP request's RemoteAddr ("host:port"); "" for local sockets
	server     *Server
	conn       net.Conn
	br         *bufio.Reader
	queue      *outQueue

	// channels is touched only by the reader goroutine.
	channels map[string]*Channel

	closeOnce  sync.Once
	closing    chan struct{} // closed when the socket starts closing
	closeCode  ws.StatusCode // set once, before closing is closed
	closeWhy   string
	readerDone chan struct{}
	writerDone chan struct{}

	msg       Message     // the message being handled, reused so the hot path does not allocate one
	localPrev []*Outbound // local sockets only: what TakeQueued returned last, reused as the next buffer
}

// ID is the session id the Connector gave the socket.
func (s *Socket) ID() string { return s.id }

// Assigns is what the Connector returned for this socket.
func (s *Socket) Assigns() any { return s.assigns }

// RemoteAddr is the address the socket's HTTP request came from ("host:port", as http.Request.RemoteAddr), for
// per-address rate limits; "" for local sockets.
func (s *Socket) RemoteAddr() string { return s.remoteAddr }

// Close starts closing the socket with a close frame carrying code and reason. Safe from any goroutine.
func (s *Socket) Close(code ws.StatusCode, reason string) {
	s.closeOnce.Do(func() {
		s.closeCode, s.closeWhy = code, reason
		s.queue.close()
		close(s.closing)
	})
}

// Closing is closed when the socket starts closing.
func (s *Socket) Closing() <-chan struct{} { return s.closing }

func (s *Socket) send(o *Outbound) {
	st := &s.server.stats
	switch s.queue.push(o) {
	case queuedDroppedOldest, droppedNew:
		st.EphemeralDropped.Add(1)
	case overflow:
		st.SlowConsumerDisconnects.Add(1)
		s.Close(ws.StatusPolicyViolation, ReasonSlowConsumer)
	}
}

func (s *Socket) reply(joinRef, ref []byte, topic string, ok bool, response any) {
	status := "error"
	if ok {
		status = "ok"
	}
	if response == nil {
		response = struct{}{}
	}
	payload, err := json.Marshal(struct {
		Status   string `json:"status"`
		Response any    `json:"response"`
	}{status, response})
	if err != nil {
		s.server.log.Error("encode reply", "topic", topic, "err", err)
		payload = []byte(`{"status":"error","response":{"reason":"internal error"}}`)
	}
	s.send(NewOutbound(AppendFrame(nil, joinRef, ref, topic, "phx_reply", payload), false))
}

func (s *Socket) replyReason(joinRef, ref []byte, topic, reason string) {
	s.reply(joinRef, ref, topic, false, map[string]string{"reason": reason})
}

// serve runs the socket until it closes: the calling goroutine reads, a second one writes.
func (s *Socket) serve() {
	go s.writeLoop()
	err := s.readLoop()
	close(s.readerDone)
	switch {
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
		s.Close(ws.StatusNormalClosure, "")
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.Close(ws.StatusNormalClosure, ReasonIdle)
	default:
		s.Close(ws.StatusProtocolError, err.Error())
	}
	for topic, c := range s.channels {
		s.terminate(c, "socket closed")
		delete(s.channels, topic)
	}
	<-s.writerDone
	s.conn.Close()
}

// readLoop reads frames until the peer closes, a limit is broken, or the socket is closed.
// It returns nil when the close was deliberate.
func (s *Socket) readLoop() error {
	cfg := &s.server.cfg
	var msg []byte // the current message, reused between messages
	for {
		select {
		case <-s.closing:
			return nil
		default:
		}
		if err := s.conn.SetReadDeadline(time.Now().Add(cfg.IdleTimeout)); err != nil {
			return err
		}
		h, err := ws.ReadHeader(s.br)
		if err != nil {
			return err
		}
		if !h.Masked {
			s.Close(ws.StatusProtocolError, "client frames must be masked")
			return nil
		}
		if h.OpCode.IsControl() {
			if done, err := s.control(h); done || err != nil {
				return err
			}
			continue
		}
		if h.OpCode == ws.OpBinary || (h.OpCode == ws.OpContinuation && len(msg) == 0) {
			s.Close(ws.StatusUnsupportedData, "only text frames are supported")
			return nil
		}
		if h.OpCode == ws.OpText {
			msg = msg[:0]
		}
		if int64(len(msg))+h.Length > cfg.MaxFrameBytes {
			s.server.stats.MalformedFrames.Add(1)
			s.Close(ws.StatusMessageTooBig, fmt.Sprintf("%s (limit %d bytes)", ReasonFrameTooLarge, cfg.MaxFrameBytes))
			return nil
		}
		start := len(msg)
		msg = append(msg, make([]byte, h.Length)...)
		if _, err := io.ReadFull(s.br, msg[start:]); err != nil {
			return err
		}
		ws.Cipher(msg[start:], h.Mask, 0)
		if !h.Fin {
			continue
		}
		s.server.stats.FramesIn.Add(1)
		s.server.stats.BytesIn.Add(int64(len(msg)))
		if !s.handleFrame(msg) {
			return nil
		}
		msg = msg[:0]
	}
}

// control handles a ping, pong or close frame. done means the peer closed.
func (s *Socket) control(h ws.Header) (done bool, err error) {
	if h.Length > 125 {
		s.Close(ws.StatusProtocolError, "control frame too long")
		return true, nil
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(s.br, p); err != nil {
		return true, err
	}
	ws.Cipher(p, h.Mask, 0)
	switch h.OpCode {
	case ws.OpPing:
		s.queue.push(&Outbound{frame: p, op: ws.OpPong})
	case ws.OpClose:
		code, _ := ws.ParseCloseFrameData(p)
		if code.Empty() {
			code = ws.StatusNormalClosure
		}
		s.Close(code, "")
		return true, nil
	}
	return false, nil
}

// handleFrame dispatches one message. It returns false when the socket must stop reading.
func (s *Socket) handleFrame(b []byte) bool {
	f, err := decodeFrame(b)
	if err != nil {
		s.server.stats.MalformedFrames.Add(1)
		s.Close(ws.StatusUnsupportedData, err.Error())
		return false
	}
	c := s.channels[string(f.topic)]
	event := internEvent(f.event)
	if c == nil {
		topic := string(f.topic)
		switch {
		case event == "heartbeat" && topic == "phoenix":
			s.reply(f.joinRef, f.ref, topic, true, nil)
		case event == "phx_join":
			s.join(f.joinRef, f.ref, topic, f.payload)
		default:
			s.replyReason(f.joinRef, f.ref, topic, "unmatched topic")
		}
		return true
	}
	switch event {
	case "phx_join":
		// Phoenix replaces a channel joined twice on one socket.
		s.terminate(c, "duplicate_join")
		delete(s.channels, c.topic)
		s.join(f.joinRef, f.ref, c.topic, f.payload)
	case "phx_leave":
		s.reply(f.joinRef, f.ref, c.topic, true, nil)
		s.terminate(c, "leave")
		delete(s.channels, c.topic)
		s.send(NewOutbound(AppendFrame(nil, c.joinRef, c.joinRef, c.topic, "phx_close", []byte("{}")), false))
	default:
		// The message lives in the socket and is reused: handlers must not keep it (see Message).
		s.msg = Message{JoinRef: f.joinRef, Ref: f.ref, Topic: c.topic, Event: event, Payload: f.payload}
		s.handleIn(c, &s.msg)
	}
	return true
}

func (s *Socket) join(joinRef, ref []byte, topic string, payload []byte) {
	h := s.server.router(s, topic)
	if h == nil {
		s.replyReason(joinRef, ref, topic, "unmatched topic")
		return
	}
	c := &Channel{topic: topic, joinRef: append([]byte(nil), joinRef...), socket: s, handler: h}
	reply, err := s.callJoin(c, payload)
	if err != nil {
		var refusal *Refusal
		if errors.As(err, &refusal) {
			s.reply(joinRef, ref, topic, false, refusal.Response)
		} else {
			s.server.log.Error("join crashed", "topic", topic, "session", s.id, "err", err)
			s.replyReason(joinRef, ref, topic, "join crashed")
		}
		return
	}
	s.channels[topic] = c
	s.server.subscribe(c)
	s.reply(joinRef, ref, topic, true, reply)
	if aj, ok := c.handler.(AfterJoiner); ok {
		s.run(c, "after join", func() { aj.AfterJoin(c) })
	}
}

func (s *Socket) callJoin(c *Channel, payload []byte) (reply any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.handler.Join(c, payload)
}

// handleIn is run for the hot path: the same recovery, without a closure to allocate.
func (s *Socket) handleIn(c *Channel, m *Message) {
	defer func() {
		if r := recover(); r != nil {
			s.crashed(c, m.Event, r)
		}
	}()
	c.handler.HandleIn(c, m)
}

// run calls into the handler. A panic fails only this channel, as a crashed channel process does in Phoenix:
// the channel ends and the client gets phx_error (and rejoins).
func (s *Socket) run(c *Channel, what string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			s.crashed(c, what, r)
		}
	}()
	fn()
}

func (s *Socket) crashed(c *Channel, what string, panicValue any) {
	s.server.log.Error("channel crashed", "topic", c.topic, "in", what, "session", s.id, "panic", panicValue)
	s.terminate(c, "crashed")
	delete(s.channels, c.topic)
	s.send(NewOutbound(AppendFrame(nil, c.joinRef, c.joinRef, c.topic, "phx_error", []byte("{}")), false))
}

func (s *Socket) terminate(c *Channel, reason string) {
	s.server.unsubscribe(c)
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.server.log.Error("terminate crashed", "topic", c.topic, "panic", r)
			}
		}()
		c.handler.Terminate(c, reason)
	}()
	s.server.presence.untrackChannel(c)
}

// writeLoop writes queued frames, batching whatever is queued into one flush, until the socket closes.
func (s *Socket) writeLoop() {
	defer close(s.writerDone)
	bw := bufio.NewWriterSize(s.conn, 16<<10)
	var spare []*Outbound
	for {
		closing := false
		select {
		case <-s.queue.notify:
		case <-s.closing:
			closing = true
		}
		items := s.queue.take(spare)
		if err := s.writeBatch(bw, items); err != nil {
			s.Close(ws.StatusGoingAway, "write failed")
			s.conn.Close()
			return
		}
		clear(items)
		spare = items
		if closing {
			s.writeClose(bw)
			return
		}
	}
}

func (s *Socket) writeBatch(bw *bufio.Writer, items []*Outbound) error {
	if len(items) == 0 {
		return nil
	}
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.server.cfg.WriteTimeout)); err != nil {
		return err
	}
	var n int64
	for _, o := range items {
		if err := ws.WriteHeader(bw, ws.Header{Fin: true, OpCode: o.op, Length: int64(len(o.frame))}); err != nil {
			return err
		}
		if _, err := bw.Write(o.frame); err != nil {
			return err
		}
		n += int64(len(o.frame))
	}
	s.server.stats.FramesOut.Add(int64(len(items)))
	s.server.stats.BytesOut.Add(n)
	return bw.Flush()
}

// writeClose sends the close frame, gives the peer a moment to answer, then drops the connection.
func (s *Socket) writeClose(bw *bufio.Writer) {
	reason := s.closeWhy
	if len(reason) > 120 { // a close frame's body is at most 125 bytes
		reason = reason[:120]
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	if err := ws.WriteFrame(bw, ws.NewCloseFrame(ws.NewCloseFrameBody(s.closeCode, reason))); err == nil {
		_ = bw.Flush()
	}
	select {
	case <-s.readerDone:
	case <-time.After(time.Second):
	}
	s.conn.Close()
}
