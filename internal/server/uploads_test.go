package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"toncon/internal/server"
	"toncon/internal/server/servertest"
	"toncon/internal/store"
	"toncon/internal/uploads"
)

// noisyPNG is a real PNG of random pixels, so it is about as large as w×h×4 bytes.
func noisyPNG(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rand.Read(img.Pix)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func postMedia(t *testing.T, base, name string, data []byte) (int, map[string]any) {
	t.Helper()
	code, out, _ := postMediaHeader(t, base, name, data, nil)
	return code, out
}

// postMediaHeader uploads data as name with the request headers in header, and returns the status, the JSON
// answer and the response's headers.
func postMediaHeader(t *testing.T, base, name string, data []byte, header http.Header) (int, map[string]any, http.Header) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("media", name)
	fw.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", base+"/api/v1/media", &body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST /api/v1/media: %d, not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out, resp.Header
}

// Through a whole toncon: an upload larger than the API's 64 KiB body limit goes through, is stored under the data
// folder by its hash, is served with its token, and after Keep without it; the configured limit applies.
func TestUploadsThroughTheServer(t *testing.T) {
	dataDir := t.TempDir()
	srv := servertest.Start(t, server.Config{DataDir: dataDir, UploadLimits: uploads.Limits{Image: 200 << 10}})
	base := srv.URL().String()

	data := noisyPNG(t, 100, 100) // ~40 KB of pixels, plus PNG overhead
	data = append(data, make([]byte, 100<<10-len(data))...)
	status, out := postMedia(t, base, "big.png", data)
	if status != 201 {
		t.Fatalf("upload: %d %v", status, out)
	}
	id := store.FileID(out["file_id"].(string))
	origin := out["origin"].(string)
	token := out["meta"].(map[string]any)["access_token"].(string)
	if origin != base+"/files/"+string(id)+".png" {
		t.Errorf("origin %s", origin)
	}
	sum := sha256.Sum256(data)
	blob := filepath.Join(dataDir, "files", hex.EncodeToString(sum[:1]), hex.EncodeToString(sum[:]))
	if stored, err := os.ReadFile(blob); err != nil || !bytes.Equal(stored, data) {
		t.Errorf("blob %s: %v", blob, err)
	}

	get := func(url string) (int, []byte) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := get(origin); code != 403 {
		t.Errorf("without the token: %d", code)
	}
	if code, b := get(origin + "?token=" + token); code != 200 || !bytes.Equal(b, data) {
		t.Errorf("with the token: %d, %d bytes", code, len(b))
	}
	if err := srv.Uploads().Keep(context.Background(), id, token, "pin:test:obj"); err != nil {
		t.Fatal(err)
	}
	if code, b := get(origin); code != 200 || !bytes.Equal(b, data) {
		t.Errorf("kept, without the token: %d", code)
	}

	if status, out := postMedia(t, base, "bigger.png", append(data, make([]byte, 101<<10)...)); status != 413 ||
		out["error"] != "too_large" {
		t.Errorf("past the configured image limit: %d %v", status, out)
	}
	// The rest of the API still answers, and its small-body limit still applies there.
	if code, _ := get(base + "/api/v1/meta"); code != 200 {
		t.Errorf("GET /api/v1/meta: %d", code)
	}
	resp, err := http.Post(base+"/api/v1/hubs", "application/json",
		strings.NewReader(`{"hub":{"name":"`+strings.Repeat("x", 100<<10)+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("a 100 KiB body to /api/v1/hubs: %d, want 413", resp.StatusCode)
	}
	if code, _ := get(base + "/api/v1/media"); code != 405 {
		t.Errorf("GET /api/v1/media: %d, want 405", code)
	}
}
