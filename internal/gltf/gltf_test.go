package gltf

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const avatarDoc = `{"asset":{"version":"2.0","generator":"toncon test"},
 "extensionsUsed":["MOZ_hubs_components","KHR_materials_unlit"],
 "nodes":[{"name":"AvatarRoot","children":[1]},{"name":"Head"},{}],
 "buffers":[{"byteLength":8}],
 "bufferViews":[{"buffer":0,"byteOffset":0,"byteLength":8}],
 "meshes":[{}],"materials":[{},{}]}`

func TestInspectGLB(t *testing.T) {
	data := GLB([]byte(avatarDoc), []byte{1, 2, 3, 4, 5, 6, 7, 8})
	info, err := Inspect(data)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Binary || info.BufferBytes != 8 || info.BINBytes != 8 {
		t.Errorf("info = %+v", info)
	}
	if !slices.Equal(info.Nodes, []string{"AvatarRoot", "Head", ""}) || !info.HasNode("Head") || info.HasNode("Hand") {
		t.Errorf("nodes = %q", info.Nodes)
	}
}

func TestInspectGLTFWithDataURIs(t *testing.T) {
	buf := base64.StdEncoding.EncodeToString(make([]byte, 40))
	img := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nfake"))
	doc := fmt.Sprintf(`  {"asset":{"version":"2.0"},"nodes":[{"name":"Head"}],
		"buffers":[{"uri":"data:application/octet-stream;base64,%s","byteLength":40},{"uri":"data:,abc%%20d","byteLength":5}],
		"bufferViews":[{"buffer":1,"byteOffset":1,"byteLength":4}],
		"images":[{"uri":"data:image/png;base64,%s"},{"bufferView":0,"mimeType":"image/png"}]}`, buf, img)
	info, err := Inspect([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if info.Binary || info.BufferBytes != 45 || info.EmbeddedImageBytes != 12 || !info.HasNode("Head") {
		t.Errorf("info = %+v", info)
	}
}

// The sample models Hubs and Spoke made must pass: they are what people will upload.
func TestInspectHubsSamples(t *testing.T) {
	paths, _ := filepath.Glob("../../web/samples/*.glb")
	if len(paths) == 0 {
		t.Fatal("no sample models in web/samples")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if !info.Binary || len(info.Nodes) == 0 || info.BufferBytes == 0 {
			t.Errorf("%s: info = %+v", filepath.Base(p), info)
		}
		if strings.Contains(p, "avatar") && !info.HasNode("AvatarRoot") && !info.HasNode("Head") {
			t.Errorf("%s: the avatar has neither Head nor AvatarRoot: %q", filepath.Base(p), info.Nodes)
		}
		// Every strict prefix is a truncated file and must be refused.
		for _, cut := range []int{len(data) - 1, len(data) / 2, 20, 11} {
			if _, err := Inspect(data[:cut]); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s cut to %d bytes: err = %v, want ErrInvalid", filepath.Base(p), cut, err)
			}
		}
	}
}

func TestInspectRefuses(t *testing.T) {
	good := GLB([]byte(avatarDoc), make([]byte, 8))
	withLength := func(n uint32) []byte {
		b := bytes.Clone(good)
		b[8], b[9], b[10], b[11] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
		return b
	}
	version1 := bytes.Clone(good)
	version1[4] = 1
	cases := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"truncated", good[:len(good)-4], ErrInvalid, "truncated"},
		{"header says more", withLength(uint32(len(good) + 100)), ErrInvalid, "truncated"},
		{"header says less", withLength(uint32(len(good) - 4)), ErrInvalid, "header says"},
		{"version 1", version1, ErrInvalid, "version"},
		{"header only", good[:12], ErrInvalid, "at least"},
		{"BIN too short for buffer", GLB([]byte(avatarDoc), make([]byte, 4)), ErrInvalid, "BIN chunk has 4"},
		{"no BIN chunk", GLB([]byte(avatarDoc), nil), ErrInvalid, "BIN chunk has 0"},
		{"JSON chunk broken", GLB([]byte(`{"asset":`), nil), ErrInvalid, "does not parse"},
		{"GLB without asset", GLB([]byte(`{"nodes":[]}`), nil), ErrInvalid, "asset.version"},
		{"external buffer", []byte(`{"asset":{"version":"2.0"},"buffers":[{"uri":"mesh.bin","byteLength":4}]}`),
			ErrInvalid, "not a data: URI"},
		{"remote image", []byte(`{"asset":{"version":"2.0"},"images":[{"uri":"https://example.org/x.png"}]}`),
			ErrInvalid, "not a data: URI"},
		{"buffer declares more than its data", []byte(`{"asset":{"version":"2.0"},
			"buffers":[{"uri":"data:application/octet-stream;base64,AAAA","byteLength":4}]}`), ErrInvalid, "holds 3 bytes"},
		{"buffer past the limit", []byte(`{"asset":{"version":"2.0"},
			"buffers":[{"uri":"data:application/octet-stream;base64,AAAA","byteLength":999999999999}]}`), ErrInvalid, "limit"},
		{"bad base64", []byte(`{"asset":{"version":"2.0"},"buffers":[{"uri":"data:;base64,!!!!","byteLength":3}]}`),
			ErrInvalid, "base64"},
		{"view outside buffer", []byte(`{"asset":{"version":"2.0"},"buffers":[{"uri":"data:,abcd","byteLength":4}],
			"bufferViews":[{"buffer":0,"byteOffset":2,"byteLength":4}]}`), ErrInvalid, "does not fit"},
		{"view of missing buffer", []byte(`{"asset":{"version":"2.0"},"bufferViews":[{"buffer":3,"byteLength":4}]}`),
			ErrInvalid, "does not exist"},
		{"zero-length buffer", []byte(`{"asset":{"version":"2.0"},"buffers":[{"uri":"data:,","byteLength":0}]}`),
			ErrInvalid, "at least 1"},
		{"JSON that is no glTF", []byte(`{"name":"package.json"}`), ErrNotGLTF, ""},
		{"glTF 1", []byte(`{"asset":{"version":"1.0"}}`), ErrNotGLTF, ""},
		{"not JSON", []byte(`<html><script>alert(1)</script>`), ErrNotGLTF, ""},
		{"empty", nil, ErrNotGLTF, ""},
	}
	for _, tc := range cases {
		_, err := Inspect(tc.data)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", tc.name, err, tc.want, tc.msg)
		}
	}
}

// A model whose buffers are within the default limit but past a smaller configured one is refused.
func TestInspectReaderLimit(t *testing.T) {
	payload := base64.StdEncoding.EncodeToString(make([]byte, 3000))
	doc := []byte(fmt.Sprintf(`{"asset":{"version":"2.0"},"buffers":[{"uri":"data:;base64,%s","byteLength":3000}]}`, payload))
	if _, err := InspectReader(bytes.NewReader(doc), int64(len(doc)), Options{MaxBufferBytes: 3000}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	_, err := InspectReader(bytes.NewReader(doc), int64(len(doc)), Options{MaxBufferBytes: 2999})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "2999-byte limit") {
		t.Fatalf("past the limit: %v", err)
	}
}

func FuzzInspect(f *testing.F) {
	f.Add(GLB([]byte(avatarDoc), make([]byte, 8)))
	f.Add([]byte(`{"asset":{"version":"2.0"},"buffers":[{"uri":"data:,abcd","byteLength":4}],
		"bufferViews":[{"buffer":0,"byteOffset":0,"byteLength":4}],"images":[{"uri":"data:;base64,AAAA"}]}`))
	f.Add([]byte("glTF\x02\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00JSON"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := InspectReader(bytes.NewReader(data), int64(len(data)), Options{MaxBufferBytes: 1 << 20})
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotGLTF) {
				t.Fatalf("an error that is neither ErrInvalid nor ErrNotGLTF: %v", err)
			}
			return
		}
		if info.BufferBytes < 0 || info.BufferBytes+info.EmbeddedImageBytes > 1<<20 {
			t.Fatalf("accepted buffers of %d + %d bytes past the limit", info.BufferBytes, info.EmbeddedImageBytes)
		}
		if info.Binary && info.BINBytes > int64(len(data)) {
			t.Fatalf("a BIN chunk of %d bytes in %d bytes of data", info.BINBytes, len(data))
		}
	})
}
