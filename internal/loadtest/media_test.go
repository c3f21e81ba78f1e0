package loadtest

import (
	"context"
	"testing"
	"time"

	"toncon/internal/media"
	"toncon/internal/server"
	"toncon/internal/server/servertest"
)

// TestVoiceLevelVaries: every talker's level stays in the range a voice has, swells and fades, and talkers
// differ, so a server choosing the loudest voices changes its choice during a run.
func TestVoiceLevelVaries(t *testing.T) {
	for person := range 6 {
		lo, hi := byte(127), byte(0)
		for ms := 0; ms < 8000; ms += 20 {
			l := voiceLevel(person, time.Duration(ms)*time.Millisecond)
			if l < 5 || l > 66 {
				t.Fatalf("person %d at %d ms: level -%d dBov is not a talking voice's", person, ms, l)
			}
			lo, hi = min(lo, l), max(hi, l)
		}
		if hi-lo < 24 {
			t.Errorf("person %d's level only moves between -%d and -%d dBov", person, lo, hi)
		}
	}
	if voiceLevel(0, time.Second) == voiceLevel(1, time.Second) && voiceLevel(0, 2*time.Second) == voiceLevel(1, 2*time.Second) {
		t.Error("two talkers have the same level")
	}
}

// TestRunWithLoudestVoiceForwarding: against a server that forwards only the loudest voice of each room, the
// voices left out are not counted as loss; they show as not forwarded, and the server counts them suppressed.
// The talkers' levels swell and fade, so the loudest changes during the run and each switch must come through
// without a sequence gap at the receivers.
func TestRunWithLoudestVoiceForwarding(t *testing.T) {
	checkNoLeaks(t)
	srv := servertest.Start(t, server.Config{Media: media.Config{ListenIP: "127.0.0.1", MaxVoices: 1, VoiceInterval: 100 * time.Millisecond}})
	cfg := Config{URL: srv.URL().String(), Profile: Profiles["active"], Rooms: 1, PerRoom: 6, Talkers: 0.5,
		Duration: 4 * time.Second, Warmup: 1500 * time.Millisecond, Drain: time.Second, Media: true}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Media
	if m == nil || len(res.Errors) > 0 || m.Talkers != 3 || m.Connected != 6 {
		t.Fatalf("media %+v, errors %v", m, res.Errors)
	}
	t.Logf("offered %d, forwarded-and-expected %d, received %d, lost %d, not forwarded %d, resumed %d, suppressed %.0f/s",
		m.Offered, m.Loss.Expected, m.Loss.Received, m.Loss.Lost, m.NotForwarded, m.Resumed, m.Server.SuppressedPerSecond)
	// Three talkers, one forwarded: about a third of what was offered is sent.
	if m.Loss.Expected < m.Offered/5 || m.Loss.Expected > m.Offered/2 {
		t.Errorf("%d of %d offered packets were forwarded, want about a third", m.Loss.Expected, m.Offered)
	}
	if m.Loss.Percent > 2 || m.Loss.Duplicates != 0 || m.Unreadable != 0 {
		t.Errorf("voices left out counted as loss: %+v", m.Loss)
	}
	if m.Resumed == 0 {
		t.Error("the loudest voice never changed: the levels do not exercise the server's choice")
	}
	if m.NotForwarded < m.Offered/2 || m.Server.SuppressedPerSecond <= 0 {
		t.Errorf("not forwarded %d of %d, server suppressed %.0f/s", m.NotForwarded, m.Offered, m.Server.SuppressedPerSecond)
	}
}
