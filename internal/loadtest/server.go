package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// room is one hub the run made, and the frame prefixes its members recognise without decoding.
type room struct {
	sid   string
	topic string
	base  int // index of its first person in the run
	size  int

	nafrPrefix, nafPrefix, messagePrefix []byte
}

func newRoom(sid string, base, size int) *room {
	topic := "hub:" + sid
	prefix := func(event string) []byte { return []byte(`[null,null,"` + topic + `","` + event + `",`) }
	return &room{sid: sid, topic: topic, base: base, size: size,
		nafrPrefix: prefix("nafr"), nafPrefix: prefix("naf"), messagePrefix: prefix("message")}
}

// newHTTPClient talks to the server under test only: no proxy from the environment, no redirects.
func newHTTPClient(tlsConfig *tls.Config) *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: tlsConfig, MaxIdleConnsPerHost: 4,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (r *run) do(ctx context.Context, method, path, body string) ([]byte, int, error) {
	u := *r.base
	u.Path = path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, u.String(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: %w", method, u.String(), err)
	}
	return b, resp.StatusCode, nil
}

// makeRooms creates the run's rooms through the server's API and checks that they admit PerRoom people.
func (r *run) makeRooms(ctx context.Context) error {
	cfg := &r.cfg
	r.rooms = make([]*room, cfg.Rooms)
	var wg sync.WaitGroup
	errs := make([]error, cfg.Rooms)
	sem := make(chan struct{}, 4)
	for i := range cfg.Rooms {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var sid string
			sid, errs[i] = r.createRoom(ctx, fmt.Sprintf("%s #%d", cfg.RunName, i+1))
			r.rooms[i] = newRoom(sid, i*cfg.PerRoom, cfg.PerRoom)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("create the rooms: %w", err)
	}
	b, code, err := r.do(ctx, http.MethodGet, "/api/v1/hubs/"+r.rooms[0].sid, "")
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("read the room back: %v (status %d)", err, code)
	}
	var h struct {
		RoomSize int `json:"room_size"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("read the room back: %w", err)
	}
	if h.RoomSize > 0 && cfg.PerRoom > h.RoomSize {
		return fmt.Errorf("the server makes rooms of %d people and this run puts %d in each: use --per-room %d or fewer, "+
			"or raise the server's default_room_size and max_room_size site settings", h.RoomSize, cfg.PerRoom, h.RoomSize)
	}
	return nil
}

func (r *run) createRoom(ctx context.Context, name string) (string, error) {
	body, _ := json.Marshal(map[string]any{"hub": map[string]string{"name": name}})
	b, code, err := r.do(ctx, http.MethodPost, "/api/v1/hubs", string(body))
	if err != nil {
		return "", err
	}
	var resp struct {
		HubID   string `json:"hub_id"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &resp)
	if code != http.StatusCreated || resp.HubID == "" {
		msg := resp.Message
		if msg == "" {
			msg = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		return "", fmt.Errorf("POST /api/v1/hubs: status %d: %s (is %s a toncon server?)", code, msg, r.base)
	}
	return resp.HubID, nil
}

// serverSample is what the server's /metrics said at one moment.
type serverSample struct {
	cpuSeconds, residentBytes                  float64
	framesIn, framesOut, bytesOut              float64
	nafRelayed, nafDroppedSlow, slowDisconnect float64
	nafRejected                                map[string]float64 // drops by the relay's checks, by reason
	version                                    string
	// The media server's figures (toncon_media_*), zero where the server runs no media.
	mediaForwarded, mediaPeers, mediaTracks, mediaStreams float64
	mediaSuppressed                                       float64 // voice packets left out by loudest-voice forwarding
}

// scrape reads the server's /metrics.
func (r *run) scrape(ctx context.Context) (*serverSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, code, err := r.do(ctx, http.MethodGet, "/metrics", "")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d", code)
	}
	return parseMetrics(b)
}

// parseMetrics picks the samples the load test uses out of the Prometheus text format.
func parseMetrics(b []byte) (*serverSample, error) {
	s := serverSample{nafRejected: map[string]float64{}}
	found := false
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name, val := line[:sp], line[sp+1:]
		if strings.HasPrefix(name, "toncon_build_info{") {
			if i := strings.Index(name, `version="`); i >= 0 {
				rest := name[i+len(`version="`):]
				if j := strings.IndexByte(rest, '"'); j >= 0 {
					s.version = rest[:j]
				}
			}
			continue
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: bad value in %q", line)
		}
		const dropped = `toncon_naf_dropped_total{reason="`
		switch {
		case name == "process_cpu_seconds_total":
			s.cpuSeconds, found = v, true
		case name == "process_resident_memory_bytes":
			s.residentBytes = v
		case name == "toncon_frames_received_total":
			s.framesIn = v
		case name == "toncon_frames_sent_total":
			s.framesOut = v
		case name == "toncon_bytes_sent_total":
			s.bytesOut = v
		case name == "toncon_naf_relayed_total":
			s.nafRelayed = v
		case name == "toncon_slow_consumer_disconnects_total":
			s.slowDisconnect = v
		case name == "toncon_media_forwarded_packets_total":
			s.mediaForwarded = v
		case name == "toncon_media_suppressed_packets_total":
			s.mediaSuppressed = v
		case name == "toncon_media_peers":
			s.mediaPeers = v
		case name == "toncon_media_tracks":
			s.mediaTracks = v
		case name == "toncon_media_streams":
			s.mediaStreams = v
		case name == dropped+`slow_consumer"}`:
			s.nafDroppedSlow = v
		case strings.HasPrefix(name, dropped) && strings.HasSuffix(name, `"}`):
			s.nafRejected[name[len(dropped):len(name)-2]] = v
		}
	}
	if !found {
		return nil, errors.New("/metrics has no process_cpu_seconds_total: is this a toncon server?")
	}
	return &s, nil
}
