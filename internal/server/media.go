package server

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"toncon/internal/auth"
	"toncon/internal/datadir"
	"toncon/internal/hub"
	"toncon/internal/media"
	"toncon/internal/metrics"
	"toncon/internal/version"
)

// The roles one toncon binary can run (see Config.Role).
const (
	RoleAll   = "all"
	RoleApp   = "app"
	RoleMedia = "media"
)

func checkRole(cfg Config) error {
	switch cfg.Role {
	case "", RoleAll:
		if cfg.MediaURL != "" {
			return errors.New("--media-url is for --role app, which leaves media to a separate node; role all runs media itself")
		}
	case RoleApp:
		if cfg.MediaURL == "" {
			return errors.New("--role app needs --media-url: the media node (toncon serve --role media) that hosts voice and video")
		}
	case RoleMedia:
		if cfg.PermsPublicKey == "" {
			return errors.New("--role media needs --perms-public-key: the app's keys/perms.pub.pem, to check who may join")
		}
	default:
		return fmt.Errorf("--role %q: use all, app or media", cfg.Role)
	}
	return nil
}

// startMedia gives the hub channel its view of media: the SFU in this process (role all) or the separate media
// node (role app).
func (s *Server) startMedia(keys *auth.Keys) (hub.Media, error) {
	if s.cfg.Role == RoleApp {
		r, err := media.NewRemote(s.cfg.MediaURL, keys, nil, s.log.With("part", "media"))
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	if err := s.newSFU(keys.PermsPublicKey()); err != nil {
		return nil, err
	}
	return s.media, nil
}

// newSFU starts the SFU; browsers reach its signalling socket at this server's public URL.
func (s *Server) newSFU(permsKey *rsa.PublicKey) error {
	cfg := s.cfg.Media
	cfg.PermsKey = permsKey
	cfg.Log = s.log.With("part", "media")
	cfg.Host = s.publicURL.Hostname()
	cfg.Port, _ = strconv.Atoi(s.publicURL.Port())
	if cfg.Port == 0 {
		cfg.Port = map[string]int{"https": 443, "http": 80}[s.publicURL.Scheme]
	}
	sfu, err := media.New(cfg)
	if err != nil {
		return fmt.Errorf("start media: %w", err)
	}
	s.media = sfu
	return nil
}

// mountMedia serves the SFU's signalling socket, load report and moderation endpoint.
func (s *Server) mountMedia(mux *http.ServeMux) {
	if s.media == nil {
		return
	}
	mux.Handle("/media/socket", s.media)
	mux.Handle("/media/meta", s.media.MetaHandler())
	mux.Handle("/media/control", s.media.ControlHandler())
}

// closeMedia tells media clients the server is going away and releases the media ports.
func (s *Server) closeMedia(ctx context.Context) {
	if s.media == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.media.Close(ctx); err != nil {
		s.log.Warn("closing media", "err", err)
	}
	s.media = nil
}

// newMediaNode sets up role media: the data folder only for its certificate, the perms public key, the SFU, its
// /metrics and a listener. No database, no rooms, no web apps.
func (s *Server) newMediaNode() (err error) {
	cfg := s.cfg
	pub, err := auth.LoadPermsPublicKey(cfg.PermsPublicKey)
	if err != nil {
		return fmt.Errorf("--perms-public-key: %w", err)
	}
	if s.dir, err = datadir.Open(cfg.DataDir); err != nil {
		return err
	}
	var tlsConfig *tls.Config
	if cfg.TLS {
		if tlsConfig, err = s.loadCertificate(); err != nil {
			return err
		}
	}
	if s.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using the port? choose one with --addr)", cfg.Addr, err)
	}
	if tlsConfig != nil {
		s.listener = tls.NewListener(s.listener, tlsConfig)
	}
	if s.publicURL, err = publicURL(cfg.PublicURL, cfg.TLS, s.listener.Addr()); err != nil {
		return err
	}
	if err := s.newSFU(pub); err != nil {
		return err
	}
	mux := http.NewServeMux()
	s.mountMedia(mux)
	sfu := s.media
	metrics.Mount(mux, metrics.Sources{Media: sfu}, cfg.Pprof)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "version": version.String(), "role": RoleMedia, "load": sfu.Load()})
	})
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return nil
}

// serveMediaNode serves role media until ctx ends, then closes media sockets before HTTP.
func (s *Server) serveMediaNode(ctx context.Context) error {
	udp, tcp := s.media.Ports()
	socket := s.publicURL.JoinPath("/media/socket")
	socket.Scheme = map[string]string{"https": "wss", "http": "ws"}[socket.Scheme]
	s.log.Info("toncon media node is serving", "version", version.String(), "url", s.publicURL.String(),
		"socket", socket.String(), "udp_port", udp, "tcp_port", tcp, "data", s.cfg.DataDir)
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.closeMedia(shutCtx)
	if err := s.http.Shutdown(shutCtx); err != nil {
		s.log.Warn("closing HTTP connections", "err", err)
	}
	s.closeResources()
	s.log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}
