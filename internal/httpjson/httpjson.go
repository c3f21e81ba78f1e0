// Package httpjson writes the JSON answers every toncon HTTP API shares: a body with a status, and errors as
// {"error": code, "message": words for a person}. Keeping them in one place keeps every API's errors alike.
package httpjson

import (
	"encoding/json"
	"net/http"
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
