// Package server wires toncon's parts into one HTTP(S) server: it opens the data folder (database, keys,
// certificate), mounts the Phoenix socket, the API and the web pages, and shuts all of it down in order.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"toncon/internal/api"
	"toncon/internal/auth"
	"toncon/internal/cost"
	"toncon/internal/datadir"
	"toncon/internal/hub"
	"toncon/internal/media"
	"toncon/internal/metrics"
	"toncon/internal/ops"
	"toncon/internal/phx"
	"toncon/internal/selfsigned"
	"toncon/internal/store"
	"toncon/internal/store/pausable"
	"toncon/internal/store/sqlite"
	"toncon/internal/uploads"
	"toncon/internal/version"
)

// Config is everything `toncon serve` can be told.
type Config struct {
	Addr      string   // listen address, e.g. ":4000" or "127.0.0.1:0"
	DataDir   string   // the data folder, created on first run
	TLS       bool     // serve HTTPS with the data folder's self-signed certificate; false behind a TLS-terminating proxy
	TLSHosts  []string // extra names and addresses for the self-signed certificate
	PublicURL string   // the URL people use, when it is not https://localhost:<port>
	// SMTPURL is where sign-in mail goes (smtp://user:pass@host:587, smtps://..., smtp+insecure://127.0.0.1:port);
	// "" writes sign-in links to the log. SMTPFrom is the sender; default toncon <noreply@public host>.
	SMTPURL, SMTPFrom string

	Socket phx.Config // socket limits and timeouts
	// Capacity is measured capacity (toncon loadtest capacity) for the /cost planner; nil uses the seed's charts.
	Capacity *cost.Capacity
	// OpsTick is how often the usage meter samples and checks offline mode, budget and idle; default 5 s.
	OpsTick time.Duration
	Pprof   bool // serve Go profiles under /debug/pprof/ (serve --pprof); off by default

	// UploadLimits are the largest uploads per kind (zero fields take uploads.DefaultLimits); SweepEvery is how
	// often expired uploads are deleted (default uploads.DefaultSweepEvery).
	UploadLimits uploads.Limits
	SweepEvery   time.Duration
	// Upload protection (uploads.Config; zero turns each off): a per-client rate limit, the free space to keep on
	// the data folder's file system, and a cap on the bytes of stored uploads.
	UploadRate                              uploads.RateLimit
	UploadMinFreeBytes, UploadMaxTotalBytes int64

	// Role is what this process runs: RoleAll (the default: rooms, API, web apps and media), RoleApp (all but
	// media; get_host answers MediaURL) or RoleMedia (the SFU alone: no database, no rooms).
	Role           string
	Media          media.Config // media ports and addresses (roles all and media); the server fills in the rest
	MediaURL       string       // role app: the separate media node's URL, e.g. https://media.example.org:4000
	PermsPublicKey string       // role media: the app's keys/perms.pub.pem, which checks perms tokens

	// Interest management (hub.Config): rooms of at least InterestMinRoom entered people (0: never) send each
	// person the poses of avatars farther than InterestRadius metres less often.
	InterestMinRoom int
	InterestRadius  float64

	Log *slog.Logger
	// Notes receives text meant for the person who started the server, such as how to trust the certificate.
	Notes io.Writer
}

// Server is a running toncon: create it with New, run it with Serve.
type Server struct {
	cfg       Config
	log       *slog.Logger
	dir       *datadir.Dir
	store     store.Store
	phx       *phx.Server
	hubs      *hub.Service
	signIn    *auth.SignIn
	http      *http.Server
	listener  net.Listener
	publicURL *url.URL
	web       *webApp
	ops       *ops.Ops
	media     *media.SFU // nil in role app
	uploads   *uploads.Service
	keys      *auth.Keys // signs and checks tokens; the API checks account tokens with it
}

// New opens the data folder and everything in it, and starts listening. Nothing is served until Serve.
func New(ctx context.Context, cfg Config) (_ *Server, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.closeResources()
		}
	}()
	if err := checkRole(cfg); err != nil {
		return nil, err
	}
	if cfg.Role == RoleMedia {
		if err := s.newMediaNode(); err != nil {
			return nil, err
		}
		return s, nil
	}
	if s.dir, err = datadir.Open(cfg.DataDir); err != nil {
		return nil, err
	}
	dbPath := s.dir.Path("toncon.db")
	openDB := func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, dbPath) }
	db, err := openDB(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	paused := pausable.New(db, openDB)
	s.store = paused
	keys, created, err := auth.LoadOrCreateKeys(s.dir.Path("keys"))
	if err != nil {
		return nil, fmt.Errorf("load the signing keys: %w", err)
	}
	s.keys = keys
	if created {
		log.Info("created the perms token key pair; media nodes started with --role media need the public key",
			"public_key", s.dir.Path("keys", "perms.pub.pem"))
	}
	var tlsConfig *tls.Config
	if cfg.TLS {
		if tlsConfig, err = s.loadCertificate(); err != nil {
			return nil, err
		}
	}
	if s.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another server using the port? choose one with --addr)", cfg.Addr, err)
	}
	if tlsConfig != nil {
		s.listener = tls.NewListener(s.listener, tlsConfig)
	}
	if s.publicURL, err = publicURL(cfg.PublicURL, cfg.TLS, s.listener.Addr()); err != nil {
		return nil, err
	}
	if s.uploads, err = uploads.New(uploads.Config{Store: s.store, Dir: s.dir.Path(datadir.FilesDir),
		PublicURL: s.publicURL, Keys: keys, Limits: cfg.UploadLimits, Log: log.With("part", "uploads"),
		Rate: cfg.UploadRate, MinFree: cfg.UploadMinFreeBytes, MaxTotal: cfg.UploadMaxTotalBytes}); err != nil {
		return nil, err
	}
	var sockets *phx.Server // set below; the meter reads it only once Run starts
	s.ops = ops.New(ops.Config{Store: s.store, Pause: paused.Pause, Log: log.With("part", "ops"), Tick: cfg.OpsTick,
		Connected: func() int { return int(sockets.Stats().SocketsOpen.Load()) }})
	hubMedia, err := s.startMedia(keys)
	if err != nil {
		return nil, err
	}
	s.hubs, err = hub.New(hub.Config{Store: s.store, Keys: keys, PublicURL: s.publicURL, Log: log.With("part", "hub"), Gate: s.ops.Offline, Media: hubMedia,
		Files: s.uploads, InterestMinRoom: cfg.InterestMinRoom, InterestRadius: cfg.InterestRadius})
	if err != nil {
		return nil, err
	}
	mailer, err := newMailer(cfg, s.publicURL, log.With("part", "mail"))
	if err != nil {
		return nil, err
	}
	if s.signIn, err = auth.NewSignIn(auth.SignInConfig{Keys: keys, Store: s.store, Mailer: mailer,
		PublicURL: s.publicURL, Log: log.With("part", "signin")}); err != nil {
		return nil, err
	}
	connect := func(r *http.Request) (string, any, error) {
		s.ops.Activity()
		return s.hubs.Connect(r)
	}
	route := func(sock *phx.Socket, topic string) phx.Handler {
		if h := s.signIn.Route(sock, topic); h != nil {
			return h
		}
		return s.hubs.Route(sock, topic)
	}
	s.phx = phx.NewServer(cfg.Socket, route, connect, log.With("part", "socket"))
	sockets = s.phx
	s.ops.OnChange(func(st ops.Status) {
		if st.Offline {
			// People in rooms are told; their client shows why and where to go.
			_ = s.hubs.BroadcastAll(s.phx, "offline", map[string]string{"reason": st.OfflineReason,
				"redirect_url": st.RedirectURL, "message": "This server is going offline"})
		}
	})
	if s.web, err = newWebApp(s.ops.Offline, s.hubs.ObjectsGLTF); err != nil {
		return nil, fmt.Errorf("load the embedded web apps (rebuild them with make web): %w", err)
	}
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

func (s *Server) loadCertificate() (*tls.Config, error) {
	hosts := append([]string{"localhost", "127.0.0.1", "::1"}, s.cfg.TLSHosts...)
	if s.cfg.PublicURL != "" {
		if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Hostname() != "" {
			hosts = append(hosts, u.Hostname())
		}
	}
	cert, certPath, created, err := selfsigned.LoadOrCreate(s.dir.Path("tls"), hosts, time.Now())
	if err != nil {
		return nil, fmt.Errorf("load the TLS certificate: %w", err)
	}
	if created {
		s.log.Info("created a self-signed certificate; browsers will warn until you trust it", "cert", certPath)
		if s.cfg.Notes != nil {
			fmt.Fprintf(s.cfg.Notes, "\n%s\n", selfsigned.TrustInstructions(certPath))
		}
	} else {
		s.log.Info("using the self-signed certificate in the data folder; to stop browser warnings, trust it once", "cert", certPath)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// publicURL is the configured URL, or https://localhost:<port> for a server listening on every address.
func publicURL(configured string, useTLS bool, addr net.Addr) (*url.URL, error) {
	if configured != "" {
		u, err := url.Parse(configured)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--public-url %q: give a full URL such as https://events.example.org", configured)
		}
		return u, nil
	}
	tcp, _ := addr.(*net.TCPAddr)
	host := "localhost"
	if tcp != nil && !tcp.IP.IsUnspecified() && !tcp.IP.IsLoopback() {
		host = tcp.IP.String()
	} else if tcp != nil && tcp.IP.IsLoopback() && tcp.IP.To4() != nil {
		host = tcp.IP.String()
	}
	scheme := "https"
	if !useTLS {
		scheme = "http"
	}
	port := 0
	if tcp != nil {
		port = tcp.Port
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	a := api.New(api.Config{Store: s.store, Hubs: s.hubs, PublicURL: s.publicURL, Log: s.log.With("part", "api"), Ops: s.ops, Capacity: s.cfg.Capacity,
		Keys: s.keys, Files: s.uploads, MaxModelBytes: s.uploads.Limits().Model})
	mux.Handle("/api/", a)
	mux.Handle("/health", a)
	// Uploads take large multipart bodies, which the API's 64 KiB limit would refuse; their routes are more
	// specific than "/api/", so they win.
	// Behind a proxy (--tls off) the per-address limits (anonymous uploads, sign-in over the socket) key by the
	// address the proxy reports: see forwardedFor.
	if s.cfg.TLS {
		s.uploads.Mount(mux, nil)
		mux.Handle("/socket/websocket", s.phx)
	} else {
		s.uploads.Mount(mux, forwardedFor)
		mux.Handle("/socket/websocket", forwardedFor(s.phx))
	}
	s.mountMedia(mux)
	metrics.Mount(mux, metrics.Sources{Sockets: s.phx, Hubs: s.hubs, Media: s.media}, s.cfg.Pprof)
	mux.Handle("/", s.web)
	return mux
}

// URL is the public URL of the server.
func (s *Server) URL() *url.URL { return s.publicURL }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Hubs is the hub service, for tests and metrics.
func (s *Server) Hubs() *hub.Service { return s.hubs }

// Uploads is the uploads service, for tests and the parts that keep files.
func (s *Server) Uploads() *uploads.Service { return s.uploads }

// Sockets is the Phoenix socket server, for tests and metrics.
func (s *Server) Sockets() *phx.Server { return s.phx }

// Serve serves until ctx ends, then shuts down gracefully: sockets get close frames, requests in flight finish,
// and the database is closed cleanly.
func (s *Server) Serve(ctx context.Context) error {
	if s.cfg.Role == RoleMedia {
		return s.serveMediaNode(ctx)
	}
	s.log.Info("toncon is serving", "version", version.String(), "url", s.publicURL.String(),
		"socket", s.socketURL(), "data", s.cfg.DataDir)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	opsCtx, stopOps := context.WithCancel(context.Background())
	opsDone := make(chan struct{})
	go func() { s.ops.Run(opsCtx); close(opsDone) }()
	sweepDone := make(chan struct{})
	go func() { s.uploads.RunSweeper(opsCtx, s.cfg.SweepEvery); close(sweepDone) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.phx.Shutdown(shutCtx); err != nil {
		s.log.Warn("closing sockets", "err", err)
	}
	s.closeMedia(shutCtx)
	s.signIn.Close() // sign-in mail still being sent is abandoned
	if err := s.http.Shutdown(shutCtx); err != nil {
		s.log.Warn("closing HTTP connections", "err", err)
	}
	stopOps() // the meter flushes what it counted, and the sweeper stops, before the database closes
	<-opsDone
	<-sweepDone
	s.closeResources()
	s.log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

func (s *Server) socketURL() string {
	u := *s.publicURL
	u.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
	u.Path = "/socket/websocket"
	return u.String()
}

// closeResources releases what New opened, in reverse order.
func (s *Server) closeResources() {
	s.closeMedia(context.Background())
	if s.listener != nil {
		s.listener.Close()
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("closing the database", "err", err)
		}
		s.store = nil
	}
	if s.dir != nil {
		if err := s.dir.Close(); err != nil {
			s.log.Error("releasing the data folder", "err", err)
		}
		s.dir = nil
	}
}
