package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"toncon/internal/auth"
)

func TestError(t *testing.T) {
	rec := httptest.NewRecorder()
	Error(rec, 422, "invalid_file", "the glb is cut short")
	if rec.Code != 422 {
		t.Fatalf("status %d, want 422", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["error"] != "invalid_file" || body["message"] != "the glb is cut short" || len(body) != 2 {
		t.Errorf("body %v", body)
	}
}

func TestTokenRefused(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("check: %w", auth.ErrAccountDisabled), 403, "account_disabled"},
		{fmt.Errorf("check: %w", auth.ErrTokenInvalid), 401, "unauthorized"},
	} {
		rec := httptest.NewRecorder()
		if !TokenRefused(rec, tc.err) {
			t.Fatalf("%v: not taken as a refusal", tc.err)
		}
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != tc.status || body["error"] != tc.code || body["message"] == "" {
			t.Errorf("%v: %d %v, want %d %s with a message", tc.err, rec.Code, body, tc.status, tc.code)
		}
	}
	// Any other failure is the caller's: nothing is written.
	rec := httptest.NewRecorder()
	if TokenRefused(rec, errors.New("database is locked")) || rec.Body.Len() != 0 {
		t.Errorf("a store failure was answered as a refused token: %q", rec.Body.String())
	}
}
