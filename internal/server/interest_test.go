package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"toncon/internal/phx"
	"toncon/internal/server"
	"toncon/internal/server/servertest"
)

// The interest settings reach the hub through the server: with them on, a far avatar's pose updates reach a
// person thinned, the last one still arrives, and /metrics counts what was held back; with them off, every update
// arrives.
func TestInterestManagementThroughTheServer(t *testing.T) {
	for _, on := range []bool{true, false} {
		name := map[bool]string{true: "on", false: "off"}[on]
		t.Run(name, func(t *testing.T) {
			cfg := server.Config{DataDir: t.TempDir()}
			if on {
				cfg.InterestMinRoom, cfg.InterestRadius = 2, 5
			}
			base := servertest.Start(t, cfg).URL().String()
			var created struct {
				HubID string `json:"hub_id"`
			}
			if code := pinPostJSON(t, base+"/api/v1/hubs", map[string]any{"hub": map[string]any{"name": "Far apart"}}, &created); code != 201 {
				t.Fatalf("create hub: %d", code)
			}
			topic := "hub:" + created.HubID
			ann, annRef, annSession := pinJoin(t, base, created.HubID, "Ann")
			ben, benRef, benSession := pinJoin(t, base, created.HubID, "Ben")
			pose := func(c *phx.Client, ref, session string, first bool, x float64) {
				t.Helper()
				d := map[string]any{"networkId": "av-" + session, "owner": session, "creator": session, "lastOwnerTime": 1,
					"template": "#toncon-avatar", "persistent": false, "parent": nil,
					"components": map[string]any{"0": map[string]any{"x": x, "y": 0, "z": 0}, "1": map[string]any{"x": 0, "y": 90, "z": 0}}}
				if first {
					d["isFirstSync"] = true
				}
				if _, err := c.Push(ref, topic, "naf", map[string]any{"dataType": "u", "data": d}); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range []struct {
				c            *phx.Client
				ref, session string
				x            float64
			}{{ann, annRef, annSession, 50}, {ben, benRef, benSession, 0}} {
				if status, reply, err := p.c.Request(pinCtx(t), p.ref, topic, "events:entered", map[string]any{}); err != nil || status != "ok" {
					t.Fatalf("enter: %s %s %v", status, reply, err)
				}
				pose(p.c, p.ref, p.session, true, p.x)
				pose(p.c, p.ref, p.session, false, p.x) // where each one stands, 50 m apart
			}
			time.Sleep(100 * time.Millisecond) // both places are known before Ann walks
			for i := 1; i <= 10; i++ {
				pose(ann, annRef, annSession, false, 50+float64(i))
			}
			// Ben collects Ann's updates until her last place arrives.
			var xs []float64
			if _, err := ben.Await(pinCtx(t), func(m phx.ClientMessage) bool {
				if m.Event != "naf" {
					return false
				}
				var msg struct {
					Data struct {
						NetworkID  string                         `json:"networkId"`
						Components map[string]struct{ X float64 } `json:"components"`
					} `json:"data"`
				}
				if json.Unmarshal(m.Payload, &msg) != nil || msg.Data.NetworkID != "av-"+annSession {
					return false
				}
				x := msg.Data.Components["0"].X
				xs = append(xs, x)
				return x == 60
			}); err != nil {
				t.Fatalf("Ann's last place never reached Ben (got %v): %v", xs, err)
			}
			walked := 0
			for _, x := range xs {
				if x > 50 {
					walked++
				}
			}
			thinned := thinnedTotal(t, base)
			if on && (walked >= 10 || thinned == 0) {
				t.Fatalf("interest on: Ben got %d of Ann's 10 steps (%v) and %v were counted thinned; want fewer, and a count", walked, xs, thinned)
			}
			if !on && (walked != 10 || thinned != 0) {
				t.Fatalf("interest off: Ben got %d of Ann's 10 steps (%v), %v thinned; want all 10 and none", walked, xs, thinned)
			}
		})
	}
}

// thinnedTotal sums toncon_naf_thinned_total over its outcomes from /metrics.
func thinnedTotal(t *testing.T, base string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, m := range regexp.MustCompile(`(?m)^toncon_naf_thinned_total\{[^}]*\} (\S+)$`).FindAllSubmatch(body, -1) {
		v, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatalf("metric value %q: %v", m[1], err)
		}
		sum += v
	}
	return sum
}
