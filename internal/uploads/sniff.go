package uploads

import (
	"bytes"
	"encoding/binary"
)

// Kind groups content types that share a size limit.
type Kind string

// The kinds of file toncon accepts.
const (
	KindImage Kind = "image"
	KindModel Kind = "model"
	KindVideo Kind = "video"
	KindAudio Kind = "audio"
	KindPDF   Kind = "pdf"
)

// Content types decided by Sniff.
const (
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeGIF  = "image/gif"
	TypeWebP = "image/webp"
	TypeGLB  = "model/gltf-binary"
	TypeGLTF = "model/gltf+json"
	TypeMP4  = "video/mp4"
	TypeWebM = "video/webm"
	TypeMP3  = "audio/mpeg"
	TypeOgg  = "audio/ogg"
	TypeWAV  = "audio/wav"
	TypePDF  = "application/pdf"
)

// kinds maps each accepted content type to its kind.
var kinds = map[string]Kind{
	TypePNG: KindImage, TypeJPEG: KindImage, TypeGIF: KindImage, TypeWebP: KindImage,
	TypeGLB: KindModel, TypeGLTF: KindModel,
	TypeMP4: KindVideo, TypeWebM: KindVideo,
	TypeMP3: KindAudio, TypeOgg: KindAudio, TypeWAV: KindAudio,
	TypePDF: KindPDF,
}

// KindOf returns the kind of an accepted content type, "" for any other.
func KindOf(contentType string) Kind { return kinds[contentType] }

// extensions are what /files/<id>.<ext> URLs end with for each type, so clients that look at the URL (three.js
// picks its loader by extension) see the right one.
var extensions = map[string]string{
	TypePNG: "png", TypeJPEG: "jpg", TypeGIF: "gif", TypeWebP: "webp", TypeGLB: "glb", TypeGLTF: "gltf",
	TypeMP4: "mp4", TypeWebM: "webm", TypeMP3: "mp3", TypeOgg: "ogg", TypeWAV: "wav", TypePDF: "pdf",
}

// Extension returns the usual file extension of an accepted content type, without a dot.
func Extension(contentType string) string { return extensions[contentType] }

// SniffBytes is how much of the start of a file Sniff wants to see.
const SniffBytes = 512

// Sniff decides the content type from the first bytes of a file (up to SniffBytes) by their magic numbers, and
// returns "" when they match no accepted type. HTML, scripts, SVG and anything else unlisted are never accepted.
// A JSON object is reported as TypeGLTF only as a candidate: the caller must parse it as glTF to be sure.
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return TypeGIF
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP":
		return TypeWebP
	case len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WAVE":
		return TypeWAV
	case bytes.HasPrefix(b, []byte("glTF")):
		return TypeGLB
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(b, []byte("OggS\x00")):
		return TypeOgg
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		// EBML: WebM or another Matroska file; browsers play WebM, so only that DocType is accepted.
		if bytes.Contains(b[:min(len(b), 64)], []byte("webm")) {
			return TypeWebM
		}
		return ""
	case isMP4(b):
		return TypeMP4
	case isID3(b) || isMP3Frame(b):
		return TypeMP3
	case isJSONObject(b):
		return TypeGLTF
	}
	return ""
}

// videoBrands are ISO base media brands of files browsers play as video/mp4. HEIF and AVIF images share the
// container (and the "ftyp" box) but are no video, so a file must name one of these.
var videoBrands = map[string]bool{
	"isom": true, "iso2": true, "iso3": true, "iso4": true, "iso5": true, "iso6": true, "iso8": true, "iso9": true,
	"mp41": true, "mp42": true, "avc1": true, "dash": true, "M4V ": true, "mmp4": true, "qt  ": true, "3gp4": true,
	"3gp5": true, "3gp6": true, "msnv": true, "f4v ": true,
}

// isMP4 looks for an "ftyp" box first with a video brand as the major brand or among the compatible ones.
func isMP4(b []byte) bool {
	if len(b) < 16 || string(b[4:8]) != "ftyp" {
		return false
	}
	// An ftyp box is a few brands long; a size past a page is text that happens to hold "ftyp" (" <00ftyp...").
	size := int(binary.BigEndian.Uint32(b[:4]))
	if size < 16 || size > 4096 || size%4 != 0 {
		return false
	}
	end := min(size, len(b))
	if videoBrands[string(b[8:12])] {
		return true
	}
	for i := 16; i+4 <= end; i += 4 {
		if videoBrands[string(b[i:i+4])] {
			return true
		}
	}
	return false
}

// isMP3Frame checks for an MPEG audio frame header with no ID3 tag before it: the 11-bit sync, a real version and
// layer (layer bits 00 would be AAC's ADTS), and a bitrate and sample rate that are not the reserved values.
func isMP3Frame(b []byte) bool {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return false
	}
	version := (b[1] >> 3) & 3
	layer := (b[1] >> 1) & 3
	bitrate := b[2] >> 4
	rate := (b[2] >> 2) & 3
	return version != 1 && layer != 0 && bitrate != 0xF && bitrate != 0 && rate != 3
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// isID3 checks for an ID3v2 tag header (versions 2.2 to 2.4): "ID3", a version, a revision that is not 0xFF, and
// a size of four 7-bit bytes, so a text file that happens to start with "ID3" is not taken for audio.
func isID3(b []byte) bool {
	if len(b) < 10 || !bytes.HasPrefix(b, []byte("ID3")) || b[3] < 2 || b[3] > 4 || b[4] == 0xFF {
		return false
	}
	return b[6]|b[7]|b[8]|b[9] < 0x80
}
