package phx

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Helpers for reading JSON in place on hot paths, without decoding whole documents. They expect input already
// validated by the frame decoder and report false on anything unexpected.

// ArrayEach calls fn with each element of the JSON array arr until fn returns false. It reports whether arr
// was an array it could walk to the end.
func ArrayEach(arr []byte, fn func(elem []byte) bool) bool {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return false
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return true
	}
	for i < len(arr) {
		start := i
		end, err := skipValue(arr, i, 0)
		if err != nil {
			return false
		}
		if !fn(arr[start:end]) {
			return true
		}
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
			continue
		}
		return i < len(arr) && arr[i] == ']'
	}
	return false
}

// AppendUnquote appends the contents of the JSON string token tok (with its quotes) to dst, decoding escapes.
func AppendUnquote(dst, tok []byte) ([]byte, bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return dst, false
	}
	s := tok[1 : len(tok)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return dst, false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			dst = append(dst, s[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n, ok := decodeU(s[i:])
			if !ok {
				return dst, false
			}
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		default:
			return dst, false
		}
		i += 2
	}
	return dst, true
}

// decodeU decodes \uXXXX (and a following low surrogate) at the start of s.
func decodeU(s []byte) (rune, int, bool) {
	if len(s) < 6 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(string(s[2:6]), 16, 16)
	if err != nil {
		return 0, 0, false
	}
	r := rune(v)
	if utf16.IsSurrogate(r) && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if v2, err := strconv.ParseUint(string(s[8:12]), 16, 16); err == nil {
			if dec := utf16.DecodeRune(r, rune(v2)); dec != utf8.RuneError {
				return dec, 12, true
			}
		}
	}
	if utf16.IsSurrogate(r) {
		r = utf8.RuneError
	}
	return r, 6, true
}

// ValidObject reports whether b is exactly one JSON object (with surrounding space).
func ValidObject(b []byte) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	end, err := skipValue(b, i, 0)
	return err == nil && skipSpace(b, end) == len(b)
}

// ObjectEach calls fn with each key (raw, without quotes; escaped keys are passed as written) and raw value of
// the JSON object obj until fn returns false. It reports whether obj was an object it could walk to the end.
func ObjectEach(obj []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return true
	}
	for i < len(obj) && obj[i] == '"' {
		kEnd, _, err := skipString(obj, i)
		if err != nil {
			return false
		}
		k := obj[i+1 : kEnd-1]
		i = skipSpace(obj, kEnd)
		if i >= len(obj) || obj[i] != ':' {
			return false
		}
		i = skipSpace(obj, i+1)
		vStart := i
		if i, err = skipValue(obj, i, 0); err != nil {
			return false
		}
		if !fn(k, obj[vStart:i]) {
			return true
		}
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
			continue
		}
		return i < len(obj) && obj[i] == '}'
	}
	return false
}
