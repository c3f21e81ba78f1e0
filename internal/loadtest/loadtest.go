// Package loadtest simulates people in toncon rooms to measure what a server holds. Each simulated person speaks
// the real-time protocol the browser speaks (protocol.md): it joins a hub through the lobby, enters, first-syncs
// its avatar, sends pose updates as NAF messages at a set rate, chats now and then and heartbeats. Every update
// carries its send time and a per-sender sequence number, so receivers measure the delay of others' updates and
// the updates lost. The server's CPU time comes from its own /metrics.
//
// It talks to the one URL it is given and nothing else: rooms are made through that server's API, and neither
// redirects, proxies from the environment nor the media host in join replies are followed. Every phase has a
// deadline, so a run ends by itself.
//
// With Media set, they also join the room's media server (the SFU) as the browser does; a share of them talk,
// sending Opus-sized RTP packets stamped like the pose updates, and everyone receives everyone's voice, so the
// delay and loss of voice are measured too (media.go).
package loadtest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Profile is how the simulated people behave.
type Profile struct {
	Name string
	// Rate is the pose updates a second of a moving person; StillRate those of a still one (head turns only).
	Rate, StillRate float64
	// MovingOneIn makes one person in this many move; the rest are still. 1 means everyone moves.
	MovingOneIn int
	// SingleRoom puts everyone in one room.
	SingleRoom bool
	// TalkShare is the share of each room that talks with Config.Media; 0 means one person per room.
	TalkShare float64
}

// Profiles are the behaviours the seed's capacity chart distinguishes, plus one room for the per-room ceiling.
var Profiles = map[string]Profile{
	"active":      {Name: "active", Rate: 10, StillRate: 10, MovingOneIn: 1, TalkShare: 1.0 / 3},
	"inactive":    {Name: "inactive", Rate: 10, StillRate: 1, MovingOneIn: 10},
	"single-room": {Name: "single-room", Rate: 10, StillRate: 10, MovingOneIn: 1, SingleRoom: true, TalkShare: 1.0 / 3},
}

// ProfileNames lists the profiles in the order help texts show them.
var ProfileNames = []string{"active", "inactive", "single-room"}

// Config is one load test run. URL, Rooms, PerRoom, Duration and Profile are required.
type Config struct {
	URL     string      // the server's base URL, http:// or https://
	TLS     *tls.Config // for https; nil verifies against the system's roots
	Profile Profile
	Rooms   int
	PerRoom int
	// Duration is the measured window. Before it everyone joins and a warmup lets first syncs settle; after
	// it nobody sends and a drain lets updates in flight arrive.
	Duration, Warmup, Drain time.Duration
	// ChatEvery is how often, on average, one person sends a chat message; 0 means never.
	ChatEvery time.Duration
	// HeartbeatEvery is the Phoenix heartbeat; default 30 s, as the phoenix client.
	HeartbeatEvery time.Duration
	// ConnectRate is how many people join a second during the ramp; default 100.
	ConnectRate float64
	// Progress, when set, is called every ProgressEvery (default 1 s) on its own goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// RunName names the rooms the run creates; default "loadtest <time>".
	RunName string
	// Media adds voice: everyone joins the room's media server at <URL>/media/socket and receives; a share
	// of each room (Talkers, or the profile's) publishes a voice.
	Media bool
	// Talkers is the share of each room that talks, from 0 to 1; 0 takes the profile's.
	Talkers float64
}

// talkShare is the share of each room that talks: Talkers when set, else the profile's.
func (c *Config) talkShare() float64 {
	if c.Talkers > 0 {
		return c.Talkers
	}
	return c.Profile.TalkShare
}

// Limits that keep a mistyped flag from turning into a runaway run.
const (
	MaxUsers       = 20000
	MaxDuration    = time.Hour
	maxRate        = 60
	defaultConnect = 100
)

// Validate checks the configuration without contacting anyone: errors name the flag to change.
func (c *Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("--url %q: give the server's base URL, such as https://localhost:4000", c.URL)
	case u.Path != "" && u.Path != "/":
		return fmt.Errorf("--url %q: give the base URL without a path", c.URL)
	case c.Rooms < 1 || c.PerRoom < 1:
		return errors.New("--rooms and --per-room must be at least 1")
	case c.Rooms*c.PerRoom > MaxUsers:
		return fmt.Errorf("%d rooms × %d people is more than %d people", c.Rooms, c.PerRoom, MaxUsers)
	case c.Profile.SingleRoom && c.Rooms != 1:
		return errors.New("the single-room profile puts everyone in one room: use --rooms 1 and --per-room for the people")
	case c.Duration <= 0 || c.Duration > MaxDuration:
		return fmt.Errorf("--duration must be more than 0 and at most %v", MaxDuration)
	case c.Warmup < 0 || c.Drain < 0 || c.Warmup > time.Minute || c.Drain > time.Minute:
		return errors.New("--warmup and --drain must be from 0 to 1m")
	case !(c.Profile.Rate > 0 && c.Profile.Rate <= maxRate) || !(c.Profile.StillRate > 0 && c.Profile.StillRate <= maxRate):
		return fmt.Errorf("update rates must be more than 0 and at most %d a second", maxRate)
	case c.Profile.MovingOneIn < 1:
		return errors.New("--moving-one-in must be at least 1")
	case c.ChatEvery < 0 || (c.ChatEvery > 0 && c.ChatEvery < time.Second):
		return errors.New("--chat-every must be 0 (no chat) or at least 1s")
	case c.Talkers < 0 || c.Talkers > 1:
		return errors.New("--talkers is the share of each room that talks: from 0 (the profile's) to 1")
	case c.Talkers > 0 && !c.Media:
		return errors.New("--talkers needs --media: without media nobody talks")
	case c.ConnectRate < 0 || c.HeartbeatEvery < 0 || c.ProgressEvery < 0:
		return errors.New("rates and intervals must not be negative")
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.HeartbeatEvery == 0 {
		c.HeartbeatEvery = 30 * time.Second
	}
	if c.ConnectRate == 0 {
		c.ConnectRate = defaultConnect
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = time.Second
	}
	if c.RunName == "" {
		c.RunName = "loadtest " + time.Now().UTC().Format("2006-01-02 15:04:05")
	}
}

// run is the state one Run shares between its people and its coordinator.
type run struct {
	cfg       Config
	base      *url.URL
	socketURL string
	http      *http.Client
	media     *mediaKit // nil without Config.Media
	start     time.Time

	// The measured window in Unix microseconds, [windowStart, windowEnd). Unset (MaxInt64) until the ramp is over.
	windowStart, windowEnd atomic.Int64
	closeAll               chan struct{} // closed when everyone should leave

	rooms   []*room
	persons []*person

	errMu  sync.Mutex // guards errors
	errors map[string]int
}

func (r *run) inWindow(us int64) bool { return us >= r.windowStart.Load() && us < r.windowEnd.Load() }

func (r *run) fail(reason string) {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if len(r.errors) < 50 || r.errors[reason] > 0 {
		r.errors[reason]++
	} else {
		r.errors["other errors"]++
	}
}

// Run performs one load test and returns its result. It ends by itself: each phase has a deadline.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	base, _ := url.Parse(cfg.URL)
	base.Path, base.RawQuery, base.Fragment = "", "", ""
	users := cfg.Rooms * cfg.PerRoom
	rampBudget := time.Duration(float64(users)/cfg.ConnectRate*float64(time.Second)) + 30*time.Second
	ctx, cancel := context.WithTimeout(ctx, rampBudget+cfg.Warmup+cfg.Duration+cfg.Drain+30*time.Second)
	defer cancel()

	r := &run{cfg: cfg, base: base, http: newHTTPClient(cfg.TLS), start: time.Now(),
		closeAll: make(chan struct{}), errors: map[string]int{}}
	r.windowStart.Store(math.MaxInt64)
	r.windowEnd.Store(math.MaxInt64)
	ws := *base
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[base.Scheme]
	ws.Path, ws.RawQuery = "/socket/websocket", "vsn=2.0.0"
	r.socketURL = ws.String()
	defer r.http.CloseIdleConnections()

	if cfg.Media {
		var err error
		if r.media, err = newMediaKit(base, cfg.TLS); err != nil {
			return nil, err
		}
		defer r.media.http.CloseIdleConnections()
	}
	if err := r.makeRooms(ctx); err != nil {
		return nil, err
	}
	for i := range users {
		rm := r.rooms[i/cfg.PerRoom]
		r.persons = append(r.persons, newPerson(r, i, rm, i-rm.base))
	}

	var wg sync.WaitGroup
	defer func() {
		closeOnce(r.closeAll)
		wg.Wait()
	}()
	stopProgress := r.startProgress(ctx)
	defer stopProgress()

	// Ramp: people join at ConnectRate, each on its own goroutine.
	var joined sync.WaitGroup
	interval := time.Duration(float64(time.Second) / cfg.ConnectRate)
	tick := time.NewTicker(interval)
	for _, p := range r.persons {
		wg.Add(1)
		joined.Add(1)
		go func() {
			defer wg.Done()
			p.live(ctx, joined.Done)
		}()
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	tick.Stop()
	if !waitTimeout(ctx, &joined, rampBudget) {
		r.fail("joins still unfinished when the ramp's time was up")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ramp: %w", err)
	}
	if !sleep(ctx, cfg.Warmup) {
		return nil, ctx.Err()
	}

	// The measured window starts a little in the future, so that every send stamped inside it was made after
	// the window was published: senders and receivers then agree on which updates count.
	t0 := time.Now().Add(100 * time.Millisecond)
	t1 := t0.Add(cfg.Duration)
	for _, p := range r.persons {
		p.counted.Store(p.state.Load() == stateEntered)
		p.mediaCounted.Store(p.counted.Load() && p.mediaState.Load() == mediaReady)
	}
	r.windowEnd.Store(t1.UnixMicro())
	r.windowStart.Store(t0.UnixMicro())
	if !sleepUntil(ctx, t0) {
		return nil, ctx.Err()
	}
	before := r.sample(ctx)
	if !sleepUntil(ctx, t1) {
		return nil, ctx.Err()
	}
	after := r.sample(ctx)
	if !sleep(ctx, cfg.Drain) {
		return nil, ctx.Err()
	}
	drained := r.counters()
	closeOnce(r.closeAll)
	wg.Wait()
	return r.result(before, after, drained), nil
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool { return sleep(ctx, time.Until(t)) }

func waitTimeout(ctx context.Context, wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// sample is what the run and the server had counted at one moment.
type sample struct {
	at     time.Time
	c      counters
	server *serverSample // nil when /metrics could not be read
	srvErr error
	cpu    time.Duration // the load generator's own CPU time
}

func (r *run) sample(ctx context.Context) sample {
	// The time is taken with the generator's own counters, not after the scrape: a slow /metrics would
	// otherwise stretch or shrink the interval the counts are divided by.
	s := sample{c: r.counters(), cpu: processCPU(), at: time.Now()}
	s.server, s.srvErr = r.scrape(ctx)
	return s
}

// counters sums every person's counters (histograms included).
type counters struct {
	framesOut, framesIn, bytesIn               int64
	posesSent, posesIn, firstSyncsIn           int64
	chatSent, chatIn, otherIn, badIn           int64
	sentWindow, gotWindow, gaps, dups, foreign int64
	delays                                     histSnap
	voice                                      voiceSnap
}

// voiceSnap sums voiceCounters.
type voiceSnap struct {
	packetsOut, packetsIn, bytesIn, tracksIn int64
	sentWindow, gotWindow, lostWindow        int64
	resumed                                  int64
	gaps, dups, foreign, bad                 int64
	delays                                   histSnap
}

func (s *voiceSnap) add(v *voiceCounters) {
	s.packetsOut += v.packetsOut.Load()
	s.packetsIn += v.packetsIn.Load()
	s.bytesIn += v.bytesIn.Load()
	s.tracksIn += v.tracksIn.Load()
	s.sentWindow += v.sentWindow.Load()
	s.gotWindow += v.gotWindow.Load()
	s.lostWindow += v.lostWindow.Load()
	s.resumed += v.resumed.Load()
	s.gaps += v.gaps.Load()
	s.dups += v.dups.Load()
	s.foreign += v.foreign.Load()
	s.bad += v.bad.Load()
	s.delays.add(&v.delays)
}

func (r *run) counters() counters {
	var c counters
	for _, p := range r.persons {
		c.framesOut += p.framesOut.Load()
		c.framesIn += p.framesIn.Load()
		c.bytesIn += p.bytesIn.Load()
		c.posesSent += p.posesSent.Load()
		c.posesIn += p.posesIn.Load()
		c.firstSyncsIn += p.firstSyncsIn.Load()
		c.chatSent += p.chatSent.Load()
		c.chatIn += p.chatIn.Load()
		c.otherIn += p.otherIn.Load()
		c.badIn += p.badIn.Load()
		c.sentWindow += p.sentWindow.Load()
		c.gotWindow += p.gotWindow.Load()
		c.gaps += p.gaps.Load()
		c.dups += p.dups.Load()
		c.foreign += p.foreign.Load()
		c.delays.add(&p.delays)
		if r.media != nil {
			c.voice.add(&p.voice)
		}
	}
	return c
}

// offeredVoiceWindow is how many in-window voice packets would arrive if the server forwarded every voice:
// every measured person would receive every in-window packet of every other measured person who talks in its
// room. With loudest-voice forwarding fewer are sent; see media.go for how loss is counted then.
func (r *run) offeredVoiceWindow() int64 {
	var total int64
	for _, rm := range r.rooms {
		var sent, receivers int64
		for _, p := range r.persons[rm.base : rm.base+rm.size] {
			if p.mediaCounted.Load() {
				receivers++
				sent += p.voice.sentWindow.Load()
			}
		}
		total += sent*receivers - sent
	}
	return total
}

// expectedWindow is how many in-window updates should have arrived: each counted person should receive every
// in-window update of every other counted person in its room.
func (r *run) expectedWindow() int64 {
	var total int64
	for _, rm := range r.rooms {
		var sent, receivers int64
		members := r.persons[rm.base : rm.base+rm.size]
		for _, p := range members {
			if p.counted.Load() {
				receivers++
				sent += p.sentWindow.Load()
			}
		}
		// Everyone receives all the room's updates except their own.
		total += sent*receivers - sent
	}
	return total
}

func (r *run) errorList() map[string]int {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if len(r.errors) == 0 {
		return nil
	}
	out := make(map[string]int, len(r.errors))
	for k, v := range r.errors {
		out[k] = v
	}
	return out
}

// states a person goes through.
const (
	stateConnecting int32 = iota
	stateLobby            // joined, but the room would not let it in (room_full)
	stateEntered
	stateFailed
)

func (r *run) stateCounts() (entered, lobby, failed, connecting int) {
	for _, p := range r.persons {
		switch p.state.Load() {
		case stateEntered:
			entered++
		case stateLobby:
			lobby++
		case stateFailed:
			failed++
		default:
			connecting++
		}
	}
	return
}

// topErrors returns the most frequent error texts, for a summary.
func topErrors(m map[string]int, n int) []string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || (list[i].v == list[j].v && list[i].k < list[j].k) })
	var out []string
	for i, e := range list {
		if i == n {
			break
		}
		out = append(out, fmt.Sprintf("%d× %s", e.v, e.k))
	}
	return out
}

// generatorCores is how many cores the load generator may use.
func generatorCores() int { return runtime.GOMAXPROCS(0) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
