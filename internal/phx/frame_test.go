package phx

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestDecodeFrame(t *testing.T) {
	m, err := DecodeMessage([]byte(` [ "1" , null, "hub:abc", "naf" , {"dataType":"u","data":{"a":[1,2.5e3,true,false,null]}} ] `))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.JoinRef) != `"1"` || string(m.Ref) != "null" || m.Topic != "hub:abc" || m.Event != "naf" ||
		string(m.Payload) != `{"dataType":"u","data":{"a":[1,2.5e3,true,false,null]}}` {
		t.Fatalf("%+v", m)
	}
	m, err = DecodeMessage([]byte(`[null,"2","hub:\u0061bc","ev\"t",{}]`))
	if err != nil || m.Topic != "hub:abc" || m.Event != `ev"t` {
		t.Fatalf("escaped: %+v %v", m, err)
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `null`, `"x"`, `[null,null,"t","e",{}`, `[null,null,"t","e",{},]`, `[null,null,"t","e",{"a":01}]`,
		`[null,null,"t","e",{"a":1.}]`, `[null,null,"t","e",{"a":-}]`, `[null,null,"t","e",{"a":tru}]`,
		`[null,null,"t","e",{"a" 1}]`, `[null,null,"t","e",{1:1}]`, `[null,null,"t","e",{"a":"\x01"}]`,
		`[null,null,"t","e",{"a":"\u12"}]`, `[nul,null,"t","e",{}]`, `[null,null,"t","e",{}] x`,
		`[true,null,"t","e",{}]`, `[null,null,null,"e",{}]`, `[null,null,"t","e","payload"]`,
	} {
		if _, err := DecodeMessage([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: got %v, want a malformed frame error", in, err)
		}
	}
}

func TestObjectField(t *testing.T) {
	obj := []byte(`{"a":1, "naf" : "{\"x\":1}", "n\u0061me":{"deep":[1]}}`)
	if v, ok := ObjectField(obj, "naf"); !ok || string(v) != `"{\"x\":1}"` {
		t.Fatalf("naf: %s %v", v, ok)
	}
	if v, ok := ObjectField(obj, "name"); !ok || string(v) != `{"deep":[1]}` {
		t.Fatalf("escaped key: %s %v", v, ok)
	}
	if _, ok := ObjectField(obj, "missing"); ok {
		t.Fatal("found a missing key")
	}
}

func TestAppendFrameRoundTrip(t *testing.T) {
	b := AppendFrame(nil, []byte(`"7"`), nil, "hub:<x>", "ev\n", []byte(`{"k":"v"}`))
	var arr []any
	if err := json.Unmarshal(b, &arr); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if arr[0] != "7" || arr[1] != nil || arr[2] != "hub:<x>" || arr[3] != "ev\n" {
		t.Fatalf("%s", b)
	}
}

// FuzzDecodeFrame checks that the decoder never panics and agrees with encoding/json about what is valid:
// anything it accepts is valid JSON of the right shape, and every valid frame shape is accepted.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`[null,"1","phoenix","heartbeat",{}]`,
		`["1","2","hub:abc","naf",{"dataType":"u","data":{"networkId":"x","components":{"0":{"x":1.5}}}}]`,
		`[null,null,"t","e",{"a":"\u00e9\n"}]`, `[`, `{"a":1}`, `[null,null,"t","e",{"a":[[[[]]]]}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		var arr []json.RawMessage
		stdErr := json.Unmarshal(b, &arr)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not marked malformed: %v", err)
			}
			if stdErr == nil && len(arr) == 5 && validShape(arr) && json.Valid(b) && utf8.Valid(b) && depth(b) < maxDepth {
				t.Fatalf("rejected a valid frame %q: %v", b, err)
			}
			return
		}
		if stdErr != nil || len(arr) != 5 {
			t.Fatalf("accepted invalid frame %q (encoding/json: %v)", b, stdErr)
		}
		var topic, event string
		if json.Unmarshal(arr[2], &topic) != nil || topic != m.Topic || json.Unmarshal(arr[3], &event) != nil || event != m.Event {
			t.Fatalf("topic/event mismatch for %q: %q %q", b, m.Topic, m.Event)
		}
	})
}

func validShape(arr []json.RawMessage) bool {
	isRef := func(r json.RawMessage) bool { return string(r) == "null" || r[0] == '"' }
	return isRef(arr[0]) && isRef(arr[1]) && arr[2][0] == '"' && arr[3][0] == '"' && arr[4][0] == '{'
}

func depth(b []byte) int {
	d, max := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '[' || c == '{'):
			d++
			if d > max {
				max = d
			}
		case !inStr && (c == ']' || c == '}'):
			d--
		}
	}
	return max
}

var sampleNafr = []byte(`["4","123","hub:Xk3f9Qa","nafr",{"naf":"{\"dataType\":\"um\",\"data\":{\"d\":[{\"networkId\":\"naf-3kd9a\",\"owner\":\"5c1b2f0e-8a3d-4f5e-9b7a-1c2d3e4f5a6b\",\"creator\":\"5c1b2f0e-8a3d-4f5e-9b7a-1c2d3e4f5a6b\",\"lastOwnerTime\":1732780000123,\"template\":\"#remote-avatar\",\"persistent\":false,\"parent\":null,\"components\":{\"0\":{\"x\":1.234,\"y\":0,\"z\":-3.21},\"1\":{\"x\":0,\"y\":1.57,\"z\":0},\"3\":{\"x\":0.1,\"y\":1.6,\"z\":0},\"4\":{\"x\":-0.2,\"y\":1.1,\"z\":0.3},\"5\":{\"x\":0.2,\"y\":1.1,\"z\":0.3}}}]},\"t\":1732780000456}"}]`)

func BenchmarkDecodeFrame(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(sampleNafr)))
	for b.Loop() {
		if _, err := decodeFrame(sampleNafr); err != nil {
			b.Fatal(err)
		}
	}
}
