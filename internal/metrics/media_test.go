package metrics_test

import (
	"context"
	"testing"
	"time"

	"toncon/internal/loadtest"
	"toncon/internal/media"
	"toncon/internal/server"
	"toncon/internal/server/servertest"
)

var mediaMetrics = []string{"toncon_media_rooms", "toncon_media_peers", "toncon_media_tracks", "toncon_media_streams",
	"toncon_media_forwarded_packets_total", "toncon_media_suppressed_packets_total"}

// TestMediaMetricsMoveWhenAPeerPublishes brings two people into a room's media with the load generator's
// simulated people (real Pion peers over the signalling protocol): one talks, one listens.
func TestMediaMetricsMoveWhenAPeerPublishes(t *testing.T) {
	base := servertest.Start(t, server.Config{Media: media.Config{ListenIP: "127.0.0.1"}}).URL().String()
	idle := scrape(t, base)
	for _, name := range mediaMetrics {
		if v, ok := idle[name]; !ok || v != 0 {
			t.Errorf("an idle server: %s = %v (present %v), want 0", name, v, ok)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type outcome struct {
		res *loadtest.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		// The inactive profile has one talker per room.
		res, err := loadtest.Run(ctx, loadtest.Config{URL: base, Profile: loadtest.Profiles["inactive"], Rooms: 1, PerRoom: 2,
			Duration: 3 * time.Second, Warmup: 500 * time.Millisecond, Drain: 500 * time.Millisecond, Media: true})
		done <- outcome{res, err}
	}()

	var during map[string]float64
	deadline := time.Now().Add(30 * time.Second)
	for {
		during = scrape(t, base)
		if during["toncon_media_tracks"] == 1 && during["toncon_media_streams"] == 1 && during["toncon_media_forwarded_packets_total"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the media metrics never showed a published track forwarded: %v", pick(during, mediaMetrics))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if during["toncon_media_peers"] != 2 || during["toncon_media_rooms"] != 1 {
		t.Errorf("with two people in one room's media: %v", pick(during, mediaMetrics))
	}
	time.Sleep(500 * time.Millisecond)
	later := scrape(t, base)
	// 50 packets a second to one listener: half a second later, about 25 more.
	if moved := later["toncon_media_forwarded_packets_total"] - during["toncon_media_forwarded_packets_total"]; moved < 10 {
		t.Errorf("forwarded packets moved by %v in half a second, want about 25", moved)
	}

	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.Media == nil || o.res.Media.Loss.Received == 0 {
		t.Fatalf("the run received no voice: %+v", o.res.Media)
	}
	// Everyone has left: the gauges fall back, the counter keeps what it counted.
	deadline = time.Now().Add(15 * time.Second)
	var gone map[string]float64
	for {
		gone = scrape(t, base)
		if gone["toncon_media_peers"] == 0 && gone["toncon_media_tracks"] == 0 && gone["toncon_media_streams"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("media gauges after everyone left: %v", pick(gone, mediaMetrics))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if gone["toncon_media_forwarded_packets_total"] < float64(o.res.Media.Loss.Received) {
		t.Errorf("forwarded packets %v after the run, but the listener received %d in its window alone",
			gone["toncon_media_forwarded_packets_total"], o.res.Media.Loss.Received)
	}
}

// A node that leaves media to another (serve --role app) has no media figures to give.
func TestNoMediaMetricsWithoutAnSFU(t *testing.T) {
	base := servertest.Start(t, server.Config{Role: server.RoleApp, MediaURL: "http://127.0.0.1:9"}).URL().String()
	m := scrape(t, base)
	if _, ok := m["toncon_sockets_connected"]; !ok {
		t.Fatal("no toncon metrics at all")
	}
	for _, name := range mediaMetrics {
		if _, ok := m[name]; ok {
			t.Errorf("role app reports %s", name)
		}
	}
}

func pick(m map[string]float64, names []string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		out[n] = m[n]
	}
	return out
}
