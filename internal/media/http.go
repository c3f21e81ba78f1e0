package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"toncon/internal/auth"
	"toncon/internal/store"
)

// MetaHandler is /media/meta: the node's load, which a room placer reads (see Load).
func (s *SFU) MetaHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s.Load())
	})
}

// controlRequest is the body of POST /media/control, how an app node that does not run the SFU itself passes a
// moderator's mute or kick to the media node hosting the room.
type controlRequest struct {
	Action    string `json:"action"` // mute or kick
	HubID     string `json:"hub_id"`
	SessionID string `json:"session_id"`
	Muted     *bool  `json:"muted"` // mute only; default true
}

// ControlHandler is POST /media/control. It needs "Authorization: Bearer <perms token>" for the room, granting
// mute_users for mute and kick_users for kick: the same authority the hub channel checks, so a media node needs
// nothing but the perms public key to trust it.
func (s *SFU) ControlHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeControlError(w, http.StatusMethodNotAllowed, "bad_request", "use POST")
			return
		}
		var req controlRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.HubID == "" || req.SessionID == "" {
			writeControlError(w, http.StatusBadRequest, "bad_request", "send {action, hub_id, session_id, muted?}")
			return
		}
		perm := map[string]string{"mute": "mute_users", "kick": "kick_users"}[req.Action]
		if perm == "" {
			writeControlError(w, http.StatusBadRequest, "bad_request", "action is mute or kick")
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeControlError(w, http.StatusUnauthorized, "token_invalid", "send Authorization: Bearer <perms token>")
			return
		}
		claims, err := auth.VerifyPerms(s.cfg.PermsKey, token, s.cfg.Now())
		switch {
		case err != nil:
			writeControlError(w, http.StatusUnauthorized, "token_invalid", err.Error())
			return
		case claims.HubID != req.HubID:
			writeControlError(w, http.StatusForbidden, "wrong_hub", "the token is for another room")
			return
		case !claims.Perms[perm]:
			writeControlError(w, http.StatusForbidden, "not_allowed", "the token does not grant "+perm)
			return
		}
		if req.Action == "kick" {
			s.Kick(store.HubSID(req.HubID), req.SessionID)
		} else {
			s.Mute(store.HubSID(req.HubID), req.SessionID, req.Muted == nil || *req.Muted)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func writeControlError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": msg})
}

// Remote is the app role's view of a separate media node (serve --role app --media-url): get_host answers with
// the node's address, and mute and kick are passed on through its /media/control.
type Remote struct {
	base   *url.URL
	host   string
	port   int
	keys   *auth.Keys
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// NewRemote points at the media node at mediaURL (https://media.example.org[:port]). keys sign the short-lived
// tokens that authorise mute and kick there.
func NewRemote(mediaURL string, keys *auth.Keys, client *http.Client, log *slog.Logger) (*Remote, error) {
	u, err := url.Parse(mediaURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, fmt.Errorf("--media-url %q: give the media node's URL, e.g. https://media.example.org:4443", mediaURL)
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = map[string]int{"https": 443, "http": 80}[u.Scheme]
	}
	if client == nil {
		client = &http.Client{Timeout: 3 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Remote{base: u, host: u.Hostname(), port: port, keys: keys, client: client, log: log, now: time.Now}, nil
}

// Host is the media node's address, for get_host.
func (m *Remote) Host(store.HubSID) (string, int) { return m.host, m.port }

// Mute passes a moderator's mute to the media node. It waits for the node (a few seconds at most) and logs a
// failure: the hub channel has told the target client to mute either way.
func (m *Remote) Mute(hub store.HubSID, session string, muted bool) {
	m.control(controlRequest{Action: "mute", HubID: string(hub), SessionID: session, Muted: &muted})
}

// Kick passes a moderator's kick to the media node.
func (m *Remote) Kick(hub store.HubSID, session string) {
	m.control(controlRequest{Action: "kick", HubID: string(hub), SessionID: session})
}

func (m *Remote) control(req controlRequest) {
	if err := m.post(req); err != nil {
		m.log.Warn("media node did not take a moderation request", "action", req.Action, "hub", req.HubID,
			"session", req.SessionID, "media_url", m.base.String(), "err", err)
	}
}

func (m *Remote) post(req controlRequest) error {
	tok, err := m.keys.MintPerms(auth.PermsClaims{HubID: req.HubID, Perms: map[string]bool{"mute_users": true, "kick_users": true}}, m.now())
	if err != nil {
		return err
	}
	body, _ := json.Marshal(req)
	u := *m.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/media/control"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+tok)
	resp, err := m.client.Do(hr)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return errors.New(resp.Status + ": " + strings.TrimSpace(string(msg)))
	}
	return nil
}
