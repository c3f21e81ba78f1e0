package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"toncon/internal/phx"
	"toncon/internal/server"
	"toncon/internal/server/servertest"
)

// start runs a real toncon on a loopback port over plain HTTP, as the load tests do.
func start(t *testing.T, pprof bool) string {
	t.Helper()
	return servertest.Start(t, server.Config{Pprof: pprof}).URL().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape returns each sample line of /metrics as name{labels} → value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func createRoom(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/hubs", "application/json", strings.NewReader(`{"hub":{"name":"Metrics"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		HubID string `json:"hub_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.HubID == "" {
		t.Fatalf("create room: %v %+v", err, r)
	}
	return r.HubID
}

func TestMetricsCountWhatTheServerDid(t *testing.T) {
	base := start(t, false)
	before := scrape(t, base)
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines",
		"toncon_sockets_connected", `toncon_sessions{presence="room"}`, `toncon_sessions{presence="lobby"}`,
		"toncon_hubs_active", "toncon_frames_received_total", "toncon_bytes_sent_total", "toncon_naf_relayed_total",
		`toncon_naf_dropped_total{reason="slow_consumer"}`, `toncon_naf_dropped_total{reason="rate_limited"}`,
		`toncon_naf_dropped_total{reason="not_owner"}`, `toncon_naf_dropped_total{reason="unknown_entity"}`,
		`toncon_naf_thinned_total{outcome="superseded"}`, `toncon_naf_thinned_total{outcome="delayed"}`,
		"toncon_slow_consumer_disconnects_total", "toncon_join_duration_seconds_count"} {
		if _, ok := before[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}

	sid := createRoom(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	socket := "ws" + strings.TrimPrefix(base, "http") + "/socket/websocket?vsn=2.0.0"
	var clients []*phx.Client
	var joinRefs []string
	for _, name := range []string{"Ada", "Grace"} {
		c, err := phx.Dial(ctx, socket, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		jr, status, resp, err := c.Join(ctx, "hub:"+sid, map[string]any{
			"profile": map[string]any{"displayName": name}, "context": map[string]any{"mobile": false}})
		if err != nil || status != "ok" {
			t.Fatalf("join: %v %s %s", err, status, resp)
		}
		clients, joinRefs = append(clients, c), append(joinRefs, jr)
	}
	if status, resp, err := clients[0].Request(ctx, joinRefs[0], "hub:"+sid, "events:entered", map[string]any{}); err != nil || status != "ok" {
		t.Fatalf("entered: %v %s %s", err, status, resp)
	}
	inner := `{"dataType":"um","data":{"d":[]}}`
	if _, err := clients[0].Push(joinRefs[0], "hub:"+sid, "nafr", map[string]string{"naf": inner}); err != nil {
		t.Fatal(err)
	}
	if _, err := clients[1].Await(ctx, func(m phx.ClientMessage) bool { return m.Event == "nafr" }); err != nil {
		t.Fatal(err)
	}

	after := scrape(t, base)
	for name, want := range map[string]float64{
		"toncon_sockets_connected":           2,
		`toncon_sessions{presence="room"}`:   1,
		`toncon_sessions{presence="lobby"}`:  1,
		"toncon_hubs_active":                 1,
		"toncon_join_duration_seconds_count": 2,
		"toncon_naf_relayed_total":           1,
	} {
		if after[name] != want {
			t.Errorf("%s = %v, want %v", name, after[name], want)
		}
	}
	if after["toncon_frames_received_total"] < 4 || after["toncon_bytes_sent_total"] <= before["toncon_bytes_sent_total"] {
		t.Errorf("frames in %v, bytes out %v → %v", after["toncon_frames_received_total"],
			before["toncon_bytes_sent_total"], after["toncon_bytes_sent_total"])
	}
	if after[`toncon_join_duration_seconds_bucket{le="+Inf"}`] != 2 {
		t.Errorf("join histogram +Inf bucket %v", after[`toncon_join_duration_seconds_bucket{le="+Inf"}`])
	}
}

func TestPprofOnlyWhenAskedFor(t *testing.T) {
	if code, _ := get(t, start(t, false)+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("pprof served without --pprof: %d", code)
	}
	base := start(t, true)
	if code, body := get(t, base+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof index with --pprof: %d", code)
	}
	if code, body := get(t, base+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("goroutine profile: %d %.100s", code, body)
	}
}
