package phx

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Message is one decoded Phoenix v2 frame: [join_ref, ref, topic, event, payload].
//
// JoinRef and Ref are kept as their raw JSON tokens (`"12"` or `null`) so replies can echo them without
// converting. JoinRef, Ref and Payload point into the socket's read buffer: they are valid only until the
// handler returns, so a handler that keeps them must copy them.
type Message struct {
	JoinRef []byte
	Ref     []byte
	Topic   string
	Event   string
	Payload []byte
}

// ErrMalformed is wrapped by every decode error, so callers can tell bad input from I/O failures.
var ErrMalformed = errors.New("malformed frame")

// maxDepth bounds JSON nesting so a hostile frame cannot make the validator recurse without limit.
const maxDepth = 64

type frameError struct{ why string }

func (e *frameError) Error() string { return "malformed frame: " + e.why }
func (e *frameError) Unwrap() error { return ErrMalformed }

func malformed(format string, args ...any) error {
	return &frameError{why: fmt.Sprintf(format, args...)}
}

// rawFrame is a frame whose topic and event are still raw bytes, so the socket can look them up without allocating.
type rawFrame struct {
	joinRef, ref []byte
	topic, event []byte // string contents without quotes, unescaped
	payload      []byte
	topicEscaped bool
	eventEscaped bool
}

// decodeFrame parses one Phoenix v2 frame. It validates the whole frame as JSON and its shape: a five-element
// array whose refs are strings or null, whose topic and event are strings, and whose payload is an object.
// It does not allocate for frames without escape sequences in the topic and event.
func decodeFrame(b []byte) (rawFrame, error) {
	var f rawFrame
	if !utf8.Valid(b) {
		// WebSocket text must be UTF-8, and relaying invalid text would break every receiver's decoder.
		return f, malformed("not valid UTF-8")
	}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return f, malformed("not a JSON array")
	}
	i++
	var err error
	for elem := 0; elem < 5; elem++ {
		i = skipSpace(b, i)
		if elem > 0 {
			if i >= len(b) || b[i] != ',' {
				return f, malformed("expected 5 elements [join_ref, ref, topic, event, payload]")
			}
			i = skipSpace(b, i+1)
		}
		start := i
		switch elem {
		case 0, 1:
			if i, err = skipRef(b, i); err != nil {
				return f, err
			}
			if elem == 0 {
				f.joinRef = b[start:i]
			} else {
				f.ref = b[start:i]
			}
		case 2, 3:
			if i >= len(b) || b[i] != '"' {
				return f, malformed("topic and event must be strings")
			}
			var escaped bool
			if i, escaped, err = skipString(b, i); err != nil {
				return f, err
			}
			if elem == 2 {
				f.topic, f.topicEscaped = b[start+1:i-1], escaped
			} else {
				f.event, f.eventEscaped = b[start+1:i-1], escaped
			}
		case 4:
			if i >= len(b) || b[i] != '{' {
				return f, malformed("payload must be a JSON object")
			}
			if i, err = skipValue(b, i, 0); err != nil {
				return f, err
			}
			f.payload = b[start:i]
		}
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ']' {
		return f, malformed("expected 5 elements [join_ref, ref, topic, event, payload]")
	}
	if skipSpace(b, i+1) != len(b) {
		return f, malformed("trailing data after the frame")
	}
	if f.topicEscaped {
		if f.topic, err = unescape(f.topic); err != nil {
			return f, err
		}
	}
	if f.eventEscaped {
		if f.event, err = unescape(f.event); err != nil {
			return f, err
		}
	}
	return f, nil
}

// DecodeMessage parses a frame into a Message. Sockets use the allocation-free path; this is for clients and tests.
func DecodeMessage(b []byte) (Message, error) {
	f, err := decodeFrame(b)
	if err != nil {
		return Message{}, err
	}
	return Message{JoinRef: f.joinRef, Ref: f.ref, Topic: string(f.topic), Event: string(f.event), Payload: f.payload}, nil
}

func unescape(s []byte) ([]byte, error) {
	quoted := make([]byte, 0, len(s)+2)
	quoted = append(append(append(quoted, '"'), s...), '"')
	var out string
	if err := json.Unmarshal(quoted, &out); err != nil {
		return nil, malformed("bad string escape")
	}
	return []byte(out), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func skipRef(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '"' {
		end, _, err := skipString(b, i)
		return end, err
	}
	if hasLiteral(b, i, "null") {
		return i + 4, nil
	}
	return i, malformed("join_ref and ref must be strings or null")
}

func hasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// skipString returns the index just past the closing quote of the string starting at b[i] == '"', and whether
// it contained escape sequences.
func skipString(b []byte, i int) (end int, escaped bool, err error) {
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return i, escaped, malformed("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return i, escaped, malformed("bad \\u escape")
				}
				i += 6
			default:
				return i, escaped, malformed("bad string escape")
			}
		case c < 0x20:
			return i, escaped, malformed("control character in string")
		default:
			i++
		}
	}
	return i, escaped, malformed("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipValue validates the JSON value starting at b[i] and returns the index just past it.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, malformed("unexpected end of JSON")
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return i, malformed("JSON nested deeper than %d", maxDepth)
		}
		return skipContainer(b, i, depth)
	case c == '"':
		end, _, err := skipString(b, i)
		return end, err
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	default:
		return i, malformed("unexpected character %s", strconv.QuoteRune(rune(c)))
	}
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if !hasLiteral(b, i, lit) {
		return i, malformed("bad literal")
	}
	return i + len(lit), nil
}

func skipContainer(b []byte, i, depth int) (int, error) {
	object := b[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	var err error
	for {
		if object {
			if i >= len(b) || b[i] != '"' {
				return i, malformed("object key must be a string")
			}
			if i, _, err = skipString(b, i); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, malformed("expected ':' after object key")
			}
			i = skipSpace(b, i+1)
		}
		if i, err = skipValue(b, i, depth+1); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, malformed("unexpected end of JSON")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closer:
			return i + 1, nil
		default:
			return i, malformed("expected ',' or '%c'", closer)
		}
	}
}

func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, malformed("bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, malformed("bad number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, malformed("bad number")
		}
	}
	return i, nil
}

// ObjectField returns the raw JSON value of key in the JSON object obj, without decoding the rest.
// It is for hot paths that need one field of a payload already validated by decodeFrame.
func ObjectField(obj []byte, key string) ([]byte, bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		kEnd, escaped, err := skipString(obj, i)
		if err != nil {
			return nil, false
		}
		k := obj[i+1 : kEnd-1]
		i = skipSpace(obj, kEnd)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipSpace(obj, i+1)
		vStart := i
		if i, err = skipValue(obj, i, 0); err != nil {
			return nil, false
		}
		if !escaped && string(k) == key {
			return obj[vStart:i], true
		}
		if escaped {
			if uk, err := unescape(k); err == nil && string(uk) == key {
				return obj[vStart:i], true
			}
		}
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil, false
}

// AppendFrame appends the encoding of [joinRef, ref, topic, event, payload] to dst. joinRef and ref are raw JSON
// tokens (nil means null); payload must be valid JSON.
func AppendFrame(dst, joinRef, ref []byte, topic, event string, payload []byte) []byte {
	dst = append(dst, '[')
	dst = appendRaw(dst, joinRef)
	dst = append(dst, ',')
	dst = appendRaw(dst, ref)
	dst = append(dst, ',')
	dst = AppendString(dst, topic)
	dst = append(dst, ',')
	dst = AppendString(dst, event)
	dst = append(dst, ',')
	dst = append(dst, payload...)
	return append(dst, ']')
}

func appendRaw(dst, tok []byte) []byte {
	if len(tok) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, tok...)
}

// AppendString appends s as a JSON string.
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
