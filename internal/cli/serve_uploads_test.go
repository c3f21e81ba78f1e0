package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The upload limits reach the running server from the environment and the command line.
func TestServeUploadLimitFlags(t *testing.T) {
	base, _ := serveForTest(t, map[string]string{"TONCON_UPLOAD_MAX_PDF_MB": "1"}, "--upload-max-image-mb", "2")
	post := func(name string, data []byte) (int, string) {
		code, msg, _ := postMedia(t, base, name, data)
		return code, msg
	}
	pdf := append([]byte("%PDF-1.4\n"), make([]byte, 3<<19)...) // 1.5 MB
	if code, msg := post("a.pdf", pdf); code != 413 || !strings.Contains(msg, "at most 1 MB") {
		t.Errorf("a 1.5 MB PDF with TONCON_UPLOAD_MAX_PDF_MB=1: %d %q", code, msg)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 3<<19)...) // 1.5 MB, under --upload-max-image-mb 2
	if code, msg := post("a.png", png); code != 201 {
		t.Errorf("a 1.5 MB image with --upload-max-image-mb 2: %d %q", code, msg)
	}
}

func TestServeUploadLimitOutOfRange(t *testing.T) {
	expectUsageErrors(t, []usageCase{
		{map[string]string{"TONCON_UPLOAD_MAX_VIDEO_MB": "0"}, nil, "--upload-max-video-mb=0: give 1 to 4096 MB"},
		{map[string]string{"TONCON_UPLOAD_MAX_MODEL_MB": "5000"}, nil, "--upload-max-model-mb=5000: give 1 to 4096 MB"},
	})
}

// usageCase is a toncon serve run with vars and args that must exit 2 saying want.
type usageCase struct {
	vars map[string]string
	args []string
	want string
}

func expectUsageErrors(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, c := range cases {
		env, _, errb := testEnv(c.vars)
		if code := Run(context.Background(), append([]string{"serve"}, c.args...), env); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v %v: exit %d, %q", c.vars, c.args, code, errb.String())
		}
	}
}

func TestServeInterestFlagsOutOfRange(t *testing.T) {
	expectUsageErrors(t, []usageCase{
		{map[string]string{"TONCON_INTEREST_MIN_ROOM": "-1"}, nil, "--interest-min-room=-1: give 0 (off)"},
		{nil, []string{"--interest-radius", "0"}, "--interest-radius=0: give a distance"},
		{map[string]string{"TONCON_INTEREST_RADIUS": "NaN"}, nil, "--interest-radius=NaN"},
		{nil, []string{"--interest-min-room", "many"}, "interest-min-room"},
	})
}

// serveForTest runs toncon serve with vars and args on a free port until the test ends; it returns the base URL
// and the server's log.
func serveForTest(t *testing.T, vars map[string]string, args ...string) (string, *syncBuffer) {
	t.Helper()
	env, _, errb := testEnv(vars)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--tls", "off", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...), env)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return waitServing(t, errb), errb
}

// postPNG uploads a small PNG (unique per call) and returns the status, the error message and Retry-After.
func postPNG(t *testing.T, base string) (int, string, string) {
	t.Helper()
	return postMedia(t, base, "a.png", append([]byte("\x89PNG\r\n\x1a\n"), []byte(t.Name()+time.Now().String())...))
}

// postMedia uploads data as the file name and returns the status, the error message and Retry-After.
func postMedia(t *testing.T, base, name string, data []byte) (int, string, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("media", name)
	fw.Write(data)
	mw.Close()
	resp, err := http.Post(base+"/api/v1/media", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Message string }
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Message, resp.Header.Get("Retry-After")
}

// The upload protection flags reach the running server, from the command line and the environment.
func TestServeUploadProtectionFlags(t *testing.T) {
	base, logs := serveForTest(t, map[string]string{"TONCON_UPLOAD_RATE_BURST": "2", "TONCON_UPLOAD_MAX_TOTAL_GB": "3"},
		"--upload-rate-per-hour", "4")
	for i := range 2 {
		if code, msg, _ := postPNG(t, base); code != 201 {
			t.Fatalf("upload %d of a burst of 2: %d %q", i+1, code, msg)
		}
	}
	if code, msg, retry := postPNG(t, base); code != 429 || retry != "900" || !strings.Contains(msg, "2 in a row and then 4 an hour") {
		t.Errorf("the 3rd upload with a burst of 2 and 4 an hour: %d %q Retry-After %q", code, msg, retry)
	}
	if !strings.Contains(logs.String(), "max_total_bytes=3221225472") || !strings.Contains(logs.String(), "min_free_bytes=1073741824") {
		t.Errorf("the log does not show a 3 GB cap and the default 1 GB floor:\n%s", logs.String())
	}

	// No disk here has a petabyte free: every upload is refused, before the rate limit is used up.
	base, _ = serveForTest(t, map[string]string{"TONCON_UPLOAD_MIN_FREE_GB": "1048576"}, "--upload-rate-per-hour", "0")
	if code, msg, _ := postPNG(t, base); code != 507 || !strings.Contains(msg, "running out of disk space") {
		t.Errorf("with a 1 PB floor: %d %q", code, msg)
	}
}

func TestServeUploadProtectionOutOfRange(t *testing.T) {
	expectUsageErrors(t, []usageCase{
		{map[string]string{"TONCON_UPLOAD_RATE_PER_HOUR": "-1"}, nil, "--upload-rate-per-hour=-1: give 0 (off) to 100000"},
		{nil, []string{"--upload-rate-per-hour", "100001"}, "--upload-rate-per-hour=100001"},
		{map[string]string{"TONCON_UPLOAD_RATE_BURST": "0"}, nil, "--upload-rate-burst=0: give 1 to 10000 uploads"},
		{nil, []string{"--upload-min-free-gb", "-1"}, "--upload-min-free-gb=-1: give 0 (off)"},
		{nil, []string{"--upload-max-total-gb", "2000000"}, "--upload-max-total-gb=2000000: give 0 (no cap)"},
		{map[string]string{"TONCON_UPLOAD_MAX_TOTAL_GB": "lots"}, nil, "TONCON_UPLOAD_MAX_TOTAL_GB"},
	})
}
