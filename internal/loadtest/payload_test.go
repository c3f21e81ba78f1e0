package loadtest

import (
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPayloadsAreTheNAFMessagesHubsSends(t *testing.T) {
	a := avatar{networkID: "abc1234", session: "5f0c9a3e-1111-2222-3333-444455556666", lastOwnerTime: 1764331200123, person: 17}
	p := poseAt(17, 12.5)

	var first struct {
		DataType string `json:"dataType"`
		Data     struct {
			NetworkID, Owner, Creator, Template string
			Persistent, IsFirstSync             bool
			Components                          map[string]json.RawMessage
		} `json:"data"`
		LT []int64 `json:"lt"`
	}
	b := a.appendFirstSync(nil, p, 1, 1764331200123456)
	if err := json.Unmarshal(b, &first); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	d := first.Data
	if first.DataType != "u" || d.NetworkID != "abc1234" || d.Owner != a.session || d.Creator != a.session ||
		d.Template != "#remote-avatar" || d.Persistent || !d.IsFirstSync || len(d.Components) != 13 {
		t.Errorf("first sync %+v", first)
	}
	if len(first.LT) != 3 || first.LT[0] != 17 || first.LT[1] != 1 || first.LT[2] != 1764331200123456 {
		t.Errorf("stamp %v", first.LT)
	}

	for _, moving := range []bool{true, false} {
		inner := a.appendUpdate(nil, p, moving, 42, 1764331200999999)
		nafr := append(appendJSONString([]byte(`{"naf":`), inner), '}')
		var outer struct{ Naf string }
		if err := json.Unmarshal(nafr, &outer); err != nil || outer.Naf != string(inner) {
			t.Fatalf("nafr %s: %v", nafr, err)
		}
		var um struct {
			DataType string `json:"dataType"`
			Data     struct {
				D []struct {
					NetworkID   string
					IsFirstSync *bool
					Components  map[string]json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(inner, &um); err != nil {
			t.Fatalf("%v\n%s", err, inner)
		}
		want := 1 // a still person turns its head
		if moving {
			want = 8 // position, rotation, head and both hands
		}
		if um.DataType != "um" || len(um.Data.D) != 1 || um.Data.D[0].IsFirstSync != nil || len(um.Data.D[0].Components) != want {
			t.Errorf("moving %v: %s", moving, inner)
		}
		// The relay passes the string through; a receiver finds the stamp in the escaped form.
		frame := append([]byte(`[null,null,"hub:abc","nafr",`), nafr[:len(nafr)-1]...)
		frame = append(frame, `,"from_session_id":"x"}]`...)
		from, seq, sent, ok := parseLT(frame, ltMarkerEscaped)
		if !ok || from != 17 || seq != 42 || sent != 1764331200999999 {
			t.Errorf("stamp in %s: %v %v %v %v", frame, from, seq, sent, ok)
		}
	}
}

func TestParseLTRefusesWhatItCannotRead(t *testing.T) {
	for _, s := range []string{``, `"lt":[`, `"lt":[1,2]`, `"lt":[1,2,x]`, `"lt":[1,2,3`, `"lt":[-1,2,3]`, `"lt":[1,,3]`,
		`"lt":[1,2,99999999999999999999]`, `"lt":[99999999999,2,3]`} {
		if _, _, _, ok := parseLT([]byte(s), ltMarkerRaw); ok {
			t.Errorf("%q read", s)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", `a"b`, `back\slash`, "tab\tnewline\n", "\x00\x1f", "é☃"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // JSON strings hold text; the load generator only ever quotes its own ASCII
		}
		var back string
		if err := json.Unmarshal(appendJSONString(nil, []byte(s)), &back); err != nil || back != s {
			t.Fatalf("%q → %q (%v)", s, back, err)
		}
	})
}

func FuzzParseLT(f *testing.F) {
	f.Add([]byte(`{"naf":"{\"lt\":[1,2,3]}"}`))
	f.Add([]byte(`"lt":[12,3456,1764331200123456]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		from, seq, sent, ok := parseLT(b, ltMarkerEscaped)
		if ok && (from < 0 || sent < 0) {
			t.Fatalf("negative stamp %d %d %d", from, seq, sent)
		}
		_, _, _, _ = parseLT(b, ltMarkerRaw)
	})
}

func TestHistogramBucketsKeepSixPercent(t *testing.T) {
	prev := -1
	for us := int64(0); us < 1<<32; us = us*17/16 + 1 {
		i := bucketOf(us)
		if i < prev || i >= histBuckets {
			t.Fatalf("bucket of %d is %d after %d", us, i, prev)
		}
		prev = i
		if us < 1<<31 {
			if mid := bucketMid(i); math.Abs(mid-float64(us)) > 0.065*float64(us)+0.5 {
				t.Fatalf("%d µs reported as %v", us, mid)
			}
		}
	}
	if bucketOf(-5) != 0 || bucketOf(math.MaxInt64) != histBuckets-1 {
		t.Fatal("out-of-range values are not clamped")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h hist
	for i := int64(1); i <= 1000; i++ {
		h.observe(i * 1000) // 1 ms to 1 s, evenly
	}
	var s histSnap
	s.add(&h)
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.95: 950 * time.Millisecond, 0.99: 990 * time.Millisecond} {
		if got := s.quantile(q); math.Abs(float64(got-want)) > 0.065*float64(want) {
			t.Errorf("q%v = %v, want about %v", q, got, want)
		}
	}
	if s.n != 1000 || s.maxUS != 1_000_000 || s.mean() != 500500*time.Microsecond {
		t.Errorf("n %d max %d mean %v", s.n, s.maxUS, s.mean())
	}
	var later histSnap
	h.observe(2000)
	later.add(&h)
	if d := later.minus(&s); d.n != 1 || d.quantile(0.5) < 1900*time.Microsecond || d.quantile(0.5) > 2100*time.Microsecond {
		t.Errorf("interval %d %v", d.n, d.quantile(0.5))
	}
	var empty histSnap
	if empty.quantile(0.99) != 0 || empty.mean() != 0 {
		t.Error("an empty histogram has delays")
	}
}
