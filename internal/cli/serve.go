package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"toncon/internal/cost"
	"toncon/internal/phx"
	"toncon/internal/server"
	"toncon/internal/uploads"
)

func runServe(ctx context.Context, args []string, env Env) int {
	var (
		cfg                 server.Config
		tlsMode, hosts      string
		logLevel, logFormat string
		capacityFile        string
		idle                time.Duration
		maxFrame            int
		uploadMB            = map[string]*int{}
		minFreeGB, maxGB    int
	)
	fs := newFlagSet("serve", "Run toncon: rooms, the API and the web apps, over HTTPS by default.\n"+
		"The first run creates the data folder with the database, a self-signed certificate and the signing keys.", env.Stderr)
	fs.String(&cfg.Addr, "addr", ":4000", "address to listen on (host:port; port 0 picks a free one)")
	fs.String(&cfg.DataDir, "data", "./data", "data folder: database, uploaded files, certificate and keys")
	fs.String(&tlsMode, "tls", "on", "on: HTTPS with the data folder's self-signed certificate; off: plain HTTP, for running behind a proxy that terminates TLS")
	fs.String(&hosts, "tls-hosts", "", "extra host names or IP addresses for the self-signed certificate, comma separated")
	fs.String(&cfg.PublicURL, "public-url", "", "the URL people open, when it is not https://localhost:<port> (e.g. https://events.example.org)")
	fs.Duration(&idle, "idle-timeout", 60*time.Second, "close a socket that sends nothing for this long (clients heartbeat every 30s)")
	fs.Int(&maxFrame, "max-frame-bytes", 64<<10, "largest WebSocket message accepted; bigger ones close the socket")
	fs.Bool(&cfg.Pprof, "pprof", false, "serve Go profiles under /debug/pprof/ for profiling a load test; leave off in production")
	fs.String(&capacityFile, "capacity", "", "capacity file from toncon loadtest capacity, offered on the /cost planner page")
	fs.String(&cfg.SMTPURL, "smtp-url", "", "mail server for sign-in links: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465, or smtp+insecure://127.0.0.1:port (loopback only); empty writes the links to the log")
	fs.String(&cfg.SMTPFrom, "smtp-from", "", "sender of sign-in mail, e.g. 'Events <noreply@example.org>' (default noreply@ the public URL's host)")
	fs.String(&cfg.Role, "role", "all", "all: rooms, API, web apps and media in one process; app: all but media (needs --media-url); media: the SFU alone (needs --perms-public-key)")
	fs.String(&cfg.MediaURL, "media-url", "", "role app: the media node's URL (e.g. https://media.example.org:4000); get_host answers with it")
	fs.String(&cfg.PermsPublicKey, "perms-public-key", "", "role media: the app's keys/perms.pub.pem, which checks who may join")
	fs.Int(&cfg.Media.UDPPort, "media-udp-port", 4443, "the one UDP port all voice and video use (open it in the firewall); 0 picks a free one, as does leaving it unset with an --addr port of 0")
	fs.Int(&cfg.Media.TCPPort, "media-tcp-port", 4443, "TCP port for media when UDP is blocked (ICE-TCP); 0 picks a free one, -1 turns it off")
	fs.String(&cfg.Media.ListenIP, "media-listen-ip", "", "address media listens on (default: all); the seed's MEDIASOUP_LISTEN_IP")
	fs.String(&cfg.Media.AnnouncedIP, "media-announced-ip", "", "public address to announce for media behind 1:1 NAT (e.g. a cloud VM's public IP); the seed's MEDIASOUP_ANNOUNCED_IP")
	fs.Int(&cfg.InterestMinRoom, "interest-min-room", 30, "in rooms with at least this many people entered, send each person the movements of avatars beyond --interest-radius at most every 300 ms (the latest always arrives); 0 turns it off")
	fs.Float(&cfg.InterestRadius, "interest-radius", 8, "metres within which avatars' movements reach a person at full rate, in rooms of --interest-min-room or more")
	fs.Int(&cfg.Media.MaxVoices, "media-max-voices", 6, "forward only each room's N loudest voices, by the audio level browsers send (voices without it always go through); 0 forwards every voice")
	for _, l := range []struct {
		kind string
		def  int64
	}{{"image", uploads.DefaultLimits.Image}, {"model", uploads.DefaultLimits.Model}, {"video", uploads.DefaultLimits.Video},
		{"audio", uploads.DefaultLimits.Audio}, {"pdf", uploads.DefaultLimits.PDF}} {
		uploadMB[l.kind] = new(int)
		fs.Int(uploadMB[l.kind], "upload-max-"+l.kind+"-mb", int(l.def>>20), "largest "+l.kind+" upload accepted, in MB (MiB)")
	}
	fs.Int(&cfg.UploadRate.PerHour, "upload-rate-per-hour", uploads.DefaultRatePerHour, "uploads each person (account, or else address) may make an hour once --upload-rate-burst is used up; more are refused (429) until the allowance refills; 0 turns the limit off")
	fs.Int(&cfg.UploadRate.Burst, "upload-rate-burst", uploads.DefaultRateBurst, "uploads each person may make in a row before --upload-rate-per-hour applies")
	fs.Int(&minFreeGB, "upload-min-free-gb", uploads.DefaultMinFree>>30, "refuse uploads (507) that would leave less than this many GB (GiB) free on the data folder's disk; 0 turns it off")
	fs.Int(&maxGB, "upload-max-total-gb", 0, "refuse uploads (507) that would make the stored uploads take more than this many GB (GiB); 0: no cap")
	fs.Duration(&cfg.SweepEvery, "upload-sweep-every", uploads.DefaultSweepEvery, "how often uploads nothing keeps are deleted once they expire (48 h after upload or release)")
	fs.String(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.String(&logFormat, "log-format", "text", "text or json")
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	switch tlsMode {
	case "on":
		cfg.TLS = true
	case "off":
	default:
		fmt.Fprintf(env.Stderr, "toncon serve: --tls=%q: use on or off\n", tlsMode)
		return exitUsage
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.TLSHosts = append(cfg.TLSHosts, h)
		}
	}
	log, err := newLogger(env, logLevel, logFormat)
	if err != nil {
		fmt.Fprintf(env.Stderr, "toncon serve: %v\n", err)
		return exitUsage
	}
	cfg.Log = log
	if capacityFile != "" {
		if cfg.Capacity, err = cost.LoadCapacity(capacityFile); err != nil {
			fmt.Fprintf(env.Stderr, "toncon serve: --capacity: %v\n", err)
			return exitUsage
		}
	}
	if cfg.InterestMinRoom < 0 {
		fmt.Fprintf(env.Stderr, "toncon serve: --interest-min-room=%d: give 0 (off) or a number of people\n", cfg.InterestMinRoom)
		return exitUsage
	}
	if !(cfg.InterestRadius > 0 && cfg.InterestRadius <= 10000) {
		fmt.Fprintf(env.Stderr, "toncon serve: --interest-radius=%g: give a distance in metres above 0 (at most 10000)\n", cfg.InterestRadius)
		return exitUsage
	}
	for kind, mb := range uploadMB {
		if *mb < 1 || *mb > 4096 {
			fmt.Fprintf(env.Stderr, "toncon serve: --upload-max-%s-mb=%d: give 1 to 4096 MB\n", kind, *mb)
			return exitUsage
		}
	}
	for _, r := range []struct {
		name      string
		v, lo, hi int
		want      string
	}{
		{"upload-rate-per-hour", cfg.UploadRate.PerHour, 0, 100000, "0 (off) to 100000 uploads an hour"},
		{"upload-rate-burst", cfg.UploadRate.Burst, 1, 10000, "1 to 10000 uploads"},
		{"upload-min-free-gb", minFreeGB, 0, 1 << 20, "0 (off) to 1048576 GB"},
		{"upload-max-total-gb", maxGB, 0, 1 << 20, "0 (no cap) to 1048576 GB"},
	} {
		if r.v < r.lo || r.v > r.hi {
			fmt.Fprintf(env.Stderr, "toncon serve: --%s=%d: give %s\n", r.name, r.v, r.want)
			return exitUsage
		}
	}
	cfg.UploadMinFreeBytes, cfg.UploadMaxTotalBytes = int64(minFreeGB)<<30, int64(maxGB)<<30
	cfg.UploadLimits = uploads.Limits{Image: int64(*uploadMB["image"]) << 20, Model: int64(*uploadMB["model"]) << 20,
		Video: int64(*uploadMB["video"]) << 20, Audio: int64(*uploadMB["audio"]) << 20, PDF: int64(*uploadMB["pdf"]) << 20}
	cfg.Notes = env.Stderr
	cfg.Socket = phx.Config{IdleTimeout: idle, MaxFrameBytes: int64(maxFrame)}
	if _, port, err := net.SplitHostPort(cfg.Addr); err == nil && port == "0" {
		// A server on a free port (tests, trials) takes free media ports too, unless told otherwise, so that
		// several can run side by side.
		for _, f := range []struct {
			name string
			port *int
		}{{"media-udp-port", &cfg.Media.UDPPort}, {"media-tcp-port", &cfg.Media.TCPPort}} {
			if !flagGiven(fs, env, f.name) {
				*f.port = 0
			}
		}
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitError
	}
	if err := srv.Serve(ctx); err != nil {
		log.Error("server failed", "err", err)
		return exitError
	}
	return exitOK
}

// flagGiven says whether a flag was set on the command line or through its environment variable.
func flagGiven(fs *flagSet, env Env, name string) bool {
	given := false
	fs.fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	_, inEnv := env.Lookup(envName(name))
	return given || inEnv
}

func newLogger(env Env, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level=%q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format=%q: use text or json", format)
}
