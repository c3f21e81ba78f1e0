package phx

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestArrayEach(t *testing.T) {
	var got []string
	ok := ArrayEach([]byte(` [ {"a":1}, 2 ,"x", [3] ] `), func(e []byte) bool { got = append(got, string(e)); return true })
	if !ok || len(got) != 4 || got[0] != `{"a":1}` || got[3] != "[3]" {
		t.Fatalf("%v %q", ok, got)
	}
	if !ArrayEach([]byte(`[]`), func([]byte) bool { t.Fatal("called on empty"); return true }) {
		t.Fatal("empty array")
	}
	for _, bad := range []string{`{}`, `[1,`, `[1 2]`, ``} {
		if ArrayEach([]byte(bad), func([]byte) bool { return true }) {
			t.Errorf("%q accepted", bad)
		}
	}
	n := 0
	ArrayEach([]byte(`[1,2,3]`), func([]byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("did not stop: %d", n)
	}
}

func TestAppendUnquoteMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `{"dataType":"um","data":{"d":[]}}`, "tab\there\nnew \\ slash / é 😀 \u2028", "\x01ctrl"} {
		tok, _ := json.Marshal(s)
		got, ok := AppendUnquote(nil, tok)
		if !ok || string(got) != s {
			t.Errorf("%q: got %q %v", s, got, ok)
		}
	}
	if got, ok := AppendUnquote(nil, []byte(`"\ud83d\ude00 \u00e9"`)); !ok || string(got) != "😀 é" {
		t.Errorf("surrogates: %q %v", got, ok)
	}
	for _, bad := range []string{`x`, `"abc`, `"\q"`, `"\u12"`, `"\`} {
		if _, ok := AppendUnquote(nil, []byte(bad)); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestObjectEach(t *testing.T) {
	var keys []string
	if !ObjectEach([]byte(` {"0":{"x":1},"a\"b" : [1,2], "z":null } `), func(k, v []byte) bool {
		keys = append(keys, string(k)+"="+string(v))
		return true
	}) {
		t.Fatal("a valid object was not walked to the end")
	}
	if want := `0={"x":1} a\"b=[1,2] z=null`; strings.Join(keys, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(keys, " "), want)
	}
	for _, bad := range []string{`[1]`, `{"a":1,`, `{"a" 1}`, `{"a":}`, ``} {
		if ObjectEach([]byte(bad), func(k, v []byte) bool { return true }) {
			t.Errorf("%q walked as an object", bad)
		}
	}
	if !ObjectEach([]byte(`{}`), func(k, v []byte) bool { t.Fatal("called for an empty object"); return true }) {
		t.Fatal("an empty object is an object")
	}
}
