package uploads

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
)

// BenchmarkPut measures storing an 8 MB video: sniffing, hashing, writing the temp file, syncing, renaming and
// recording the row (each iteration a different content, so every one writes a new blob).
func BenchmarkPut(b *testing.B) {
	e := newEnv(b, Limits{})
	data := append(sampleMP4(), make([]byte, 8<<20)...)
	b.SetBytes(int64(len(data)))
	for b.Loop() { // b.Loop starts the timer after the setup above
		rand.Read(data[len(data)-32:])
		if _, err := e.svc.Put(context.Background(), bytes.NewReader(data), "clip.mp4", 0); err != nil {
			b.Fatal(err)
		}
	}
}
