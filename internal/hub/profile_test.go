package hub

import (
	"encoding/json"
	"strings"
	"testing"
)

// The avatar URL in a profile is fetched by every other client in the room, so only a path on this server or an
// http(s) URL passes; anything else is refused with a message naming the field.
func TestValidateProfileAvatarURL(t *testing.T) {
	cases := []struct {
		name string
		url  any
		ok   bool
	}{
		{"absent", nil, true},
		{"empty (a built-in look)", "", true},
		{"uploaded file", "/files/abc123.glb", true},
		{"sample", "/samples/hubs-default-avatar_v3.glb", true},
		{"https elsewhere", "https://cdn.example.org/avatars/robot.glb", true},
		{"http", "http://localhost:4000/files/a", true},
		{"not a string", 7, false},
		{"javascript", "javascript:alert(1)", false},
		{"data", "data:model/gltf-binary;base64,Z2xURg==", false},
		{"protocol-relative", "//evil.example/a.glb", false},
		{"relative", "files/a.glb", false},
		{"no host", "https:///a.glb", false},
		{"whitespace", "/files/a b.glb", false},
		{"too long", "/" + strings.Repeat("a", maxAvatarURL), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := map[string]any{"displayName": "Ada", "avatarId": "x1"}
			if tc.url != nil {
				p["avatarUrl"] = tc.url
			}
			raw, _ := json.Marshal(p)
			out, err := validateProfile(raw)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if string(out) != string(raw) {
					t.Fatalf("profile changed: %s", out)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "profile.avatarUrl") {
				t.Fatalf("want a refusal naming profile.avatarUrl, got %v", err)
			}
		})
	}
}
