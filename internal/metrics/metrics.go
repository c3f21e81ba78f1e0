// Package metrics serves toncon's /metrics in the Prometheus text format, and /debug/pprof when asked to. The
// collectors read the counters the socket server and the hub service already keep, at scrape time: the hot paths
// count once, with the atomic adds they already do, and nothing here runs between scrapes.
//
// The media metrics (peers, tracks, forwarded streams and packets) read the SFU's own load figures, the ones
// /media/meta reports, in the same way.
package metrics

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"toncon/internal/hub"
	"toncon/internal/media"
	"toncon/internal/phx"
	"toncon/internal/version"
)

// Sources are the live counters a scrape reads. Sockets and Hubs are set together, or both nil on a media node
// (serve --role media), which has no rooms; Media is nil where this process runs no SFU (serve --role app). The
// metrics of a source that is nil are left out.
type Sources struct {
	Sockets *phx.Server
	Hubs    *hub.Service
	Media   *media.SFU
}

// NewRegistry returns a registry holding toncon's collectors plus the standard process (CPU, memory, file
// descriptors) and Go runtime ones. Each server gets its own registry, so tests can run several in one process.
func NewRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		newCollector(src),
	)
	return reg
}

// Handler serves the registry's metrics in the Prometheus text format.
func Handler(src Sources) http.Handler {
	reg := NewRegistry(src)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, MaxRequestsInFlight: 4})
}

// Mount adds /metrics to mux, and the pprof profiles under /debug/pprof/ when withPprof is set. Profiles show
// the program's internals and cost CPU while they run, so they are off unless the operator asks (serve --pprof).
func Mount(mux *http.ServeMux, src Sources, withPprof bool) {
	mux.Handle("GET /metrics", Handler(src))
	if !withPprof {
		return
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// collector turns the atomic counters into metrics when Prometheus asks.
type collector struct {
	src Sources

	buildInfo                        *prometheus.Desc
	socketsOpen, sessions, hubs      *prometheus.Desc
	framesIn, framesOut              *prometheus.Desc
	bytesIn, bytesOut, malformed     *prometheus.Desc
	slowConsumers                    *prometheus.Desc
	nafRelayed, nafDropped           *prometheus.Desc
	nafThinned                       *prometheus.Desc
	chatRelayed, chatDropped         *prometheus.Desc
	joins, joinsRefused, joinLatency *prometheus.Desc
	entitiesRemoved                  *prometheus.Desc

	mediaRooms, mediaPeers, mediaTracks *prometheus.Desc
	mediaStreams, mediaForwarded        *prometheus.Desc
	mediaSuppressed                     *prometheus.Desc
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("toncon_"+name, help, labels, nil)
	}
	return &collector{
		src:             src,
		buildInfo:       d("build_info", "Always 1; the version label says which toncon is running.", "version"),
		socketsOpen:     d("sockets_connected", "Phoenix sockets open now (one per browser tab)."),
		sessions:        d("sessions", "Sessions joined to a room, by presence: lobby (joined, not entered) or room.", "presence"),
		hubs:            d("hubs_active", "Rooms with at least one session on this node."),
		framesIn:        d("frames_received_total", "WebSocket messages received from clients."),
		framesOut:       d("frames_sent_total", "WebSocket messages written to clients."),
		bytesIn:         d("bytes_received_total", "Payload bytes of the messages received from clients."),
		bytesOut:        d("bytes_sent_total", "Payload bytes of the messages written to clients."),
		malformed:       d("frames_malformed_total", "Messages that broke the protocol or a size limit; each closed its socket."),
		slowConsumers:   d("slow_consumer_disconnects_total", "Sockets closed because they could not keep up with ordered messages."),
		nafRelayed:      d("naf_relayed_total", "NAF messages (naf, nafr) relayed to a room, counted once per message, not per recipient."),
		nafDropped:      d("naf_dropped_total", "NAF messages not delivered, by reason. slow_consumer counts per recipient: an update dropped from one socket's full queue.", "reason"),
		nafThinned:      d("naf_thinned_total", "Avatar pose updates held back for someone farther than --interest-radius (counted per recipient), by outcome: superseded (a newer update replaced it, so it was never sent) or delayed (sent when its interval had passed, or before a message that must not overtake it).", "outcome"),
		chatRelayed:     d("chat_relayed_total", "Chat messages relayed to a room."),
		chatDropped:     d("chat_dropped_total", "Chat messages refused (rate, permission, length)."),
		joins:           d("joins_total", "Hub joins accepted."),
		joinsRefused:    d("joins_refused_total", "Hub joins refused (bad payload, no such room, closed, not allowed)."),
		joinLatency:     d("join_duration_seconds", "Time the server spent on an accepted hub join, from the join message to its reply."),
		entitiesRemoved: d("naf_entities_removed_on_leave_total", "Networked entities removed for the others when their creator left."),
		mediaRooms:      d("media_rooms", "Rooms with someone connected to this node's media server."),
		mediaPeers:      d("media_peers", "People connected to this node's media server (joined signalling sockets)."),
		mediaTracks:     d("media_tracks", "Tracks published now (a microphone, a camera or a screen each)."),
		mediaStreams:    d("media_streams", "Forwarded streams now: (track, receiver) pairs, the figure media CPU grows with."),
		mediaForwarded:  d("media_forwarded_packets_total", "RTP packets the media server has sent to receivers."),
		mediaSuppressed: d("media_suppressed_packets_total", "Voice packets not sent to receivers because the voice was not among its room's loudest (--media-max-voices), once per receiver."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.buildInfo
	if c.src.Hubs != nil {
		for _, d := range []*prometheus.Desc{c.socketsOpen, c.sessions, c.hubs, c.framesIn, c.framesOut,
			c.bytesIn, c.bytesOut, c.malformed, c.slowConsumers, c.nafRelayed, c.nafDropped, c.nafThinned, c.chatRelayed,
			c.chatDropped, c.joins, c.joinsRefused, c.joinLatency, c.entitiesRemoved} {
			ch <- d
		}
	}
	if c.src.Media != nil {
		for _, d := range []*prometheus.Desc{c.mediaRooms, c.mediaPeers, c.mediaTracks, c.mediaStreams, c.mediaForwarded, c.mediaSuppressed} {
			ch <- d
		}
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.buildInfo, 1, version.String())
	if c.src.Hubs != nil {
		c.collectRooms(ch, gauge, counter)
	}
	if c.src.Media != nil {
		l := c.src.Media.Load() // one walk over the SFU's rooms, as /media/meta does
		gauge(c.mediaRooms, float64(l.Rooms))
		gauge(c.mediaPeers, float64(l.Peers))
		gauge(c.mediaTracks, float64(l.Tracks))
		gauge(c.mediaStreams, float64(l.Streams))
		counter(c.mediaForwarded, l.ForwardedPackets)
		counter(c.mediaSuppressed, l.SuppressedPackets)
	}
}

// collectRooms reports the sockets' and the rooms' counters.
func (c *collector) collectRooms(ch chan<- prometheus.Metric, gauge func(*prometheus.Desc, float64, ...string),
	counter func(*prometheus.Desc, int64, ...string)) {
	ps, hs := c.src.Sockets.Stats(), c.src.Hubs.Stats()
	gauge(c.socketsOpen, float64(ps.SocketsOpen.Load()))
	rooms, inRoom, inLobby := c.src.Hubs.Totals()
	gauge(c.hubs, float64(rooms))
	gauge(c.sessions, float64(inLobby), "lobby")
	gauge(c.sessions, float64(inRoom), "room")
	counter(c.framesIn, ps.FramesIn.Load())
	counter(c.framesOut, ps.FramesOut.Load())
	counter(c.bytesIn, ps.BytesIn.Load())
	counter(c.bytesOut, ps.BytesOut.Load())
	counter(c.malformed, ps.MalformedFrames.Load())
	counter(c.slowConsumers, ps.SlowConsumerDisconnects.Load())
	counter(c.nafRelayed, hs.NAFRelayed.Load())
	counter(c.nafDropped, hs.NAFDroppedRate.Load(), "rate_limited")
	counter(c.nafDropped, hs.NAFDroppedSpawn.Load(), "spawn_denied")
	counter(c.nafDropped, hs.NAFDroppedFirstSyncInUM.Load(), "first_sync_in_um")
	counter(c.nafDropped, hs.NAFDroppedInvalid.Load(), "invalid")
	counter(c.nafDropped, hs.NAFDroppedUnknownEntity.Load(), "unknown_entity")
	counter(c.nafDropped, hs.NAFDroppedNotOwner.Load(), "not_owner")
	counter(c.nafDropped, ps.EphemeralDropped.Load(), "slow_consumer")
	counter(c.nafThinned, hs.InterestSuperseded.Load(), "superseded")
	counter(c.nafThinned, hs.InterestFlushed.Load(), "delayed")
	counter(c.chatRelayed, hs.ChatRelayed.Load())
	counter(c.chatDropped, hs.ChatDropped.Load())
	counter(c.joins, hs.Joins.Load())
	counter(c.joinsRefused, hs.JoinsRefused.Load())
	counter(c.entitiesRemoved, hs.EntitiesRemovedOnLeave.Load())
	snap := hs.JoinLatency.Snapshot()
	ch <- prometheus.MustNewConstHistogram(c.joinLatency, snap.Count, snap.SumSeconds, snap.Cumulative)
}
