// Package gltf inspects glTF 2.0 documents (binary .glb or JSON .gltf) on the server, without a renderer: it checks
// the container and the buffer layout well enough to refuse truncated or oversized uploads, and reports what the
// rest of the server asks about a model (its node names, for avatars; the extensions it uses).
package gltf

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// ErrInvalid matches every error about a document that is glTF but broken: truncated, inconsistent lengths, an
// external URI, buffers over the limit. The wrapping message says what is wrong.
var ErrInvalid = errors.New("invalid glTF")

// ErrNotGLTF means the data is not glTF at all (no GLB magic, or JSON without a glTF 2 "asset").
var ErrNotGLTF = errors.New("not a glTF 2.0 document")

// DefaultMaxBufferBytes is the buffer limit of Inspect: Spoke's 128 MB upload cap.
const DefaultMaxBufferBytes = 128 << 20

// MaxJSONBytes bounds the JSON chunk of a GLB (and the whole of a .gltf) that Inspect will parse.
const MaxJSONBytes = 128 << 20

// GLB container constants (glTF 2.0 specification, section 4.4).
const (
	glbMagic    = 0x46546C67 // "glTF"
	glbVersion  = 2
	chunkJSON   = 0x4E4F534A // "JSON"
	chunkBIN    = 0x004E4942 // "BIN\0"
	headerBytes = 12
	chunkHeader = 8
)

// Info is what Inspect learns about a document.
type Info struct {
	Binary bool // a .glb (else JSON .gltf)
	// Nodes are the names of the document's nodes in index order; an unnamed node is "".
	Nodes []string
	// BufferBytes is the total byteLength of the buffers, which is what a loader allocates. For a .gltf the buffers
	// are data: URIs, checked to decode to at least that many bytes.
	BufferBytes int64
	// EmbeddedImageBytes is the decoded size of images given as data: URIs.
	EmbeddedImageBytes int64
	BINBytes           int64 // length of the GLB's BIN chunk; 0 for .gltf or a GLB without one
}

// HasNode reports whether one of the nodes is named name.
func (i Info) HasNode(name string) bool {
	for _, n := range i.Nodes {
		if n == name {
			return true
		}
	}
	return false
}

// Options tune InspectReader.
type Options struct {
	// MaxBufferBytes refuses a document whose buffers and embedded images add up to more; 0 means
	// DefaultMaxBufferBytes.
	MaxBufferBytes int64
}

// Inspect checks a whole .glb or .gltf held in memory with the default options.
func Inspect(data []byte) (Info, error) {
	return InspectReader(bytes.NewReader(data), int64(len(data)), Options{})
}

// InspectReader checks a .glb or .gltf of size bytes read through r. For a GLB it reads only the header and the
// JSON chunk, so a large model on disk is checked without loading its binary chunk. Errors match ErrNotGLTF or
// ErrInvalid.
func InspectReader(r io.ReaderAt, size int64, opt Options) (Info, error) {
	if opt.MaxBufferBytes <= 0 {
		opt.MaxBufferBytes = DefaultMaxBufferBytes
	}
	var head [headerBytes]byte
	n, _ := r.ReadAt(head[:], 0)
	if n >= 4 && binary.LittleEndian.Uint32(head[:4]) == glbMagic {
		return inspectGLB(r, size, opt)
	}
	if size > MaxJSONBytes {
		return Info{}, fmt.Errorf("%w: a glTF JSON document of %d bytes is larger than %d", ErrInvalid, size, MaxJSONBytes)
	}
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("read glTF: %w", err)
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Info{}, ErrNotGLTF
	}
	info, err := inspectJSON(trimmed, false, 0, opt)
	return info, err
}

func inspectGLB(r io.ReaderAt, size int64, opt Options) (Info, error) {
	var head [headerBytes + chunkHeader]byte
	if size < int64(len(head)) {
		return Info{}, fmt.Errorf("%w: a GLB needs at least %d bytes for its header, got %d", ErrInvalid, len(head), size)
	}
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return Info{}, fmt.Errorf("read GLB header: %w", err)
	}
	version := binary.LittleEndian.Uint32(head[4:8])
	length := int64(binary.LittleEndian.Uint32(head[8:12]))
	if version != glbVersion {
		return Info{}, fmt.Errorf("%w: GLB version %d; only glTF 2.0 (version 2) is supported", ErrInvalid, version)
	}
	if length != size {
		if length > size {
			return Info{}, fmt.Errorf("%w: truncated: the GLB header says %d bytes but there are %d", ErrInvalid, length, size)
		}
		return Info{}, fmt.Errorf("%w: the GLB header says %d bytes but there are %d", ErrInvalid, length, size)
	}
	jsonLen := int64(binary.LittleEndian.Uint32(head[12:16]))
	if binary.LittleEndian.Uint32(head[16:20]) != chunkJSON {
		return Info{}, fmt.Errorf("%w: a GLB's first chunk must be JSON", ErrInvalid)
	}
	jsonEnd := int64(len(head)) + jsonLen
	if jsonEnd > size {
		return Info{}, fmt.Errorf("%w: truncated: the JSON chunk needs %d bytes, the file ends at %d", ErrInvalid, jsonEnd, size)
	}
	if jsonLen > MaxJSONBytes {
		return Info{}, fmt.Errorf("%w: a JSON chunk of %d bytes is larger than %d", ErrInvalid, jsonLen, MaxJSONBytes)
	}
	if jsonLen == 0 {
		return Info{}, fmt.Errorf("%w: the JSON chunk is empty", ErrInvalid)
	}
	if jsonLen%4 != 0 {
		return Info{}, fmt.Errorf("%w: the JSON chunk length %d is not a multiple of 4", ErrInvalid, jsonLen)
	}
	doc := make([]byte, jsonLen)
	if _, err := r.ReadAt(doc, int64(len(head))); err != nil {
		return Info{}, fmt.Errorf("read GLB JSON chunk: %w", err)
	}
	var binLen int64 = -1
	if jsonEnd < size {
		var ch [chunkHeader]byte
		if size-jsonEnd < chunkHeader {
			return Info{}, fmt.Errorf("%w: truncated: %d stray bytes after the JSON chunk", ErrInvalid, size-jsonEnd)
		}
		if _, err := r.ReadAt(ch[:], jsonEnd); err != nil {
			return Info{}, fmt.Errorf("read GLB chunk header: %w", err)
		}
		l := int64(binary.LittleEndian.Uint32(ch[:4]))
		if binary.LittleEndian.Uint32(ch[4:8]) != chunkBIN {
			return Info{}, fmt.Errorf("%w: the chunk after JSON must be BIN", ErrInvalid)
		}
		if end := jsonEnd + chunkHeader + l; end > size {
			return Info{}, fmt.Errorf("%w: truncated: the BIN chunk needs %d bytes, the file ends at %d", ErrInvalid, end, size)
		}
		// Chunks after BIN are allowed by the specification and ignored, as loaders do.
		binLen = l
	}
	info, err := inspectJSON(doc, true, binLen, opt)
	return info, err
}

// document is the part of the glTF schema Inspect looks at.
type document struct {
	Asset *struct {
		Version string `json:"version"`
	} `json:"asset"`
	Nodes []struct {
		Name string `json:"name"`
	} `json:"nodes"`
	Buffers []struct {
		URI        *string `json:"uri"`
		ByteLength int64   `json:"byteLength"`
	} `json:"buffers"`
	BufferViews []struct {
		Buffer     int   `json:"buffer"`
		ByteOffset int64 `json:"byteOffset"`
		ByteLength int64 `json:"byteLength"`
	} `json:"bufferViews"`
	Images []struct {
		URI *string `json:"uri"`
	} `json:"images"`
}

// inspectJSON checks the JSON document; binLen is the GLB's BIN chunk length, -1 for a GLB without one.
func inspectJSON(data []byte, binary bool, binLen int64, opt Options) (Info, error) {
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		if binary {
			return Info{}, fmt.Errorf("%w: the JSON chunk does not parse: %v", ErrInvalid, err)
		}
		return Info{}, fmt.Errorf("%w (the JSON does not parse: %v)", ErrNotGLTF, err)
	}
	if doc.Asset == nil || !strings.HasPrefix(doc.Asset.Version, "2.") {
		if binary {
			return Info{}, fmt.Errorf("%w: asset.version must be 2.x", ErrInvalid)
		}
		return Info{}, fmt.Errorf("%w (no asset with version 2.x)", ErrNotGLTF)
	}
	info := Info{Binary: binary}
	if binLen > 0 {
		info.BINBytes = binLen
	}
	info.Nodes = make([]string, len(doc.Nodes))
	for i, n := range doc.Nodes {
		info.Nodes[i] = n.Name
	}
	for i, b := range doc.Buffers {
		if b.ByteLength < 1 {
			return Info{}, fmt.Errorf("%w: buffer %d has byteLength %d; it must be at least 1", ErrInvalid, i, b.ByteLength)
		}
		info.BufferBytes += b.ByteLength
		if info.BufferBytes > opt.MaxBufferBytes || info.BufferBytes < 0 {
			return Info{}, fmt.Errorf("%w: the buffers add up to more than the %d-byte limit", ErrInvalid, opt.MaxBufferBytes)
		}
		switch {
		case b.URI == nil && binary && i == 0:
			// The GLB-stored buffer: the BIN chunk holds it, padded to 4 bytes.
			if binLen < b.ByteLength {
				return Info{}, fmt.Errorf("%w: truncated: buffer 0 needs %d bytes, the BIN chunk has %d", ErrInvalid,
					b.ByteLength, max(binLen, 0))
			}
		case b.URI == nil:
			return Info{}, fmt.Errorf("%w: buffer %d has no uri", ErrInvalid, i)
		default:
			n, err := dataURILen(*b.URI)
			if err != nil {
				return Info{}, fmt.Errorf("%w: buffer %d: %v", ErrInvalid, i, err)
			}
			if n < b.ByteLength {
				return Info{}, fmt.Errorf("%w: buffer %d says byteLength %d but its data holds %d bytes", ErrInvalid,
					i, b.ByteLength, n)
			}
		}
	}
	for i, v := range doc.BufferViews {
		if v.Buffer < 0 || v.Buffer >= len(doc.Buffers) {
			return Info{}, fmt.Errorf("%w: bufferView %d names buffer %d, which does not exist", ErrInvalid, i, v.Buffer)
		}
		if v.ByteOffset < 0 || v.ByteLength < 1 || v.ByteOffset+v.ByteLength > doc.Buffers[v.Buffer].ByteLength ||
			v.ByteOffset+v.ByteLength < 0 {
			return Info{}, fmt.Errorf("%w: bufferView %d (offset %d, length %d) does not fit in buffer %d", ErrInvalid,
				i, v.ByteOffset, v.ByteLength, v.Buffer)
		}
	}
	for i, img := range doc.Images {
		if img.URI == nil {
			continue // stored in a bufferView
		}
		n, err := dataURILen(*img.URI)
		if err != nil {
			return Info{}, fmt.Errorf("%w: image %d: %v", ErrInvalid, i, err)
		}
		info.EmbeddedImageBytes += n
		if info.BufferBytes+info.EmbeddedImageBytes > opt.MaxBufferBytes {
			return Info{}, fmt.Errorf("%w: the buffers and images add up to more than the %d-byte limit", ErrInvalid,
				opt.MaxBufferBytes)
		}
	}
	return info, nil
}

// dataURILen checks a data: URI (the only kind of URI allowed: an uploaded model must not load anything from
// elsewhere) and returns how many bytes it decodes to.
func dataURILen(uri string) (int64, error) {
	rest, ok := cutPrefixFold(uri, "data:")
	if !ok {
		return 0, fmt.Errorf("uri %q is not a data: URI; upload a .glb, or a .gltf with its buffers and images embedded", clip(uri))
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return 0, errors.New("a data: URI without a comma")
	}
	if strings.HasSuffix(strings.ToLower(meta), ";base64") {
		n, err := io.Copy(io.Discard, base64.NewDecoder(base64.StdEncoding, strings.NewReader(payload)))
		if err != nil {
			return 0, fmt.Errorf("the data: URI's base64 does not decode: %v", err)
		}
		return n, nil
	}
	s, err := url.PathUnescape(payload)
	if err != nil {
		return 0, fmt.Errorf("the data: URI's percent-encoding does not decode: %v", err)
	}
	return int64(len(s)), nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// GLB assembles a GLB container from a JSON document and an optional binary chunk, padding each chunk to 4 bytes
// as the specification requires (JSON with spaces, BIN with zeros). Tests and tools use it to make models.
func GLB(doc, bin []byte) []byte {
	pad := func(b []byte, with byte) []byte {
		for len(b)%4 != 0 {
			b = append(b, with)
		}
		return b
	}
	doc = pad(append([]byte(nil), doc...), ' ')
	total := headerBytes + chunkHeader + len(doc)
	if bin != nil {
		bin = pad(append([]byte(nil), bin...), 0)
		total += chunkHeader + len(bin)
	}
	out := make([]byte, 0, total)
	out = binary.LittleEndian.AppendUint32(out, glbMagic)
	out = binary.LittleEndian.AppendUint32(out, glbVersion)
	out = binary.LittleEndian.AppendUint32(out, uint32(total))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(doc)))
	out = binary.LittleEndian.AppendUint32(out, chunkJSON)
	out = append(out, doc...)
	if bin != nil {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(bin)))
		out = binary.LittleEndian.AppendUint32(out, chunkBIN)
		out = append(out, bin...)
	}
	return out
}
