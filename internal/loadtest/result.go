package loadtest

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what one run measured. It is also the JSON that --json-out writes.
type Result struct {
	URL           string         `json:"url"`
	Profile       string         `json:"profile"`
	Rooms         int            `json:"rooms"`
	PerRoom       int            `json:"per_room"`
	Users         int            `json:"users"`   // people the run tried to bring in
	Entered       int            `json:"entered"` // in their rooms when the window began: the people measured
	Lobby         int            `json:"lobby"`   // joined, but refused entry (room_full)
	Failed        int            `json:"failed"`  // could not join at all
	Moving        int            `json:"moving"`
	Rate          float64        `json:"update_rate"`       // updates a second of a moving person
	StillRate     float64        `json:"still_update_rate"` // and of a still one
	StartedAt     time.Time      `json:"started_at"`
	WindowSeconds float64        `json:"window_seconds"`
	Delay         DelayStats     `json:"delay"`
	Loss          LossStats      `json:"loss"`
	Messages      MessageStats   `json:"messages"`
	Server        ServerStats    `json:"server"`
	Generator     GeneratorStats `json:"generator"`
	Media         *MediaStats    `json:"media,omitempty"` // with --media
	Errors        map[string]int `json:"errors,omitempty"`
}

// MediaStats are the voice figures of a run with --media: talkers send Opus-sized RTP through the SFU and
// every measured person receives the other talkers in its room the server forwards (all of them, or the
// loudest few with serve --media-max-voices). Delay is counted as for pose updates, on the voice packets sent
// inside the window, from the stamp in each payload. Loss is the RTP sequence gaps each receiver sees before
// in-window packets: the server numbers every receiver's stream on across what it leaves out, so a gap is a
// packet it sent and the receiver did not get (media.go).
type MediaStats struct {
	Talkers          int        `json:"talkers"`
	Connected        int        `json:"connected"` // in the room's media when the window began: the people measured
	Failed           int        `json:"failed"`    // entered the room but could not join its media or publish
	PacketsPerSecond int        `json:"packets_per_second_each"`
	PayloadBytes     [2]int     `json:"payload_bytes"` // smallest and largest voice payload
	Delay            DelayStats `json:"delay"`
	Loss             LossStats  `json:"loss"`
	// Offered is every in-window packet of every talker times the measured people in its room but the talker:
	// what would arrive if the server forwarded every voice. NotForwarded is Offered less what arrived and what
	// was lost: the packets the server left out (0 when it forwards every voice; more than 0 then would be a
	// loss the sequence numbers did not show).
	Offered      int64 `json:"offered"`
	NotForwarded int64 `json:"not_forwarded"`
	// Resumed counts the times a receiver got a voice back after the server had left a stretch of it out (the
	// stamps jump, the RTP sequence numbers do not), over the whole run.
	Resumed          int64   `json:"resumed"`
	OutPerSecond     float64 `json:"packets_out_per_second"` // at the load generator, during the window
	InPerSecond      float64 `json:"packets_in_per_second"`
	InBytesPerSecond float64 `json:"in_bytes_per_second"`
	TracksReceived   int64   `json:"tracks_received"` // others' voices that started playing, over the run
	Unreadable       int64   `json:"unreadable"`
	Server           struct {
		ForwardedPerSecond  float64 `json:"forwarded_packets_per_second"`
		SuppressedPerSecond float64 `json:"suppressed_packets_per_second"` // left out by loudest-voice forwarding
		Peers               float64 `json:"peers"`                         // at the end of the window
		Tracks              float64 `json:"tracks"`                        // published
		Streams             float64 `json:"streams"`                       // (track, receiver) pairs
	} `json:"server"`
}

// DelayStats are the delays of the pose updates sent and received inside the window: receive time minus the
// send time stamped in the update, on the one clock of the load generator's machine.
type DelayStats struct {
	Samples uint64  `json:"samples"`
	P50MS   float64 `json:"p50_ms"`
	P95MS   float64 `json:"p95_ms"`
	P99MS   float64 `json:"p99_ms"`
	MaxMS   float64 `json:"max_ms"`
	MeanMS  float64 `json:"mean_ms"`
}

// LossStats count the in-window pose updates that should have reached each person in the room and did not,
// by each sender's sequence numbers: late ones (after the drain) count as lost.
type LossStats struct {
	Expected   int64   `json:"expected"`
	Received   int64   `json:"received"`
	Lost       int64   `json:"lost"`
	Percent    float64 `json:"percent"`
	Gaps       int64   `json:"sequence_gaps"` // skipped sequence numbers over the whole run, window or not
	Duplicates int64   `json:"duplicates"`
	Foreign    int64   `json:"foreign"` // updates from another room or one's own: the relay got it wrong
}

// MessageStats count WebSocket messages at the load generator during the window: out is what the simulated
// people sent, in what they received.
type MessageStats struct {
	OutPerSecond     float64 `json:"out_per_second"`
	InPerSecond      float64 `json:"in_per_second"`
	Out              int64   `json:"out"`
	In               int64   `json:"in"`
	InBytesPerSecond float64 `json:"in_bytes_per_second"`
	PoseUpdatesOut   int64   `json:"pose_updates_out"`
	PoseUpdatesIn    int64   `json:"pose_updates_in"`
	ChatOut          int64   `json:"chat_out"`
	ChatIn           int64   `json:"chat_in"`
	FirstSyncsIn     int64   `json:"first_syncs_in"` // over the whole run
	Unreadable       int64   `json:"unreadable"`
}

// ServerStats come from the server's /metrics, read at the start and the end of the window.
type ServerStats struct {
	Version            string  `json:"version,omitempty"`
	CPUSeconds         float64 `json:"cpu_seconds"`
	CPUPercent         float64 `json:"cpu_percent"` // of one core
	UsersPerVCPU       float64 `json:"users_per_vcpu"`
	FramesInPerSecond  float64 `json:"frames_in_per_second"`
	FramesOutPerSecond float64 `json:"frames_out_per_second"`
	BytesOutPerSecond  float64 `json:"bytes_out_per_second"`
	NAFRelayedPerSec   float64 `json:"naf_relayed_per_second"`
	DroppedSlow        float64 `json:"naf_dropped_slow_consumer"`
	SlowDisconnects    float64 `json:"slow_consumer_disconnects"`
	// Rejected counts NAF messages the relay's checks dropped during the window, by reason: a load test that
	// speaks the protocol right has none.
	Rejected   map[string]float64 `json:"naf_rejected,omitempty"`
	ResidentMB float64            `json:"resident_mb"`
	Error      string             `json:"error,omitempty"` // why the figures above are missing
}

// GeneratorStats say how busy the load generator itself was: near its cores' limit, the delays it measures
// include its own queueing, and the run measures the generator rather than the server.
type GeneratorStats struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"` // of one core
	Cores      int     `json:"cores"`
	Saturated  bool    `json:"saturated"`
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func durMS(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func (r *run) result(before, after sample, drained counters) *Result {
	cfg := &r.cfg
	res := &Result{URL: r.base.String(), Profile: cfg.Profile.Name, Rooms: cfg.Rooms, PerRoom: cfg.PerRoom,
		Users: len(r.persons), Rate: cfg.Profile.Rate, StillRate: cfg.Profile.StillRate, StartedAt: r.start.UTC(),
		Errors: r.errorList()}
	for _, p := range r.persons {
		switch {
		case p.counted.Load():
			res.Entered++
		case p.state.Load() == stateLobby:
			res.Lobby++
		default:
			res.Failed++
		}
		if p.moving {
			res.Moving++
		}
	}
	secs := after.at.Sub(before.at).Seconds()
	res.WindowSeconds = round(secs, 3)

	res.Delay = delayStats(&drained.delays)

	expected := r.expectedWindow()
	res.Loss = LossStats{Expected: expected, Received: drained.gotWindow, Lost: max(expected-drained.gotWindow, 0),
		Gaps: drained.gaps, Duplicates: drained.dups, Foreign: drained.foreign}
	if expected > 0 {
		res.Loss.Percent = round(100*float64(res.Loss.Lost)/float64(expected), 4)
	}

	b, a := before.c, after.c
	m := &res.Messages
	m.Out, m.In = a.framesOut-b.framesOut, a.framesIn-b.framesIn
	m.PoseUpdatesOut, m.PoseUpdatesIn = a.posesSent-b.posesSent, a.posesIn-b.posesIn
	m.ChatOut, m.ChatIn = a.chatSent-b.chatSent, a.chatIn-b.chatIn
	m.FirstSyncsIn, m.Unreadable = drained.firstSyncsIn, drained.badIn
	if secs > 0 {
		m.OutPerSecond = round(float64(m.Out)/secs, 1)
		m.InPerSecond = round(float64(m.In)/secs, 1)
		m.InBytesPerSecond = round(float64(a.bytesIn-b.bytesIn)/secs, 0)
	}

	if r.media != nil {
		res.Media = r.mediaResult(before, after, drained, secs)
	}

	g := &res.Generator
	g.Cores = generatorCores()
	g.CPUSeconds = round((after.cpu - before.cpu).Seconds(), 3)
	if secs > 0 {
		g.CPUPercent = round(100*g.CPUSeconds/secs, 1)
	}
	g.Saturated = g.CPUPercent > 90*float64(g.Cores)

	s := &res.Server
	switch {
	case before.server == nil:
		s.Error = before.srvErr.Error()
	case after.server == nil:
		s.Error = after.srvErr.Error()
	default:
		x, y := before.server, after.server
		s.Version = y.version
		s.CPUSeconds = round(y.cpuSeconds-x.cpuSeconds, 3)
		s.ResidentMB = round(y.residentBytes/(1<<20), 1)
		s.DroppedSlow = y.nafDroppedSlow - x.nafDroppedSlow
		s.SlowDisconnects = y.slowDisconnect - x.slowDisconnect
		for reason, v := range y.nafRejected {
			if d := v - x.nafRejected[reason]; d > 0 {
				if s.Rejected == nil {
					s.Rejected = map[string]float64{}
				}
				s.Rejected[reason] = d
			}
		}
		if secs > 0 {
			s.CPUPercent = round(100*s.CPUSeconds/secs, 1)
			s.FramesInPerSecond = round((y.framesIn-x.framesIn)/secs, 1)
			s.FramesOutPerSecond = round((y.framesOut-x.framesOut)/secs, 1)
			s.BytesOutPerSecond = round((y.bytesOut-x.bytesOut)/secs, 0)
			s.NAFRelayedPerSec = round((y.nafRelayed-x.nafRelayed)/secs, 1)
		}
		if s.CPUSeconds > 0 && secs > 0 {
			// users per vCPU = users / (CPU seconds / wall seconds): the people one fully used core would hold
			// at this load, if the cost grows in proportion.
			s.UsersPerVCPU = round(float64(res.Entered)/(s.CPUSeconds/secs), 1)
		}
	}
	return res
}

// delayStats summarises a delay histogram.
func delayStats(d *histSnap) DelayStats {
	return DelayStats{Samples: d.n, P50MS: durMS(d.quantile(0.50)), P95MS: durMS(d.quantile(0.95)),
		P99MS: durMS(d.quantile(0.99)), MaxMS: durMS(time.Duration(d.maxUS) * time.Microsecond), MeanMS: durMS(d.mean())}
}

func (r *run) mediaResult(before, after sample, drained counters, secs float64) *MediaStats {
	m := &MediaStats{PacketsPerSecond: voicePerSecond, PayloadBytes: [2]int{voiceMinPayload, voiceMaxPayload}}
	for _, p := range r.persons {
		if p.talker {
			m.Talkers++
		}
		switch {
		case p.mediaCounted.Load():
			m.Connected++
		case p.mediaState.Load() == mediaFailed:
			m.Failed++
		}
	}
	v := drained.voice
	m.Delay = delayStats(&v.delays)
	expected := v.gotWindow + v.lostWindow
	m.Loss = LossStats{Expected: expected, Received: v.gotWindow, Lost: v.lostWindow,
		Gaps: v.gaps, Duplicates: v.dups, Foreign: v.foreign}
	m.Offered = r.offeredVoiceWindow()
	m.NotForwarded = max(m.Offered-expected, 0)
	m.Resumed = v.resumed
	if expected > 0 {
		m.Loss.Percent = round(100*float64(m.Loss.Lost)/float64(expected), 4)
	}
	m.TracksReceived, m.Unreadable = v.tracksIn, v.bad
	b, a := before.c.voice, after.c.voice
	if secs > 0 {
		m.OutPerSecond = round(float64(a.packetsOut-b.packetsOut)/secs, 1)
		m.InPerSecond = round(float64(a.packetsIn-b.packetsIn)/secs, 1)
		m.InBytesPerSecond = round(float64(a.bytesIn-b.bytesIn)/secs, 0)
	}
	if x, y := before.server, after.server; x != nil && y != nil && secs > 0 {
		m.Server.ForwardedPerSecond = round((y.mediaForwarded-x.mediaForwarded)/secs, 1)
		m.Server.SuppressedPerSecond = round((y.mediaSuppressed-x.mediaSuppressed)/secs, 1)
		m.Server.Peers, m.Server.Tracks, m.Server.Streams = y.mediaPeers, y.mediaTracks, y.mediaStreams
	}
	return m
}

// WriteSummary prints the result as a table.
func WriteSummary(w io.Writer, res *Result) {
	fmt.Fprintf(w, "toncon loadtest: %s profile, %d room(s) × %d = %d people, %.1f s measured, against %s\n\n",
		res.Profile, res.Rooms, res.PerRoom, res.Users, res.WindowSeconds, res.URL)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	people := fmt.Sprintf("%d in rooms", res.Entered)
	if res.Lobby > 0 {
		people += fmt.Sprintf(", %d kept in the lobby", res.Lobby)
	}
	if res.Failed > 0 {
		people += fmt.Sprintf(", %d failed", res.Failed)
	}
	if res.Moving == res.Users {
		fmt.Fprintf(tw, "people\t%s (everyone moving, %g updates/s each)\n", people, res.Rate)
	} else {
		fmt.Fprintf(tw, "people\t%s (%d moving at %g updates/s, the rest still at %g/s)\n", people, res.Moving, res.Rate, res.StillRate)
	}
	d := res.Delay
	fmt.Fprintf(tw, "delay p50 / p95 / p99 / max\t%.1f / %.1f / %.1f / %.1f ms (%d updates)\n", d.P50MS, d.P95MS, d.P99MS, d.MaxMS, d.Samples)
	l := res.Loss
	fmt.Fprintf(tw, "loss\t%.2f %% (%d of %d; sequence gaps %d, duplicates %d)\n", l.Percent, l.Lost, l.Expected, l.Gaps, l.Duplicates)
	m := res.Messages
	fmt.Fprintf(tw, "messages per second\tout %s (people → server), in %s (server → people), %.1f MB/s in\n",
		count(m.OutPerSecond), count(m.InPerSecond), m.InBytesPerSecond/1e6)
	fmt.Fprintf(tw, "chat\t%d sent, %d received\n", m.ChatOut, m.ChatIn)
	s := res.Server
	if s.Error != "" {
		fmt.Fprintf(tw, "server CPU\tunknown: %s\n", s.Error)
	} else {
		fmt.Fprintf(tw, "server CPU\t%.2f s in %.1f s = %.1f %% of one core (process_cpu_seconds_total)\n", s.CPUSeconds, res.WindowSeconds, s.CPUPercent)
		if s.UsersPerVCPU > 0 {
			fmt.Fprintf(tw, "users per vCPU\t%.0f (%d people / %.3f vCPU busy)\n", s.UsersPerVCPU, res.Entered, s.CPUPercent/100)
		}
		fmt.Fprintf(tw, "server frames per second\tin %s, out %s; %.1f MB/s out; %.0f MB resident\n",
			count(s.FramesInPerSecond), count(s.FramesOutPerSecond), s.BytesOutPerSecond/1e6, s.ResidentMB)
		if s.DroppedSlow > 0 || s.SlowDisconnects > 0 {
			fmt.Fprintf(tw, "server drops\t%.0f updates dropped for slow receivers, %.0f slow-consumer disconnects\n", s.DroppedSlow, s.SlowDisconnects)
		}
	}
	if v := res.Media; v != nil {
		voice := fmt.Sprintf("%d talking of %d in rooms, %d packets/s of %d–%d bytes each; %d connected to media",
			v.Talkers, res.Users, v.PacketsPerSecond, v.PayloadBytes[0], v.PayloadBytes[1], v.Connected)
		if v.Failed > 0 {
			voice += fmt.Sprintf(", %d failed", v.Failed)
		}
		fmt.Fprintf(tw, "voice\t%s\n", voice)
		d := v.Delay
		fmt.Fprintf(tw, "voice delay p50 / p95 / p99 / max\t%.1f / %.1f / %.1f / %.1f ms (%d packets)\n", d.P50MS, d.P95MS, d.P99MS, d.MaxMS, d.Samples)
		l := v.Loss
		fmt.Fprintf(tw, "voice loss\t%.2f %% (%d of %d; sequence gaps %d, duplicates %d)\n", l.Percent, l.Lost, l.Expected, l.Gaps, l.Duplicates)
		if v.NotForwarded > 0 {
			fmt.Fprintf(tw, "voice not forwarded\t%.1f %% (%d of %d in-window packets offered: voices the server left out; %d came back)\n",
				100*float64(v.NotForwarded)/float64(max(v.Offered, 1)), v.NotForwarded, v.Offered, v.Resumed)
		}
		fmt.Fprintf(tw, "voice packets per second\tout %s (talkers → SFU), in %s (SFU → people), %.1f MB/s in\n",
			count(v.OutPerSecond), count(v.InPerSecond), v.InBytesPerSecond/1e6)
		if s.Error == "" {
			fmt.Fprintf(tw, "media server\tforwarded %s packets/s, suppressed %s; %.0f peers, %.0f tracks, %.0f streams\n",
				count(v.Server.ForwardedPerSecond), count(v.Server.SuppressedPerSecond), v.Server.Peers, v.Server.Tracks, v.Server.Streams)
		}
	}
	g := res.Generator
	fmt.Fprintf(tw, "load generator CPU\t%.1f %% of one core (%d cores usable)\n", g.CPUPercent, g.Cores)
	tw.Flush()
	var notes []string
	if g.Saturated {
		notes = append(notes, "the load generator was near its CPU limit: the delays include its own queueing; give it more cores or fewer people")
	}
	if l.Foreign > 0 {
		notes = append(notes, fmt.Sprintf("%d updates arrived in the wrong room or back at their sender", l.Foreign))
	}
	if v := res.Media; v != nil && v.Loss.Foreign > 0 {
		notes = append(notes, fmt.Sprintf("%d voice packets arrived in the wrong room or back at their sender", v.Loss.Foreign))
	}
	if v := res.Media; v != nil && v.Unreadable > 0 {
		notes = append(notes, fmt.Sprintf("%d voice packets had no readable stamp", v.Unreadable))
	}
	if m.Unreadable > 0 {
		notes = append(notes, fmt.Sprintf("%d updates had no readable stamp", m.Unreadable))
	}
	for reason, n := range s.Rejected {
		notes = append(notes, fmt.Sprintf("the server's relay dropped %.0f of the simulated NAF messages (%s)", n, reason))
	}
	for _, e := range topErrors(res.Errors, 5) {
		notes = append(notes, e)
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nnotes:\n  %s\n", strings.Join(notes, "\n  "))
	}
}
