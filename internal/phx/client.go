package phx

import (
	"bufio"
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
	"github.com/gobwas/ws/wsutil"
)

// Client is a minimal Phoenix v2 client for tests and the load generator. It is not the browser's client:
// interop with that is tested with the official phoenix package.
type Client struct {
	conn    net.Conn
	br      *bufio.Reader
	writeMu sync.Mutex // guards writes to conn
	ref     atomic.Uint64
	in      chan ClientMessage
	done    chan struct{}
	// CloseCode and CloseReason are what the server's close frame said, once Done is closed.
	CloseCode   ws.StatusCode
	CloseReason string
	readErr     error
}

// ClientMessage is a frame the client received.
type ClientMessage struct {
	JoinRef, Ref *string
	Topic, Event string
	Payload      json.RawMessage
}

// DecodeClientMessage decodes a frame the server sent.
func DecodeClientMessage(b []byte) (ClientMessage, error) {
	var arr [5]json.RawMessage
	var m ClientMessage
	if err := json.Unmarshal(b, &arr); err != nil {
		return m, fmt.Errorf("server sent a bad frame %q: %w", b, err)
	}
	_ = json.Unmarshal(arr[0], &m.JoinRef)
	_ = json.Unmarshal(arr[1], &m.Ref)
	_ = json.Unmarshal(arr[2], &m.Topic)
	_ = json.Unmarshal(arr[3], &m.Event)
	m.Payload = arr[4]
	return m, nil
}

// Status returns the reply status of a phx_reply ("ok" or "error") and its response.
func (m ClientMessage) Status() (string, json.RawMessage) {
	var r struct {
		Status   string          `json:"status"`
		Response json.RawMessage `json:"response"`
	}
	_ = json.Unmarshal(m.Payload, &r)
	return r.Status, r.Response
}

// Dial connects to a socket URL such as ws://127.0.0.1:4000/socket/websocket?vsn=2.0.0.
func Dial(ctx context.Context, url string, tlsConfig *tls.Config) (*Client, error) {
	d := ws.Dialer{TLSConfig: tlsConfig, Timeout: 10 * time.Second}
	conn, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	if br == nil {
		br = bufio.NewReader(conn)
	}
	c := &Client{conn: conn, br: br, in: make(chan ClientMessage, 4096), done: make(chan struct{})}
	go c.readLoop()
	return c, nil
}

func (c *Client) readLoop() {
	defer close(c.done)
	defer close(c.in)
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			c.readErr = err
			return
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, p); err != nil {
			c.readErr = err
			return
		}
		switch h.OpCode {
		case ws.OpPing:
			c.writeMu.Lock()
			_ = wsutil.WriteClientMessage(c.conn, ws.OpPong, p)
			c.writeMu.Unlock()
			continue
		case ws.OpClose:
			c.CloseCode, c.CloseReason = ws.ParseCloseFrameData(p)
			c.writeMu.Lock()
			_ = wsutil.WriteClientMessage(c.conn, ws.OpClose, ws.NewCloseFrameBody(c.CloseCode, ""))
			c.writeMu.Unlock()
			c.conn.Close()
			return
		case ws.OpText:
		default:
			continue
		}
		m, err := DecodeClientMessage(p)
		if err != nil {
			c.readErr = err
			return
		}
		c.in <- m
	}
}

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, once Done is closed.
func (c *Client) Err() error { return c.readErr }

// SendRaw writes one text frame as is.
func (c *Client) SendRaw(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return wsutil.WriteClientText(c.conn, b)
}

// Push sends [joinRef, ref, topic, event, payload] with a fresh ref and returns the ref.
// joinRef "" is sent as null.
func (c *Client) Push(joinRef, topic, event string, payload any) (string, error) {
	ref := strconv.FormatUint(c.ref.Add(1), 10)
	b, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	var jr []byte
	if joinRef != "" {
		jr = strconv.AppendQuote(nil, joinRef)
	}
	return ref, c.SendRaw(AppendFrame(nil, jr, strconv.AppendQuote(nil, ref), topic, event, b))
}

// Next returns the next message, or an error when ctx ends or the connection closes.
func (c *Client) Next(ctx context.Context) (ClientMessage, error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			return m, fmt.Errorf("connection closed (code %d %q): %v", c.CloseCode, c.CloseReason, c.readErr)
		}
		return m, nil
	case <-ctx.Done():
		return ClientMessage{}, ctx.Err()
	}
}

// Await returns the first message for which match is true, discarding others.
func (c *Client) Await(ctx context.Context, match func(ClientMessage) bool) (ClientMessage, error) {
	for {
		m, err := c.Next(ctx)
		if err != nil {
			return m, err
		}
		if match(m) {
			return m, nil
		}
	}
}

// Request pushes and waits for the reply to that push.
func (c *Client) Request(ctx context.Context, joinRef, topic, event string, payload any) (status string, response json.RawMessage, err error) {
	ref, err := c.Push(joinRef, topic, event, payload)
	if err != nil {
		return "", nil, err
	}
	m, err := c.Await(ctx, func(m ClientMessage) bool {
		return m.Event == "phx_reply" && m.Ref != nil && *m.Ref == ref
	})
	if err != nil {
		return "", nil, fmt.Errorf("waiting for the reply to %s on %s: %w", event, topic, err)
	}
	status, response = m.Status()
	return status, response, nil
}

// Join joins topic and returns the join ref to use for later pushes, the reply status and response.
func (c *Client) Join(ctx context.Context, topic string, payload any) (joinRef, status string, response json.RawMessage, err error) {
	joinRef = strconv.FormatUint(c.ref.Add(1), 10)
	b, err := json.Marshal(payload)
	if err != nil {
		return "", "", nil, err
	}
	q := strconv.AppendQuote(nil, joinRef)
	if err := c.SendRaw(AppendFrame(nil, q, q, topic, "phx_join", b)); err != nil {
		return "", "", nil, err
	}
	m, err := c.Await(ctx, func(m ClientMessage) bool {
		return m.Event == "phx_reply" && m.Ref != nil && *m.Ref == joinRef
	})
	if err != nil {
		return "", "", nil, err
	}
	status, response = m.Status()
	return joinRef, status, response, nil
}

// Close closes the connection without a close handshake.
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.done
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
