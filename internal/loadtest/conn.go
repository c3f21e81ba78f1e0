package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"toncon/internal/phx"
)

// conn is a Phoenix Channels v2 client made for load: unlike phx.Client it never decodes the frames that are
// the bulk of the traffic (relayed NAF updates), it hands them to a callback as raw bytes in a reused buffer,
// and it decodes only replies and the rare other frames. Replies are matched to their requests here, so the
// caller never has to drain a queue.
type conn struct {
	c  net.Conn
	br *bufio.Reader

	writeMu sync.Mutex // guards writes to c and wbuf
	wbuf    bytes.Buffer

	ref atomic.Uint64

	pendingMu sync.Mutex // guards pending
	pending   map[string]chan phx.ClientMessage

	done      chan struct{} // closed when the reader ends
	closeCode ws.StatusCode // set by the reader before done is closed
	closeWhy  string
	readErr   error
}

const writeTimeout = 5 * time.Second

// dialConn opens a socket. onFrame is called on the reader goroutine for every text frame that is not a reply
// someone waits for; the frame is valid only during the call.
func dialConn(ctx context.Context, url string, tlsConfig *tls.Config, onFrame func([]byte)) (*conn, error) {
	d := ws.Dialer{TLSConfig: tlsConfig, Timeout: 10 * time.Second, ReadBufferSize: 32 << 10}
	c, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(c, 32<<10)
	}
	k := &conn{c: c, br: br, pending: map[string]chan phx.ClientMessage{}, done: make(chan struct{})}
	go k.readLoop(onFrame)
	return k, nil
}

func (k *conn) readLoop(onFrame func([]byte)) {
	defer close(k.done)
	var buf []byte
	for {
		h, err := ws.ReadHeader(k.br)
		if err != nil {
			k.readErr = err
			return
		}
		if h.Length > 16<<20 {
			k.readErr = fmt.Errorf("server sent a %d-byte frame", h.Length)
			return
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length, max(h.Length, 64<<10))
		}
		buf = buf[:h.Length]
		if _, err := io.ReadFull(k.br, buf); err != nil {
			k.readErr = err
			return
		}
		if h.Masked {
			ws.Cipher(buf, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpText:
			if !k.deliverReply(buf) {
				onFrame(buf)
			}
		case ws.OpPing:
			_ = k.writeFrame(ws.OpPong, buf)
		case ws.OpClose:
			k.closeCode, k.closeWhy = ws.ParseCloseFrameData(buf)
			_ = k.writeFrame(ws.OpClose, ws.NewCloseFrameBody(k.closeCode, ""))
			return
		}
	}
}

// deliverReply hands a phx_reply to the request waiting for it, and reports whether it did.
func (k *conn) deliverReply(frame []byte) bool {
	if len(frame) < 8 || string(frame[:8]) == "[null,nu" {
		return false // a broadcast: never a reply
	}
	k.pendingMu.Lock()
	waiting := len(k.pending) > 0
	k.pendingMu.Unlock()
	if !waiting {
		return false
	}
	m, err := phx.DecodeClientMessage(frame)
	if err != nil || m.Event != "phx_reply" || m.Ref == nil {
		return false
	}
	k.pendingMu.Lock()
	ch := k.pending[*m.Ref]
	delete(k.pending, *m.Ref)
	k.pendingMu.Unlock()
	if ch == nil {
		return false
	}
	m.Payload = append(json.RawMessage(nil), m.Payload...) // the frame buffer is reused
	ch <- m
	return true
}

// writeFrame writes one masked frame, as a client must.
func (k *conn) writeFrame(op ws.OpCode, payload []byte) error {
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	mask := ws.NewMask()
	k.wbuf.Reset()
	if err := ws.WriteHeader(&k.wbuf, ws.Header{Fin: true, OpCode: op, Masked: true, Mask: mask, Length: int64(len(payload))}); err != nil {
		return err
	}
	start := k.wbuf.Len()
	k.wbuf.Write(payload) // copied, so the caller's bytes stay unmasked
	ws.Cipher(k.wbuf.Bytes()[start:], mask, 0)
	if err := k.c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err := k.c.Write(k.wbuf.Bytes()) // header and payload in one write: one syscall per message
	return err
}

func (k *conn) nextRef() string { return strconv.FormatUint(k.ref.Add(1), 10) }

// push sends [joinRef, ref, topic, event, payload] and does not wait for a reply (a reply that comes is passed
// to onFrame like any other frame). payload is JSON.
func (k *conn) push(joinRef, topic, event string, payload []byte) error {
	return k.writeFrame(ws.OpText, phx.AppendFrame(nil, quoted(joinRef), quoted(k.nextRef()), topic, event, payload))
}

func quoted(s string) []byte {
	if s == "" {
		return nil // null
	}
	return strconv.AppendQuote(nil, s)
}

// join joins topic and returns the join ref to send with the channel's later pushes.
func (k *conn) join(ctx context.Context, topic string, payload []byte) (joinRef, status string, response json.RawMessage, err error) {
	ref := k.nextRef()
	status, response, err = k.requestRef(ctx, ref, ref, topic, "phx_join", payload)
	return ref, status, response, err
}

// request pushes and waits for the reply.
func (k *conn) request(ctx context.Context, joinRef, topic, event string, payload []byte) (status string, response json.RawMessage, err error) {
	return k.requestRef(ctx, joinRef, k.nextRef(), topic, event, payload)
}

func (k *conn) requestRef(ctx context.Context, joinRef, ref, topic, event string, payload []byte) (status string, response json.RawMessage, err error) {
	ch := make(chan phx.ClientMessage, 1)
	k.pendingMu.Lock()
	k.pending[ref] = ch
	k.pendingMu.Unlock()
	defer func() {
		k.pendingMu.Lock()
		delete(k.pending, ref)
		k.pendingMu.Unlock()
	}()
	if err := k.writeFrame(ws.OpText, phx.AppendFrame(nil, quoted(joinRef), quoted(ref), topic, event, payload)); err != nil {
		return "", nil, fmt.Errorf("send %s: %w", event, err)
	}
	select {
	case m := <-ch:
		status, response = m.Status()
		return status, response, nil
	case <-k.done:
		return "", nil, fmt.Errorf("waiting for the reply to %s: %w", event, k.endErr())
	case <-ctx.Done():
		return "", nil, fmt.Errorf("waiting for the reply to %s: %w", event, ctx.Err())
	}
}

// endErr says why the connection ended, once done is closed.
func (k *conn) endErr() error {
	if k.closeCode != 0 {
		return fmt.Errorf("the server closed the socket (%d %s)", k.closeCode, k.closeWhy)
	}
	if k.readErr == nil || errors.Is(k.readErr, io.EOF) {
		return errors.New("the server closed the connection")
	}
	return k.readErr
}

// close says goodbye with a close frame, gives the server a moment to answer, and drops the connection.
func (k *conn) close() {
	_ = k.writeFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	select {
	case <-k.done:
	case <-time.After(time.Second):
	}
	k.c.Close()
	<-k.done
}
