package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"toncon/internal/loadtest"
)

const loadtestSummary = `Simulate people in rooms of a running toncon and measure what it holds: each joins a room through the
lobby, enters, sends avatar pose updates (NAF) at a set rate, chats now and then and heartbeats, and measures
the delay and loss of everyone else's updates. The server's CPU time comes from its /metrics. It talks to --url
and nothing else.

With --media everyone also joins the room's voice at <url>/media/socket as the browser does (WebRTC with
Pion): a share of each room talks (--talkers), sending Opus-sized RTP at 50 packets/s, and everyone receives
and measures the delay and loss of every voice.

Profiles: active (everyone moving, 10 updates/s; with --media a third talk), inactive (one in 10 moving, the
rest still at 1 update/s; with --media one speaker per room), single-room (as active, everyone in one room: use
--per-room for the people).

  toncon loadtest --url https://localhost:4000 --ca data/tls/ca.pem --rooms 10 --per-room 24 --duration 60s
  toncon loadtest capacity --url http://127.0.0.1:4000 --slo "p99<200ms,loss<1%"   (see its --help)

A live progress line goes to stderr, the summary to stdout, and the full result as JSON to --json-out.`

const capacitySummary = `Raise the number of people step by step, doubling while the service level holds, then bisecting between
the most that held and the fewest that broke it, for each profile. Report the most each held and the server's
users per vCPU there (people / (server CPU seconds / wall seconds)), and write the capacity file that
'toncon cost --capacity' reads (it needs the active and the inactive profile).

  toncon loadtest capacity --url http://127.0.0.1:4000 --slo "p99<200ms,loss<1%" --machine "EPYC, server on 1 core"

For figures per vCPU, pin the server to one core and the load generator to others (docs/capacity.md).`

// runFlags are the flags of one run that loadtest and loadtest capacity share.
type runFlags struct {
	url, caFile, profile         string
	insecure                     bool
	perRoom, movingOneIn         int
	rate, stillRate, connectRate float64
	warmup, drain, chatEvery     time.Duration
	jsonOut, cpuProfile          string
	media                        bool
	talkers                      float64
}

func (f *runFlags) register(fs *flagSet, perRoomUsage string) {
	fs.String(&f.url, "url", "", "base URL of the toncon server under test, e.g. https://localhost:4000 (required)")
	fs.String(&f.caFile, "ca", "", "PEM file of the CA to trust for https, e.g. the server's data/tls/ca.pem")
	fs.Bool(&f.insecure, "insecure", false, "accept any certificate (a self-signed server without --ca); never against a server you do not run")
	fs.Int(&f.perRoom, "per-room", 24, perRoomUsage)
	fs.Float(&f.rate, "rate", 0, "pose updates a second of a moving person (0: the profile's, 10)")
	fs.Float(&f.stillRate, "still-rate", 0, "pose updates a second of a still person (0: the profile's; inactive 1)")
	fs.Int(&f.movingOneIn, "moving-one-in", 0, "one person in this many moves (0: the profile's; active 1, inactive 10)")
	fs.Duration(&f.warmup, "warmup", 3*time.Second, "after everyone has joined, wait this long before measuring")
	fs.Duration(&f.drain, "drain", 2*time.Second, "after the measurement, wait this long for updates in flight")
	fs.Duration(&f.chatEvery, "chat-every", 30*time.Second, "each person sends a chat message this often on average (0: never)")
	fs.Float(&f.connectRate, "connect-rate", 100, "people joining a second while the run starts")
	fs.Bool(&f.media, "media", false, "add voice: everyone joins the room's media server (the SFU) and receives, a share talks")
	fs.Float(&f.talkers, "talkers", 0, "with --media, the share of each room that talks, e.g. 0.33 (0: the profile's; active a third, inactive one person)")
	fs.String(&f.jsonOut, "json-out", "", "write the full result as JSON to this file")
	fs.String(&f.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file (is it the bottleneck?)")
}

// profileCPU starts the load generator's CPU profile when --cpuprofile is given; stop ends it.
func (f *runFlags) profileCPU() (stop func(), err error) {
	if f.cpuProfile == "" {
		return func() {}, nil
	}
	out, err := os.Create(f.cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); out.Close() }, nil
}

// config turns the flags into a run's configuration for one profile.
func (f *runFlags) config(profileName string) (loadtest.Config, error) {
	prof, ok := loadtest.Profiles[profileName]
	if !ok {
		return loadtest.Config{}, fmt.Errorf("--profile %q: use one of %s", profileName, strings.Join(loadtest.ProfileNames, ", "))
	}
	if f.rate != 0 {
		if prof.StillRate == prof.Rate {
			prof.StillRate = f.rate // a profile where everyone moves keeps one rate for all
		}
		prof.Rate = f.rate
	}
	if f.stillRate != 0 {
		prof.StillRate = f.stillRate
	}
	if f.movingOneIn != 0 {
		prof.MovingOneIn = f.movingOneIn
	}
	if f.url == "" {
		return loadtest.Config{}, errors.New("--url is required: the base URL of the server under test")
	}
	tlsConfig, err := f.tlsConfig()
	if err != nil {
		return loadtest.Config{}, err
	}
	return loadtest.Config{URL: strings.TrimSuffix(f.url, "/"), TLS: tlsConfig, Profile: prof, PerRoom: f.perRoom,
		Warmup: f.warmup, Drain: f.drain, ChatEvery: f.chatEvery, ConnectRate: f.connectRate, Media: f.media, Talkers: f.talkers}, nil
}

func (f *runFlags) tlsConfig() (*tls.Config, error) {
	switch {
	case f.insecure && f.caFile != "":
		return nil, errors.New("give --ca or --insecure, not both")
	case f.insecure:
		return &tls.Config{InsecureSkipVerify: true}, nil //nolint:gosec // asked for explicitly with --insecure
	case f.caFile != "":
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", f.caFile)
		}
		return &tls.Config{RootCAs: pool}, nil
	}
	return nil, nil // the system's roots
}

func runLoadtest(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && args[0] == "capacity" {
		return runCapacity(ctx, args[1:], env)
	}
	var (
		f        runFlags
		rooms    int
		duration time.Duration
	)
	fs := newFlagSet("loadtest", loadtestSummary, env.Stderr)
	f.register(fs, "people in each room (with --profile single-room: everyone)")
	fs.String(&f.profile, "profile", "active", "active, inactive or single-room")
	fs.Int(&rooms, "rooms", 1, "rooms to make and fill")
	fs.Duration(&duration, "duration", 30*time.Second, "how long to measure, after everyone has joined")
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	cfg, err := f.config(f.profile)
	if err != nil {
		fmt.Fprintf(env.Stderr, "toncon loadtest: %v\n", err)
		return exitUsage
	}
	cfg.Rooms, cfg.Duration = rooms, duration
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "toncon loadtest: %v\n", err)
		return exitUsage
	}
	stopProfile, err := f.profileCPU()
	if err != nil {
		fmt.Fprintf(env.Stderr, "toncon loadtest: %v\n", err)
		return exitError
	}
	prog := newProgressPrinter(env.Stderr)
	cfg.Progress, cfg.ProgressEvery = prog.print, prog.every
	res, err := loadtest.Run(ctx, cfg)
	prog.finish()
	stopProfile()
	if err != nil {
		fmt.Fprintf(env.Stderr, "toncon loadtest: %v\n", err)
		return exitError
	}
	loadtest.WriteSummary(env.Stdout, res)
	if f.jsonOut != "" {
		if err := writeJSONFile(f.jsonOut, res); err != nil {
			fmt.Fprintf(env.Stderr, "toncon loadtest: %v\n", err)
			return exitError
		}
	}
	if res.Entered == 0 {
		fmt.Fprintf(env.Stderr, "toncon loadtest: nobody got into a room; the notes above say why\n")
		return exitError
	}
	return exitOK
}

func runCapacity(ctx context.Context, args []string, env Env) int {
	var (
		f                               runFlags
		sloText, profiles, out, machine string
		start, unit, maxUsers, steps    int
		growth                          float64
		stepDuration, pause             time.Duration
	)
	fs := newFlagSet("loadtest capacity", capacitySummary, env.Stderr)
	f.register(fs, "people in each room for the active and inactive profiles")
	fs.String(&sloText, "slo", "p99<200ms,loss<1%", "service level each step must hold: p50/p95/p99/max<duration and loss<percent, comma separated")
	fs.String(&profiles, "profiles", "active,inactive", "profiles to measure, comma separated: active, inactive, single-room")
	fs.Int(&start, "start", 0, "people in the first step (0: two rooms' worth; 20 for single-room)")
	fs.Int(&unit, "unit", 0, "steps are whole multiples of this many people (0: --per-room; 10 for single-room)")
	fs.Int(&maxUsers, "max-users", 2000, "never more people than this in a step")
	fs.Float(&growth, "growth", 2, "while the service level holds, multiply the people by this each step")
	fs.Int(&steps, "max-steps", 10, "at most this many steps per profile")
	fs.Duration(&stepDuration, "step-duration", 20*time.Second, "how long each step measures")
	fs.Duration(&pause, "pause", 2*time.Second, "pause between steps, for the server to close the last step's sockets")
	fs.String(&out, "out", "capacity.json", "capacity file to write for toncon cost --capacity (needs active and inactive)")
	fs.String(&machine, "machine", "", "what the server ran on, for the capacity file, e.g. \"EPYC 7B13, server pinned to 1 core\" (default: this CPU)")
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	usage := func(err error) int {
		fmt.Fprintf(env.Stderr, "toncon loadtest capacity: %v\n", err)
		return exitUsage
	}
	slo, err := loadtest.ParseSLO(sloText)
	if err != nil {
		return usage(fmt.Errorf("--slo: %w", err))
	}
	var names []string
	for _, n := range strings.Split(profiles, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return usage(errors.New("--profiles: name at least one of active, inactive, single-room"))
	}
	if maxUsers < 1 || maxUsers > loadtest.MaxUsers {
		return usage(fmt.Errorf("--max-users must be from 1 to %d", loadtest.MaxUsers))
	}
	if machine == "" {
		machine = loadtest.DescribeMachine()
	}
	type plan struct {
		name string
		cfg  loadtest.Config
		sc   loadtest.SearchConfig
	}
	var plans []plan
	for _, name := range names {
		cfg, err := f.config(name)
		if err != nil {
			return usage(err)
		}
		cfg.Duration, cfg.Rooms = stepDuration, 1
		sc := loadtest.SearchConfig{Start: start, Unit: unit, Max: maxUsers, Growth: growth, MaxSteps: steps}
		if sc.Unit == 0 {
			sc.Unit = f.perRoom
			if cfg.Profile.SingleRoom {
				sc.Unit = 10
			}
		}
		if sc.Start == 0 {
			sc.Start = 2 * sc.Unit
		}
		if !cfg.Profile.SingleRoom && sc.Unit%f.perRoom != 0 {
			return usage(fmt.Errorf("--unit %d: steps fill whole rooms, so it must be a multiple of --per-room %d", sc.Unit, f.perRoom))
		}
		probe := cfg // the smallest step, to check the flags before the first run
		probe.PerRoom = 1
		if err := probe.Validate(); err != nil {
			return usage(err)
		}
		plans = append(plans, plan{name, cfg, sc})
	}

	rep := &loadtest.CapacityReport{Machine: machine, MeasuredAt: time.Now(), SLO: slo.String(), PerRoom: f.perRoom, Media: f.media, Talkers: f.talkers,
		Profiles: map[string]*loadtest.SearchResult{}}
	var results []*loadtest.Result
	prog := newProgressPrinter(env.Stderr)
	for _, p := range plans {
		p.cfg.Progress, p.cfg.ProgressEvery = prog.print, prog.every
		prober := &loadtest.RunProber{Base: p.cfg, Pause: pause, OnResult: func(r *loadtest.Result) {
			results = append(results, r)
			if r.Server.Version != "" {
				rep.Version = r.Server.Version
			}
		}}
		p.sc.OnStep = func(st loadtest.Step) {
			prog.finish()
			verdict := "held"
			if !st.Held {
				verdict = "broke: " + st.Why
			}
			fmt.Fprintf(env.Stderr, "%s: %d people: p99 %.1f ms, loss %.2f%%, server CPU %.0f%%, %.0f users/vCPU: %s\n",
				p.name, st.Users, st.P99MS, st.LossPercent, 100*st.ServerCPUSeconds/max(st.WallSeconds, 1e-9), st.UsersPerVCPU, verdict)
		}
		res, err := loadtest.Search(ctx, prober, slo, p.sc)
		prog.finish()
		if res != nil {
			rep.Profiles[p.name] = res
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "toncon loadtest capacity: %s: %v\n", p.name, err)
			writeCapacitySummary(env.Stdout, rep, names, f.url)
			return exitError
		}
	}
	writeCapacitySummary(env.Stdout, rep, names, f.url)
	if f.jsonOut != "" {
		if err := writeJSONFile(f.jsonOut, map[string]any{"report": rep, "runs": results}); err != nil {
			fmt.Fprintf(env.Stderr, "toncon loadtest capacity: %v\n", err)
			return exitError
		}
	}
	if out == "" {
		return exitOK
	}
	if rep.Profiles["active"] == nil || rep.Profiles["inactive"] == nil {
		fmt.Fprintf(env.Stdout, "\nno capacity file written: it needs both the active and the inactive profile\n")
		return exitOK
	}
	b, err := rep.CapacityFile()
	if err != nil {
		fmt.Fprintf(env.Stderr, "toncon loadtest capacity: %v\n", err)
		return exitError
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		fmt.Fprintf(env.Stderr, "toncon loadtest capacity: %v\n", err)
		return exitError
	}
	fmt.Fprintf(env.Stdout, "\nwrote %s: plan with it using toncon cost estimate --capacity %s ...\n", out, out)
	return exitOK
}

func writeCapacitySummary(w io.Writer, rep *loadtest.CapacityReport, names []string, url string) {
	fmt.Fprintf(w, "toncon loadtest capacity: SLO %s, rooms of %d (single-room: everyone in one), against %s\nmachine: %s\n\n",
		rep.SLO, rep.PerRoom, url, rep.Machine)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "profile\tmost held\tusers/vCPU\tp99 there\tloss there\tbroke at\twhy\tsteps\tended")
	for _, n := range names {
		s := rep.Profiles[n]
		if s == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\tnot measured\t0\t-\n", n)
			continue
		}
		held, perVCPU, p99, loss := "none", "-", "-", "-"
		if b := s.Best; b != nil {
			held = fmt.Sprint(b.Users - b.Failed)
			perVCPU = fmt.Sprintf("%.0f", b.UsersPerVCPU)
			p99 = fmt.Sprintf("%.1f ms", b.P99MS)
			loss = fmt.Sprintf("%.2f %%", b.LossPercent)
		}
		broke, why := "-", "-"
		if b := s.Broken; b != nil {
			broke, why = fmt.Sprint(b.Users), b.Why
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", n, held, perVCPU, p99, loss, broke, why, len(s.Steps), s.Ceiling)
	}
	tw.Flush()
}

func writeJSONFile(path string, v any) error {
	var b bytes.Buffer
	if err := encodeJSON(&b, v); err != nil {
		return fmt.Errorf("encode the result: %w", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--json-out: %w", err)
	}
	return nil
}

// progressPrinter shows a run's progress on stderr: one line rewritten in place on a terminal, a line every
// few seconds otherwise (a log file or CI), so the output stays readable either way.
type progressPrinter struct {
	mu    sync.Mutex // guards w and open
	w     io.Writer
	tty   bool
	open  bool // a rewritten line is on screen and needs a newline before anything else is printed
	every time.Duration
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	p := &progressPrinter{w: w, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, time.Second
		}
	}
	return p
}

func (p *progressPrinter) print(pr loadtest.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", pr)
		p.open = true
		return
	}
	fmt.Fprintln(p.w, pr)
}

// finish ends a rewritten line, so what comes next starts on its own.
func (p *progressPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}
