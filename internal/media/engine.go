package media

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Payload types we offer. Browsers answer with ours when we offer (subscribe side) and we answer with theirs when
// they offer (publish side); the forwarder rewrites the payload type per subscriber either way.
const (
	ptOpus     = 111
	ptVP8      = 96
	ptH264     = 102 // constrained baseline, packetization-mode 1
	ptH264Base = 108 // baseline, packetization-mode 1
)

// transport is the process-wide WebRTC machinery: one webrtc.API (codecs, interceptors, settings) and the two
// sockets every PeerConnection shares.
type transport struct {
	api     *webrtc.API
	udp     net.PacketConn
	udpMux  interface{ Close() error }
	tcp     net.Listener // nil when ICE-TCP is off
	tcpMux  interface{ Close() error }
	udpPort int
	tcpPort int
}

// newTransport listens on the ICE ports and builds the API. Every PeerConnection of the process is made from it,
// so all peers share one UDP port (ICE UDP mux) and one TCP port (passive ICE-TCP, for networks that block UDP).
func newTransport(cfg Config, log *slog.Logger) (_ *transport, err error) {
	t := &transport{}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	lf := pionLogs{log: log}
	listenIP := net.IPv4zero
	if cfg.ListenIP != "" {
		if listenIP = net.ParseIP(cfg.ListenIP); listenIP == nil {
			return nil, fmt.Errorf("media listen IP %q is not an IP address", cfg.ListenIP)
		}
	}
	var announced net.IP
	if cfg.AnnouncedIP != "" {
		if announced = net.ParseIP(cfg.AnnouncedIP); announced == nil {
			return nil, fmt.Errorf("media announced IP %q is not an IP address", cfg.AnnouncedIP)
		}
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: listenIP, Port: cfg.UDPPort})
	if err != nil {
		return nil, fmt.Errorf("listen for media on UDP %s: %w (choose another --media-udp-port)",
			net.JoinHostPort(listenIP.String(), strconv.Itoa(cfg.UDPPort)), err)
	}
	// Media packets arrive in bursts; a larger kernel buffer rides them out. Best effort: the OS may cap it.
	_ = udp.SetReadBuffer(4 << 20)
	_ = udp.SetWriteBuffer(4 << 20)
	t.udp = udp
	t.udpPort = udp.LocalAddr().(*net.UDPAddr).Port
	udpMux := webrtc.NewICEUDPMux(lf.NewLogger("udpmux"), udp)
	t.udpMux = udpMux

	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(udpMux)
	// The server never initiates connectivity checks: browsers (full ICE agents) find it at its host candidates.
	// This is what mediasoup does too, and it means a client's own candidates need not reach us at all.
	se.SetLite(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // servers announce plain addresses
	se.SetIncludeLoopbackCandidate(listenIP.IsLoopback())
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if cfg.TCPPort >= 0 {
		tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: listenIP, Port: cfg.TCPPort})
		if err != nil {
			return nil, fmt.Errorf("listen for media on TCP %s: %w (choose another --media-tcp-port, or -1 to turn ICE-TCP off)",
				net.JoinHostPort(listenIP.String(), strconv.Itoa(cfg.TCPPort)), err)
		}
		t.tcp = tcp
		t.tcpPort = tcp.Addr().(*net.TCPAddr).Port
		tcpMux := webrtc.NewICETCPMux(lf.NewLogger("tcpmux"), tcp, 64)
		t.tcpMux = tcpMux
		se.SetICETCPMux(tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(networks)
	if !listenIP.IsUnspecified() {
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(listenIP) })
	}
	if announced != nil {
		// 1:1 NAT (a cloud VM's public address): candidates carry the announced address instead of the local one.
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{announced.String()},
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("announce %s: %w", announced, err)
		}
	}

	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := registerInterceptors(me, reg); err != nil {
		return nil, err
	}
	t.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(reg))
	return t, nil
}

func (t *transport) close() {
	if t.udpMux != nil {
		_ = t.udpMux.Close()
	}
	if t.udp != nil {
		_ = t.udp.Close()
	}
	if t.tcpMux != nil {
		_ = t.tcpMux.Close()
	}
	if t.tcp != nil {
		_ = t.tcp.Close()
	}
}

// registerCodecs offers Opus (with DTX: silence costs almost nothing), VP8 and H264. No RTX: browsers then resend
// lost packets on the original SSRC, which the forwarder passes through like any other packet.
func registerCodecs(me *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	codecs := []struct {
		c    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1"}, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
			RTCPFeedback: videoFB}, PayloadType: ptVP8}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: videoFB}, PayloadType: ptH264}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", RTCPFeedback: videoFB}, PayloadType: ptH264Base}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.c, c.kind); err != nil {
			return fmt.Errorf("register %s: %w", c.c.MimeType, err)
		}
	}
	return nil
}

// registerInterceptors adds what an SFU needs from Pion's interceptors: NACK (ask publishers for lost packets,
// answer subscribers' NACKs from a send buffer), RTCP sender and receiver reports, the MID/RID header extensions
// for simulcast, the audio level of voices, and TWCC feedback to publishers so browsers can estimate their uplink. Left out on purpose: the
// stats interceptor (a per-packet cost for getStats, which nobody calls here) and TWCC sequence numbers on what
// we send (we do not run a send-side estimator; layers follow receiver reports, see forward.go).
func registerInterceptors(me *webrtc.MediaEngine, reg *interceptor.Registry) error {
	// The responder keeps a copy of every video packet sent to each subscriber for resending. Pion's default of
	// 1024 packets (about 1.6 MB a stream, 7 s of a camera) times every (camera, subscriber) pair is most of an
	// SFU's memory; 256 still covers over a second of the busiest layer, far more than a NACK's round trip.
	if err := webrtc.ConfigureNackWithOptions(me, reg, nil, nack.ResponderSize(256)); err != nil {
		return err
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return err
	}
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.SDESMidURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	// The audio level of each voice packet (RFC 6464), for loudest-voice forwarding (voices.go). Only on what
	// the server receives: the forwarder strips publishers' extensions, so it is not offered to subscribers.
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverDirectionRecvonly); err != nil {
		return err
	}
	return webrtc.ConfigureTWCCSender(me, reg)
}

// pionLogs sends Pion's logs to slog. Pion reports per-connection trouble (a peer that vanished, a late packet) at
// warn and error; for an operator that is detail, so everything but errors is debug and errors are warnings.
type pionLogs struct{ log *slog.Logger }

func (p pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: p.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) logf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(string)                   {}
func (l pionLogger) Tracef(string, ...any)          {}
func (l pionLogger) Debug(msg string)               { l.logf(slog.LevelDebug, "%s", msg) }
func (l pionLogger) Debugf(format string, a ...any) { l.logf(slog.LevelDebug, format, a...) }
func (l pionLogger) Info(msg string)                { l.logf(slog.LevelDebug, "%s", msg) }
func (l pionLogger) Infof(format string, a ...any)  { l.logf(slog.LevelDebug, format, a...) }
func (l pionLogger) Warn(msg string)                { l.logf(slog.LevelDebug, "%s", msg) }
func (l pionLogger) Warnf(format string, a ...any)  { l.logf(slog.LevelDebug, format, a...) }
func (l pionLogger) Error(msg string)               { l.logf(slog.LevelWarn, "%s", msg) }
func (l pionLogger) Errorf(format string, a ...any) { l.logf(slog.LevelWarn, format, a...) }
