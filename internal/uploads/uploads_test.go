package uploads

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"toncon/internal/auth"
	"toncon/internal/gltf"
	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

// clock is a settable time for the service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc     *Service
	db      *sqlite.DB
	dir     string // the files folder
	clock   *clock
	http    *httptest.Server
	keys    *auth.Keys
	account store.Account
	token   string // the account's token
}

// newEnv runs the service over a real SQLite database and a real HTTP server.
func newEnv(t testing.TB, limits Limits) *env {
	t.Helper()
	return newEnvWith(t, func(c *Config) { c.Limits = limits })
}

// newEnvWith is newEnv with the service's Config changed by set before New.
func newEnvWith(t testing.TB, set func(*Config)) *env {
	t.Helper()
	root := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(root, "toncon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, _, err := auth.LoadOrCreateKeys(filepath.Join(root, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "files")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, dir: dir, keys: keys, clock: &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}}
	mux := http.NewServeMux()
	e.http = httptest.NewServer(mux)
	t.Cleanup(e.http.Close)
	public, _ := url.Parse(e.http.URL)
	cfg := Config{Store: db, Dir: dir, PublicURL: public, Keys: keys, Now: e.clock.Now}
	set(&cfg)
	e.svc, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Mount(mux, nil)
	if e.account, _, _, err = db.FindOrCreateAccount(context.Background(), "uploader@example.org"); err != nil {
		t.Fatal(err)
	}
	if e.token, err = keys.MintAccountToken(e.account.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return e
}

type uploadResult struct {
	status int
	body   map[string]any
	resp   uploadResponse
}

// upload posts data as the multipart field "media" with the given file name, as the account when withToken.
func (e *env) upload(t *testing.T, field, name string, data []byte, withToken bool) uploadResult {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	// Written by hand, as a hostile client would: CreateFormFile would escape what we want to send raw.
	if strings.HasPrefix(name, "filename*=") { // an RFC 2231 encoded name, sent as given
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; %s`, field, name))
	} else {
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="%s"`, field, name))
	}
	h.Set("Content-Type", "image/png") // a lie for most files: the server must not believe it
	if err := mw.WriteField("promotion", "ignored"); err != nil {
		t.Fatal(err)
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	pw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/media", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if withToken {
		req.Header.Set("Authorization", "bearer "+e.token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) uploadResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := uploadResult{status: resp.StatusCode}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("answer of %s is %q, not JSON: %s", req.URL.Path, ct, raw)
	}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	_ = json.Unmarshal(raw, &r.resp)
	return r
}

// Samples: the smallest real file of each accepted type, made here so the test shows what each one is.

func samplePNG(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// A fixed pseudo-random pattern, so larger images do not compress to nothing.
	x := uint32(2463534242)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleJPEG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleGIF(t *testing.T) []byte {
	var b bytes.Buffer
	img := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Black, color.White})
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleWebP is a 1×1 lossless WebP (the one browsers' feature tests decode).
var sampleWebP, _ = base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")

func sampleGLB() []byte {
	return gltf.GLB([]byte(`{"asset":{"version":"2.0"},"nodes":[{"name":"AvatarRoot"},{"name":"Head"}],
		"buffers":[{"byteLength":4}],"bufferViews":[{"buffer":0,"byteLength":4}]}`), []byte{1, 2, 3, 4})
}

func sampleGLTF(bufferBytes, declared int) []byte {
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, bufferBytes))
	return []byte(fmt.Sprintf(`{"asset":{"version":"2.0"},"nodes":[{"name":"Head"}],
		"buffers":[{"uri":"data:application/octet-stream;base64,%s","byteLength":%d}]}`, data, declared))
}

// sampleMP4 is an ftyp box (isom, compatible mp41) followed by an empty mdat box.
func sampleMP4() []byte {
	b := []byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'm', 'p', '4', '1'}
	return append(b, 0, 0, 0, 8, 'm', 'd', 'a', 't')
}

// sampleWebM is an EBML header with DocType "webm" followed by an empty Segment.
func sampleWebM() []byte {
	b := []byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F,
		0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42, 0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08,
		0x42, 0x82, 0x84, 'w', 'e', 'b', 'm', 0x42, 0x87, 0x81, 0x02, 0x42, 0x85, 0x81, 0x02}
	return append(b, 0x18, 0x53, 0x80, 0x67, 0x80)
}

// sampleMP3 is an MPEG-1 layer III frame (128 kbit/s, 44.1 kHz), optionally after an empty ID3v2 tag.
func sampleMP3(id3 bool) []byte {
	frame := append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 413)...)
	if id3 {
		return append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), frame...)
	}
	return frame
}

func sampleOgg() []byte {
	page := []byte("OggS\x00\x02")
	page = append(page, make([]byte, 20)...) // granule, serial, sequence, checksum
	return append(page, 1, 30)               // one segment of 30 bytes follows
}

// sampleWAV is a mono 8 kHz 16-bit PCM WAVE with four samples.
func sampleWAV() []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 8))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(8000))
	le(uint32(16000))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(8))
	le([4]int16{0, 1000, -1000, 0})
	return b.Bytes()
}

var samplePDF = []byte("%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n" +
	"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")

func TestEveryAcceptedType(t *testing.T) {
	e := newEnv(t, Limits{})
	hubsAvatar, err := os.ReadFile("../../web/samples/hubs-default-avatar_v3.glb")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"photo.png", TypePNG, samplePNG(t, 3, 2)},
		{"photo.jpg", TypeJPEG, sampleJPEG(t)},
		{"anim.gif", TypeGIF, sampleGIF(t)},
		{"pic.webp", TypeWebP, sampleWebP},
		{"model.glb", TypeGLB, sampleGLB()},
		{"hubs-default-avatar_v3.glb", TypeGLB, hubsAvatar},
		{"model.gltf", TypeGLTF, sampleGLTF(30, 30)},
		{"clip.mp4", TypeMP4, sampleMP4()},
		{"clip.webm", TypeWebM, sampleWebM()},
		{"song.mp3", TypeMP3, sampleMP3(true)},
		{"raw-frames.mp3", TypeMP3, sampleMP3(false)},
		{"sound.ogg", TypeOgg, sampleOgg()},
		{"sound.wav", TypeWAV, sampleWAV()},
		{"slides.pdf", TypePDF, samplePDF},
		{"Ünïcödé name (1).png", TypePNG, samplePNG(t, 1, 1)},
	}
	for _, tc := range cases {
		r := e.upload(t, "media", tc.name, tc.data, true)
		if r.status != http.StatusCreated {
			t.Errorf("%s: status %d %v", tc.name, r.status, r.body)
			continue
		}
		m := r.resp.Meta
		if m.ExpectedContentType != tc.want || m.ContentLength != int64(len(tc.data)) || m.Name != tc.name ||
			len(m.AccessToken) != 32 {
			t.Errorf("%s: meta = %+v, want type %s, %d bytes", tc.name, m, tc.want, len(tc.data))
		}
		wantOrigin := e.http.URL + "/files/" + string(r.resp.FileID) + "." + Extension(tc.want)
		if r.resp.Origin != wantOrigin {
			t.Errorf("%s: origin %s, want %s", tc.name, r.resp.Origin, wantOrigin)
		}
		// The bytes come back as sent, with the sniffed type.
		resp := get(t, r.resp.Origin+"?token="+m.AccessToken, nil)
		if resp.status != 200 || !bytes.Equal(resp.body, tc.data) || resp.header.Get("Content-Type") != tc.want {
			t.Errorf("%s: GET = %d %q, %d bytes", tc.name, resp.status, resp.header.Get("Content-Type"), len(resp.body))
		}
	}
	files, err := e.db.AccountFiles(context.Background(), e.account.ID)
	if err != nil || len(files) != len(cases) {
		t.Errorf("AccountFiles: %d rows, %v; want %d", len(files), err, len(cases))
	}
	// Two uploads of one content share a blob.
	e.upload(t, "media", "again.pdf", samplePDF, false)
	if n := countFiles(t, e.dir); n != len(cases) {
		t.Errorf("%d blobs for %d distinct contents", n, len(cases))
	}
}

// countFiles counts regular files under dir and fails on temporary ones, which no finished upload leaves behind.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			t.Errorf("a temporary file was left: %s", path)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRefusedUploads(t *testing.T) {
	e := newEnv(t, Limits{Image: 2048, Model: 4096})
	big := samplePNG(t, 64, 64)
	if len(big) <= 2048 {
		t.Fatalf("the large sample is only %d bytes", len(big))
	}
	glb := sampleGLB()
	cases := []struct {
		what, field, name string
		data              []byte
		status            int
		code, msg         string
	}{
		{"text named .png", "media", "notes.png", []byte("just some text, honest\n"), 415, "unsupported_type", "not an accepted type"},
		{"html", "media", "page.png", []byte("<!doctype html><script>alert(1)</script>"), 415, "unsupported_type", ""},
		{"svg", "media", "icon.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>`), 415, "unsupported_type", ""},
		{"json that is no glTF", "media", "x.gltf", []byte(`{"name":"not a model"}`), 415, "unsupported_type", ""},
		{"matroska that is not webm", "media", "x.webm", bytes.Replace(sampleWebM(), []byte("webm"), []byte("mkvx"), 1), 415, "unsupported_type", ""},
		{"heif image in an mp4 box", "media", "x.mp4", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), 415, "unsupported_type", ""},
		{"empty", "media", "empty.png", nil, 415, "unsupported_type", "empty"},
		{"text starting with ID3", "media", "notes.mp3", []byte("ID3 tags are metadata in MP3 files\n"), 415, "unsupported_type", ""},
		{"AVI in a RIFF", "media", "x.wav", []byte("RIFF\x00\x00\x00\x00AVI LIST"), 415, "unsupported_type", ""},
		{"oversized image", "media", "big.png", big, 413, "too_large", "image files may be at most 2 KB"},
		{"truncated glb", "media", "cut.glb", glb[:len(glb)-4], 422, "invalid_file", "truncated"},
		{"gltf buffers past the limit", "media", "huge.gltf", sampleGLTF(30, 1<<20), 422, "invalid_file", "4096-byte limit"},
		{"dot-dot path", "media", "../../evil.png", samplePNG(t, 1, 1), 422, "invalid_file", "path"},
		{"absolute path", "media", "/etc/passwd.png", samplePNG(t, 1, 1), 422, "invalid_file", "path"},
		{"windows path", "media", `C:\\Users\\x.png`, samplePNG(t, 1, 1), 422, "invalid_file", "path"},
		{"dot-dot", "media", "..", samplePNG(t, 1, 1), 422, "invalid_file", "not a file name"},
		{"raw NUL", "media", "x\x00.png", samplePNG(t, 1, 1), 400, "bad_request", "malformed"},
		{"encoded NUL", "media", "filename*=UTF-8''x%00.png", samplePNG(t, 1, 1), 422, "invalid_file", "control"},
		{"encoded path", "media", "filename*=UTF-8''..%2F..%2Fx.png", samplePNG(t, 1, 1), 422, "invalid_file", "path"},
		{"overlong name", "media", strings.Repeat("n", 300) + ".png", samplePNG(t, 1, 1), 422, "invalid_file", "at most 255"},
		{"missing field", "file", "x.png", samplePNG(t, 1, 1), 400, "bad_request", "media"},
	}
	for _, tc := range cases {
		r := e.upload(t, tc.field, tc.name, tc.data, true)
		if r.status != tc.status || r.body["error"] != tc.code || !strings.Contains(fmt.Sprint(r.body["message"]), tc.msg) {
			t.Errorf("%s: %d %v; want %d %s containing %q", tc.what, r.status, r.body, tc.status, tc.code, tc.msg)
		}
	}
	// Not multipart at all.
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/media", strings.NewReader(`{"media":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	if r := do(t, req); r.status != 400 || r.body["error"] != "bad_request" {
		t.Errorf("JSON body: %d %v", r.status, r.body)
	}
	// A multipart body cut short.
	req, _ = http.NewRequest("POST", e.http.URL+"/api/v1/media", strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n\x1a\n"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	if r := do(t, req); r.status != 400 || r.body["error"] != "bad_request" {
		t.Errorf("cut multipart body: %d %v", r.status, r.body)
	}
	// A bad account token is refused rather than ignored.
	req, _ = http.NewRequest("POST", e.http.URL+"/api/v1/media", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	if r := do(t, req); r.status != 401 || r.body["error"] != "unauthorized" {
		t.Errorf("bad account token: %d %v", r.status, r.body)
	}
	// Nothing was stored: no row, and no blob or temporary file.
	if files, err := e.db.AccountFiles(context.Background(), e.account.ID); err != nil || len(files) != 0 {
		t.Errorf("refused uploads left rows: %+v, %v", files, err)
	}
	if n := countFiles(t, e.dir); n != 0 {
		t.Errorf("refused uploads left %d files", n)
	}
	// An image exactly at the limit passes, one byte more does not.
	exact := append(samplePNG(t, 1, 1), make([]byte, 0)...)
	exact = append(exact, make([]byte, 2048-len(exact))...)
	if r := e.upload(t, "media", "exact.png", exact, false); r.status != 201 {
		t.Errorf("an image of exactly the limit: %d %v", r.status, r.body)
	}
	if r := e.upload(t, "media", "over.png", append(exact, 0), false); r.status != 413 {
		t.Errorf("an image one byte over the limit: %d %v", r.status, r.body)
	}
	if n := countFiles(t, e.dir); n != 1 {
		t.Errorf("%d files after one good upload", n)
	}
}

func TestCleanName(t *testing.T) {
	good := map[string]string{"": "", " a.png ": "a.png", "Été 2026.jpg": "Été 2026.jpg", "..x.png": "..x.png",
		strings.Repeat("é", 127) + "a": strings.Repeat("é", 127) + "a"}
	for in, want := range good {
		if got, err := CleanName(in); err != nil || got != want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"a/b", `a\b`, "../x", ".", "..", "a\x00b", "tab\there", "\xff\xfe.png",
		strings.Repeat("a", 256)} {
		if got, err := CleanName(bad); err == nil {
			t.Errorf("CleanName(%q) = %q, want an error", bad, got)
		}
	}
}

func FuzzSniff(f *testing.F) {
	for _, s := range [][]byte{sampleMP4(), sampleWebM(), sampleMP3(false), sampleWAV(), samplePDF, []byte("{}")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ct := Sniff(b)
		if ct != "" && KindOf(ct) == "" {
			t.Fatalf("Sniff returned %q, which has no kind", ct)
		}
		if ct != "" && bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
			t.Fatalf("markup accepted as %s", ct)
		}
	})
}

// A client that goes away in the middle of its upload leaves nothing behind.
func TestInterruptedUpload(t *testing.T) {
	e := newEnv(t, Limits{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	head := "--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"clip.mp4\"\r\n\r\n"
	body := head + string(sampleMP4()) + strings.Repeat("x", 64<<10)
	fmt.Fprintf(conn, "POST /api/v1/media HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"+
		"Content-Length: %d\r\n\r\n%s", len(body)+10<<20, body)
	// Wait until the server is writing the upload, then hang up.
	deadline := time.Now().Add(10 * time.Second)
	for countTemps(t, e.dir) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upload never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	conn.Close()
	for countTemps(t, e.dir) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the interrupted upload's temporary file stayed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := countFiles(t, e.dir); n != 0 {
		t.Errorf("%d files after an interrupted upload", n)
	}
}

func countTemps(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}
