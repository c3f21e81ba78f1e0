package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Close codes of the signalling socket. 4000-4999 are ours; a client should not reconnect on its own after any of
// them except 4001 (get a fresh perms token first) and 4007 (reconnect).
const (
	CloseShutdown      = websocket.StatusGoingAway // 1001: the server is stopping; ask get_host and reconnect
	CloseTokenExpired  = 4001                      // the perms token expired without refresh_token
	CloseReplaced      = 4002                      // the same session joined again on another socket
	CloseKicked        = 4003                      // a moderator kicked this session
	CloseJoinRefused   = 4004                      // the join request was refused (the response says why)
	CloseProtocol      = 4005                      // a malformed message, no join in time, or a socket too slow to keep up
	CloseNoAnswer      = 4006                      // the client did not answer a subscribe offer in time
	CloseMediaFailed   = 4007                      // a PeerConnection failed (ICE or DTLS); reconnect
	outboundQueueDepth = 64                        // signalling messages waiting for the writer; more is a stuck client
)

// inMessage is any message a client sends: a request, or a response to one of our requests.
type inMessage struct {
	Request      bool            `json:"request"`
	Response     bool            `json:"response"`
	Notification bool            `json:"notification"`
	ID           json.RawMessage `json:"id"`
	Method       string          `json:"method"`
	OK           bool            `json:"ok"`
	Data         json.RawMessage `json:"data"`
	ErrorCode    string          `json:"errorCode"`
	ErrorReason  string          `json:"errorReason"`
}

type outRequest struct {
	Request bool   `json:"request"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Data    any    `json:"data"`
}

type outResponse struct {
	Response    bool            `json:"response"`
	ID          json.RawMessage `json:"id"`
	OK          bool            `json:"ok"`
	Data        any             `json:"data,omitempty"`
	ErrorCode   string          `json:"errorCode,omitempty"`
	ErrorReason string          `json:"errorReason,omitempty"`
}

type outNotification struct {
	Notification bool   `json:"notification"`
	Method       string `json:"method"`
	Data         any    `json:"data"`
}

// requestError is a refused request: Code is short and stable for programs, Reason says what to do for people.
type requestError struct {
	Code, Reason string
}

func (e *requestError) Error() string { return e.Code + ": " + e.Reason }

func refuse(code, format string, args ...any) *requestError {
	return &requestError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// reply is a client's response to one of our requests.
type reply struct {
	ok     bool
	data   json.RawMessage
	reason string
}

// conn is one signalling socket: the HTTP handler's goroutine reads, a writer goroutine drains a bounded queue,
// and either side can ask for the socket to close with a code and reason.
type conn struct {
	ws           *websocket.Conn
	out          chan []byte
	closing      chan struct{} // closed once a close has been asked for
	closeOnce    sync.Once
	closeCode    websocket.StatusCode // set before closing is closed
	closeReason  string
	writerDone   chan struct{}
	writeTimeout time.Duration
	pingEvery    time.Duration

	mu      sync.Mutex // guards pending and nextID
	pending map[uint64]chan reply
	nextID  uint64
}

func newConn(ws *websocket.Conn, writeTimeout, pingEvery time.Duration) *conn {
	return &conn{ws: ws, out: make(chan []byte, outboundQueueDepth), closing: make(chan struct{}),
		writerDone: make(chan struct{}), writeTimeout: writeTimeout, pingEvery: pingEvery, pending: map[uint64]chan reply{}}
}

// writeLoop sends queued messages in order. After a close is asked for it still sends what was queued before (so a
// refusal's response reaches the client ahead of the close frame), then closes the socket.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.pingEvery)
	defer ping.Stop()
	for {
		select {
		case b := <-c.out:
			if !c.write(b) {
				return
			}
		case <-ping.C:
			// A browser answers pings by itself; a half-open connection does not, and is closed here.
			ctx, cancel := context.WithTimeout(context.Background(), c.writeTimeout)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				_ = c.ws.CloseNow()
				return
			}
		case <-c.closing:
			for {
				select {
				case b := <-c.out:
					if !c.write(b) {
						return
					}
					continue
				default:
				}
				break
			}
			_ = c.ws.Close(c.closeCode, c.closeReason)
			return
		}
	}
}

func (c *conn) write(b []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		_ = c.ws.CloseNow()
		return false
	}
	return true
}

// close asks for the socket to close with code and reason; the first call wins. It does not wait.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		close(c.closing)
	})
}

func (c *conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// send queues an encoded message. A client whose queue is full is not keeping up with ordered traffic: it is
// closed with a reason rather than sent a stream with holes in it.
func (c *conn) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return // our own types always encode
	}
	select {
	case <-c.closing:
	case c.out <- b:
	default:
		c.close(CloseProtocol, "too slow: signalling messages queued up")
	}
}

func (c *conn) notify(method string, data any) {
	c.send(outNotification{Notification: true, Method: method, Data: data})
}

func (c *conn) respond(id json.RawMessage, data any, err error) {
	if err == nil {
		c.send(outResponse{Response: true, ID: id, OK: true, Data: data})
		return
	}
	var re *requestError
	if !errors.As(err, &re) {
		re = &requestError{Code: "internal_error", Reason: err.Error()}
	}
	c.send(outResponse{Response: true, ID: id, OK: false, ErrorCode: re.Code, ErrorReason: re.Reason})
}

// request sends a server request and waits for the client's response.
func (c *conn) request(ctx context.Context, method string, data any) (json.RawMessage, error) {
	ch := make(chan reply, 1)
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	c.send(outRequest{Request: true, ID: id, Method: method, Data: data})
	select {
	case r := <-ch:
		if !r.ok {
			return nil, fmt.Errorf("client refused %s: %s", method, r.reason)
		}
		return r.data, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	case <-c.closing:
		return nil, fmt.Errorf("%s: socket closed", method)
	}
}

// deliver hands a client's response to the request waiting for it; unknown ids are ignored (late answers).
func (c *conn) deliver(m *inMessage) {
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		return
	}
	c.mu.Lock()
	ch := c.pending[id]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- reply{ok: m.OK, data: m.Data, reason: m.ErrorReason}:
		default:
		}
	}
}
