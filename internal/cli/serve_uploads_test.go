package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// The upload limits reach the running server from the environment and the command line.
func TestServeUploadLimitFlags(t *testing.T) {
	env, _, errb := testEnv(map[string]string{"TONCON_TLS": "off", "TONCON_UPLOAD_MAX_PDF_MB": "1"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--upload-max-image-mb", "2"}, env)
	}()
	t.Cleanup(func() { cancel(); <-done })
	base := waitServing(t, errb)
	post := func(name string, data []byte) (int, string) {
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
		return resp.StatusCode, out.Message
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
	for _, vars := range []map[string]string{{"TONCON_UPLOAD_MAX_VIDEO_MB": "0"}, {"TONCON_UPLOAD_MAX_MODEL_MB": "5000"}} {
		env, _, errb := testEnv(vars)
		if code := Run(context.Background(), []string{"serve"}, env); code != 2 || !strings.Contains(errb.String(), "give 1 to 4096 MB") {
			t.Errorf("%v: exit %d, %q", vars, code, errb.String())
		}
	}
}

func TestServeInterestFlagsOutOfRange(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		args []string
		want string
	}{
		{map[string]string{"TONCON_INTEREST_MIN_ROOM": "-1"}, nil, "--interest-min-room=-1: give 0 (off)"},
		{nil, []string{"--interest-radius", "0"}, "--interest-radius=0: give a distance"},
		{map[string]string{"TONCON_INTEREST_RADIUS": "NaN"}, nil, "--interest-radius=NaN"},
		{nil, []string{"--interest-min-room", "many"}, "interest-min-room"},
	} {
		env, _, errb := testEnv(c.vars)
		if code := Run(context.Background(), append([]string{"serve"}, c.args...), env); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v %v: exit %d, %q", c.vars, c.args, code, errb.String())
		}
	}
}
