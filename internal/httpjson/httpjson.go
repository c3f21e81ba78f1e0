// Package httpjson writes the JSON answers every toncon HTTP API shares: a body with a status, and errors as
// {"error": code, "message": words for a person}. Keeping them in one place keeps every API's errors alike.
package httpjson

import (
	"encoding/json"
	"errors"
	"net/http"

	"toncon/internal/auth"
)

// Write sends v as JSON with status. API answers are never cached.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error sends {"error": code, "message": message} with status.
func Error(w http.ResponseWriter, status int, code, message string) {
	Write(w, status, map[string]string{"error": code, "message": message})
}

// TokenRefused answers a request whose account token auth.Authenticate refused (403 for a disabled account, 401
// for a token that is not valid) and reports whether err was such a refusal; any other error is the caller's to
// answer. The APIs that take account tokens share it, so a refused sign-in reads the same everywhere.
func TokenRefused(w http.ResponseWriter, err error) bool {
	switch {
	case errors.Is(err, auth.ErrAccountDisabled):
		Error(w, http.StatusForbidden, "account_disabled", "your account is disabled; ask the site's admin")
	case errors.Is(err, auth.ErrTokenInvalid):
		Error(w, http.StatusUnauthorized, "unauthorized", "your sign-in is not valid any more; sign in again")
	default:
		return false
	}
	return true
}
