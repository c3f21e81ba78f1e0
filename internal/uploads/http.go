package uploads

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"toncon/internal/auth"
	"toncon/internal/httpjson"
	"toncon/internal/store"
)

// multipartOverhead is what the request body may hold besides the file: boundaries, part headers, small fields.
const multipartOverhead = 1 << 20

// Mount adds the upload API and the file route to mux: POST /api/v1/media, GET /api/v1/media/mine and
// GET|HEAD /files/<id>[.<ext>]. They are more specific than a mux's "/api/" and "/", so they win over those.
// clientAddr, when not nil, wraps the upload route to set the request's RemoteAddr to the client's address (the
// server's forwardedFor behind a proxy); the rate limit keys anonymous uploads by it.
func (s *Service) Mount(mux *http.ServeMux, clientAddr func(http.Handler) http.Handler) {
	var upload http.Handler = http.HandlerFunc(s.handleUpload)
	if clientAddr != nil {
		upload = clientAddr(upload)
	}
	mux.Handle("/api/v1/media", upload)
	mux.HandleFunc("/api/v1/media/mine", s.handleMine)
	mux.HandleFunc("/files/", s.handleFile)
}

type uploadMeta struct {
	AccessToken         string `json:"access_token"`
	ExpectedContentType string `json:"expected_content_type"`
	ContentLength       int64  `json:"content_length"`
	Name                string `json:"name"`
}

type uploadResponse struct {
	FileID store.FileID `json:"file_id"`
	Origin string       `json:"origin"`
	Meta   uploadMeta   `json:"meta"`
}

func (s *Service) handleUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "upload with POST")
		return
	}
	var account store.AccountID
	if token, given := auth.BearerToken(r); given {
		a, ok := s.authenticate(w, r, token)
		if !ok {
			return
		}
		account = a.ID
	}
	if !s.allow(w, r, account) {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "multipart/form-data" {
		writeError(w, http.StatusBadRequest, "bad_request", "send multipart/form-data with the file in the field \"media\"")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.Limits.largest()+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the multipart body cannot be read: "+err.Error())
		return
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			writeError(w, http.StatusBadRequest, "bad_request", "no file in the field \"media\"")
			return
		}
		if err != nil {
			s.writeUploadError(w, uploadReadError(err))
			return
		}
		if part.FormName() != "media" {
			// Other fields (Hubs sends promotion hints) are read past and ignored.
			if _, err := io.Copy(io.Discard, part); err != nil {
				s.writeUploadError(w, uploadReadError(err))
				return
			}
			continue
		}
		f, err := s.Put(r.Context(), part, rawFileName(part.Header.Get("Content-Disposition")), account)
		if err != nil {
			s.writeUploadError(w, err)
			return
		}
		s.cfg.Log.Info("upload stored", "file", f.ID, "type", f.ContentType, "bytes", f.Size, "account", f.Account)
		writeJSON(w, http.StatusCreated, uploadResponse{FileID: f.ID, Origin: s.Origin(f), Meta: uploadMeta{
			AccessToken: f.AccessToken, ExpectedContentType: f.ContentType, ContentLength: f.Size, Name: f.Name}})
		return
	}
}

// allow spends one of the client's uploads under the rate limit: the account's when the request carries a valid
// account token, else its address's (an IPv4 address, or an IPv6 /64). When none is left it answers 429 with
// Retry-After itself.
func (s *Service) allow(w http.ResponseWriter, r *http.Request, account store.AccountID) bool {
	if s.rate == nil {
		return true
	}
	key := "ip:" + auth.AddressKey(r.RemoteAddr)
	if account != 0 {
		key = "account:" + strconv.FormatInt(int64(account), 10)
	}
	ok, wait := s.rate.take(key, s.cfg.Now())
	if ok {
		return true
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	s.cfg.Log.Info("upload refused: rate limited", "client", key, "retry_after_s", secs)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("you have uploaded many files in a "+
		"short time; this server takes %d in a row and then %d an hour from each person. Try again in %s.",
		s.cfg.Rate.Burst, s.cfg.Rate.PerHour, waitWords(wait)))
	return false
}

// rawFileName is the part's filename parameter as sent. multipart.Part.FileName strips directories itself, which
// would hide a path trick instead of refusing it (see CleanName).
func rawFileName(disposition string) string {
	_, params, err := mime.ParseMediaType(disposition)
	if err != nil {
		return ""
	}
	return params["filename"]
}

func (s *Service) writeUploadError(w http.ResponseWriter, err error) {
	var ue *UploadError
	if errors.As(err, &ue) {
		writeError(w, ue.Status, ue.Code, ue.Message)
		return
	}
	s.cfg.Log.Error("upload failed", "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "the upload could not be stored; try again")
}

// authenticate checks an account token, answering the client itself when it fails.
func (s *Service) authenticate(w http.ResponseWriter, r *http.Request, token string) (store.Account, bool) {
	if s.cfg.Keys == nil {
		writeError(w, http.StatusUnauthorized, "unauthorized", "this server does not take account tokens here")
		return store.Account{}, false
	}
	a, err := auth.Authenticate(r.Context(), s.cfg.Keys, s.cfg.Store, token, s.cfg.Now())
	if err == nil {
		return a, true
	}
	if !httpjson.TokenRefused(w, err) {
		s.cfg.Log.Error("checking an account token", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not check your sign-in; try again")
	}
	return store.Account{}, false
}

type mineEntry struct {
	FileID        store.FileID `json:"file_id"`
	Origin        string       `json:"origin"`
	Name          string       `json:"name"`
	ContentType   string       `json:"content_type"`
	ContentLength int64        `json:"content_length"`
	CreatedAt     time.Time    `json:"created_at"`
	Kept          bool         `json:"kept"`
	ExpiresAt     *time.Time   `json:"expires_at"`
	AccessToken   string       `json:"access_token"`
}

func (s *Service) handleMine(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "list your uploads with GET")
		return
	}
	token, given := auth.BearerToken(r)
	if !given {
		writeError(w, http.StatusUnauthorized, "unauthorized", "sign in to see your uploads (Authorization: Bearer <account token>)")
		return
	}
	a, ok := s.authenticate(w, r, token)
	if !ok {
		return
	}
	files, err := s.cfg.Store.AccountFiles(r.Context(), a.ID)
	if err != nil {
		s.cfg.Log.Error("listing uploads", "account", a.ID, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not list your uploads; try again")
		return
	}
	now := s.cfg.Now()
	entries := []mineEntry{}
	for _, f := range files {
		if !f.Kept() && !f.ExpiresAt.After(now) {
			continue // expired, waiting for the sweeper
		}
		e := mineEntry{FileID: f.ID, Origin: s.Origin(f), Name: f.Name, ContentType: f.ContentType,
			ContentLength: f.Size, CreatedAt: f.CreatedAt, Kept: f.Kept(), AccessToken: f.AccessToken}
		if !f.Kept() {
			exp := f.ExpiresAt
			e.ExpiresAt = &exp
		}
		entries = append(entries, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

// fileToken is the access token a request for a file carries: ?token= or "Authorization: Token <t>".
func fileToken(r *http.Request) string {
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "token") {
		return strings.TrimSpace(token)
	}
	return ""
}

func (s *Service) handleFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "files are read with GET or HEAD")
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/files/")
	idPart, _, _ := strings.Cut(name, ".") // the extension is for clients that look at URLs; the row decides
	f, blob, err := s.Open(r.Context(), store.FileID(idPart))
	if errors.Is(err, ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such file, or it expired")
		return
	}
	if err != nil {
		s.cfg.Log.Error("serving a file", "file", idPart, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "the file cannot be read")
		return
	}
	defer blob.Close()
	if !CanRead(f, fileToken(r)) {
		writeError(w, http.StatusForbidden, "forbidden", "this file is not pinned or used yet: it needs its access token (?token=)")
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("ETag", `"`+f.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	if f.Kept() {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, no-store")
	}
	if f.Name != "" {
		if d := mime.FormatMediaType("inline", map[string]string{"filename": f.Name}); d != "" {
			h.Set("Content-Disposition", d)
		}
	}
	http.ServeContent(w, r, "", f.CreatedAt, blob)
}

// writeJSON and writeError keep this package's many call sites short.
var (
	writeJSON  = httpjson.Write
	writeError = httpjson.Error
)
