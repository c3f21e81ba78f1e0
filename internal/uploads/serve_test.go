package uploads

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"toncon/internal/store"
)

type getResult struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, url string, header http.Header) getResult {
	t.Helper()
	return request(t, "GET", url, header)
}

func request(t *testing.T, method, url string, header http.Header) getResult {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return getResult{status: resp.StatusCode, header: resp.Header, body: body}
}

func TestServeTokensAndKeep(t *testing.T) {
	e := newEnv(t, Limits{})
	ctx := context.Background()
	data := samplePDF
	up := e.upload(t, "media", "slides.pdf", data, false).resp
	url, token := up.Origin, up.Meta.AccessToken

	// Not kept: the token is needed, by query or header, and the answer must not be cached.
	if r := get(t, url, nil); r.status != 403 || !strings.Contains(string(r.body), "access token") {
		t.Errorf("no token: %d %s", r.status, r.body)
	}
	if r := get(t, url+"?token=0123456789abcdef0123456789abcdef", nil); r.status != 403 {
		t.Errorf("wrong token: %d", r.status)
	}
	r := get(t, url, http.Header{"Authorization": {"Token " + token}})
	if r.status != 200 || !bytes.Equal(r.body, data) || r.header.Get("Cache-Control") != "private, no-store" ||
		r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("ETag") != `"`+shaHex(data)+`"` ||
		r.header.Get("Content-Disposition") != `inline; filename=slides.pdf` {
		t.Errorf("with the token header: %d %v", r.status, r.header)
	}
	// The extension is optional and does not decide the type.
	if r := get(t, e.http.URL+"/files/"+string(up.FileID)+"?token="+token, nil); r.status != 200 ||
		r.header.Get("Content-Type") != TypePDF {
		t.Errorf("without the extension: %d %v", r.status, r.header)
	}
	if r := get(t, e.http.URL+"/files/"+string(up.FileID)+".html?token="+token, nil); r.status != 200 ||
		r.header.Get("Content-Type") != TypePDF {
		t.Errorf("with a lying extension: %d %v", r.status, r.header)
	}

	// Keep needs the file's token.
	if err := e.svc.Keep(ctx, up.FileID, "nope", "pin:abc1234:obj"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Keep with a wrong token: %v", err)
	}
	if r := get(t, url, nil); r.status != 403 {
		t.Fatalf("a failed Keep made the file public: %d", r.status)
	}
	if err := e.svc.Keep(ctx, up.FileID, token, "pin:abc1234:obj"); err != nil {
		t.Fatal(err)
	}
	r = get(t, url, nil)
	if r.status != 200 || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("kept, no token: %d %v", r.status, r.header)
	}
	if err := e.svc.Keep(ctx, up.FileID, "nope", "avatar:x"); !errors.Is(err, ErrForbidden) {
		t.Errorf("Keep of a kept file with a wrong token: %v", err)
	}
	// Released, it needs its token again.
	if err := e.svc.Release(ctx, up.FileID, "pin:abc1234:obj"); err != nil {
		t.Fatal(err)
	}
	if r := get(t, url, nil); r.status != 403 {
		t.Errorf("released, no token: %d", r.status)
	}

	// Unknown, malformed and expired ids are 404; so is Keep of them.
	for _, u := range []string{e.http.URL + "/files/AAAAAAAAAAAAAAAAAAAAAA.pdf", e.http.URL + "/files/..%2Ftoncon.db",
		e.http.URL + "/files/", e.http.URL + "/files/" + strings.Repeat("x", 500)} {
		if r := get(t, u, nil); r.status != 404 || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %s", u, r.status, r.body)
		}
	}
	if err := e.svc.Keep(ctx, "AAAAAAAAAAAAAAAAAAAAAA", token, "pin:x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Keep of an unknown file: %v", err)
	}
	e.clock.Advance(48 * time.Hour)
	if r := get(t, url+"?token="+token, nil); r.status != 404 {
		t.Errorf("expired (not yet swept): %d", r.status)
	}
	if err := e.svc.Keep(ctx, up.FileID, token, "pin:late"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Keep of an expired file: %v", err)
	}
	if r := request(t, "DELETE", url, nil); r.status != 405 {
		t.Errorf("DELETE: %d", r.status)
	}
}

func TestServeRangesAndETag(t *testing.T) {
	e := newEnv(t, Limits{})
	data := sampleMP4()
	up := e.upload(t, "media", "clip.mp4", data, false).resp
	url := up.Origin + "?token=" + up.Meta.AccessToken

	r := get(t, url, http.Header{"Range": {"bytes=4-11"}})
	if r.status != 206 || string(r.body) != "ftypisom" || r.header.Get("Content-Range") != "bytes 4-11/32" ||
		r.header.Get("Content-Type") != TypeMP4 {
		t.Errorf("range 4-11: %d %q %v", r.status, r.body, r.header)
	}
	if r := get(t, url, http.Header{"Range": {"bytes=-8"}}); r.status != 206 || !bytes.Equal(r.body, data[24:]) {
		t.Errorf("suffix range: %d %q", r.status, r.body)
	}
	if r := get(t, url, nil); r.header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges = %q", r.header.Get("Accept-Ranges"))
	}
	if r := get(t, url, http.Header{"Range": {"bytes=100-200"}}); r.status != 416 ||
		r.header.Get("Content-Range") != "bytes */32" {
		t.Errorf("unsatisfiable range: %d %v", r.status, r.header)
	}
	etag := `"` + shaHex(data) + `"`
	if r := get(t, url, http.Header{"If-None-Match": {etag}}); r.status != 304 || len(r.body) != 0 {
		t.Errorf("If-None-Match: %d", r.status)
	}
	if r := get(t, url, http.Header{"If-None-Match": {`"other"`}}); r.status != 200 {
		t.Errorf("If-None-Match another tag: %d", r.status)
	}
	if r := request(t, "HEAD", url, nil); r.status != 200 || len(r.body) != 0 ||
		r.header.Get("Content-Length") != "32" || r.header.Get("ETag") != etag {
		t.Errorf("HEAD: %d %v", r.status, r.header)
	}
}

func TestMine(t *testing.T) {
	e := newEnv(t, Limits{})
	ctx := context.Background()
	first := e.upload(t, "media", "first.png", samplePNG(t, 1, 1), true).resp
	e.clock.Advance(time.Second)
	second := e.upload(t, "media", "second.wav", sampleWAV(), true).resp
	e.upload(t, "media", "anonymous.pdf", samplePDF, false)
	if err := e.svc.Keep(ctx, first.FileID, first.Meta.AccessToken, "avatar:abc"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/media/mine", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	r := do(t, req)
	entries, _ := r.body["entries"].([]any)
	if r.status != 200 || len(entries) != 2 {
		t.Fatalf("mine: %d %v", r.status, r.body)
	}
	newest, oldest := entries[0].(map[string]any), entries[1].(map[string]any)
	if newest["file_id"] != string(second.FileID) || newest["name"] != "second.wav" || newest["kept"] != false ||
		newest["content_type"] != TypeWAV || newest["access_token"] != second.Meta.AccessToken ||
		newest["expires_at"] == nil || newest["origin"] != second.Origin {
		t.Errorf("newest entry: %v", newest)
	}
	if oldest["file_id"] != string(first.FileID) || oldest["kept"] != true || oldest["expires_at"] != nil ||
		oldest["content_length"] != float64(len(samplePNG(t, 1, 1))) {
		t.Errorf("oldest entry: %v", oldest)
	}
	// After 48 h the unkept one is gone from the list even before the sweeper runs.
	e.clock.Advance(48 * time.Hour)
	if r := do(t, req); len(r.body["entries"].([]any)) != 1 {
		t.Errorf("after expiry: %v", r.body)
	}
	for _, auth := range []string{"", "Bearer nonsense", "Token " + first.Meta.AccessToken} {
		req, _ := http.NewRequest("GET", e.http.URL+"/api/v1/media/mine", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if r := do(t, req); r.status != 401 || r.body["error"] != "unauthorized" {
			t.Errorf("mine with %q: %d %v", auth, r.status, r.body)
		}
	}
	// A disabled account can see nothing.
	disabled := store.AccountDisabled
	if _, err := e.db.UpdateAccount(ctx, e.account.ID, store.AccountUpdate{State: &disabled}); err != nil {
		t.Fatal(err)
	}
	if r := do(t, req); r.status != 403 || r.body["error"] != "account_disabled" {
		t.Errorf("disabled account: %d %v", r.status, r.body)
	}
}
