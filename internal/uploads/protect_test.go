package uploads

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is a reply to an upload with its headers.
type answer struct {
	status int
	body   map[string]any
	header http.Header
}

// postFrom uploads data as "media" from the loopback address from (127.0.0.x: every one of them is this machine,
// so the server sees distinct real client addresses), as the env's account when withToken.
func (e *env) postFrom(t *testing.T, from, name string, data []byte, withToken bool) answer {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("media", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/media", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if withToken {
		req.Header.Set("Authorization", "bearer "+e.token)
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	return a
}

// pngOf is a real PNG padded with zeros to exactly n bytes (the type is decided by its head); seed makes it unique.
func pngOf(t *testing.T, n int, seed byte) []byte {
	b := samplePNG(t, 1, 1)
	if len(b) > n {
		t.Fatalf("a PNG cannot be %d bytes", n)
	}
	b = append(b, make([]byte, n-len(b))...)
	b[n-1] = seed
	return b
}

func blobCount(t *testing.T, e *env) int { return countFiles(t, e.dir) } // fails on a left temp file

func TestRateLimitPerAddressAndAccount(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.Rate = RateLimit{PerHour: 60, Burst: 3} }) // one a minute after three
	img := pngOf(t, 200, 1)
	for i := range 3 {
		if a := e.postFrom(t, "127.0.0.1", "a.png", img, false); a.status != 201 {
			t.Fatalf("upload %d of the burst: %d %v", i+1, a.status, a.body)
		}
	}
	a := e.postFrom(t, "127.0.0.1", "b.png", pngOf(t, 200, 2), false)
	msg := fmt.Sprint(a.body["message"])
	if a.status != 429 || a.body["error"] != "rate_limited" || a.header.Get("Retry-After") != "60" ||
		!strings.Contains(msg, "Try again in about 60 seconds") || !strings.Contains(msg, "3 in a row and then 60 an hour") {
		t.Fatalf("the 4th upload from one address: %d Retry-After %q %v", a.status, a.header.Get("Retry-After"), a.body)
	}
	if n := blobCount(t, e); n != 1 {
		t.Errorf("%d blobs after three uploads of one content and a refused one; the refused one was stored", n)
	}
	// Another address, and the signed-in account (on the limited address), each have their own allowance.
	if a := e.postFrom(t, "127.0.0.2", "c.png", img, false); a.status != 201 {
		t.Errorf("another address: %d %v", a.status, a.body)
	}
	for i := range 3 {
		if a := e.postFrom(t, "127.0.0.1", "d.png", img, true); a.status != 201 {
			t.Fatalf("account upload %d: %d %v", i+1, a.status, a.body)
		}
	}
	if a := e.postFrom(t, "127.0.0.2", "e.png", img, true); a.status != 429 {
		t.Errorf("the account's 4th upload, from another address: %d %v", a.status, a.body)
	}
	// A refused upload costs nothing: after 59 s there is still no token, after 60 s one.
	e.clock.Advance(59 * time.Second)
	if a := e.postFrom(t, "127.0.0.1", "f.png", img, false); a.status != 429 || a.header.Get("Retry-After") != "1" {
		t.Errorf("after 59 s: %d Retry-After %q %v", a.status, a.header.Get("Retry-After"), a.body)
	}
	e.clock.Advance(time.Second)
	if a := e.postFrom(t, "127.0.0.1", "g.png", img, false); a.status != 201 {
		t.Errorf("after 60 s: %d %v", a.status, a.body)
	}
	if a := e.postFrom(t, "127.0.0.1", "h.png", img, false); a.status != 429 {
		t.Errorf("right after the refilled one: %d %v", a.status, a.body)
	}
	// After 20 minutes the burst is back, and no more than it.
	e.clock.Advance(time.Hour)
	for i := range 3 {
		if a := e.postFrom(t, "127.0.0.1", "i.png", img, false); a.status != 201 {
			t.Errorf("upload %d after an hour: %d %v", i+1, a.status, a.body)
		}
	}
	if a := e.postFrom(t, "127.0.0.1", "j.png", img, false); a.status != 429 || !strings.Contains(fmt.Sprint(a.body["message"]), "60 seconds") {
		t.Errorf("the 4th after an hour: %d %v", a.status, a.body)
	}
}

func TestRateLimitOff(t *testing.T) {
	e := newEnv(t, Limits{}) // Rate zero: no limit
	for i := range 30 {
		if a := e.postFrom(t, "127.0.0.1", "a.png", pngOf(t, 100, byte(i)), false); a.status != 201 {
			t.Fatalf("upload %d without a limit: %d %v", i+1, a.status, a.body)
		}
	}
}

func TestLimiterRefusesBadConfig(t *testing.T) {
	for _, rl := range []RateLimit{{PerHour: -1, Burst: 1}, {PerHour: 60, Burst: 0}} {
		if _, err := newLimiter(rl); err == nil {
			t.Errorf("%+v accepted", rl)
		}
	}
}

func TestLimiterMemoryBounded(t *testing.T) {
	l, err := newLimiter(RateLimit{PerHour: 60, Burst: 2})
	if err != nil {
		t.Fatal(err)
	}
	if l.max != maxBuckets {
		t.Fatalf("the limiter holds up to %d buckets, not maxBuckets", l.max)
	}
	const maxBuckets = 5000 // the same logic, at a size the race detector runs quickly
	l.max = maxBuckets
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	// Twice maxBuckets clients, all within one refill time: the map never holds more than maxBuckets.
	for i := range 2 * maxBuckets {
		if ok, _ := l.take(fmt.Sprintf("ip:10.%d.%d.%d", i>>16, i>>8&255, i&255), now); !ok {
			t.Fatalf("client %d refused its first upload", i)
		}
		if l.size() > maxBuckets {
			t.Fatalf("%d buckets after %d clients", l.size(), i+1)
		}
	}
	if n := l.size(); n > maxBuckets || n < maxBuckets/2 {
		t.Errorf("%d buckets after %d clients; want at most %d (and the recent ones kept)", n, 2*maxBuckets, maxBuckets)
	}
	// A client that used its burst keeps its bucket through sweeps while it refills, then it goes.
	l.take("account:7", now)
	l.take("account:7", now)
	if ok, wait := l.take("account:7", now); ok || wait != time.Minute {
		t.Fatalf("account 7's third take: %v, wait %v", ok, wait)
	}
	// Two minutes later (a full bucket for everyone), one sweep's worth of takes empties the map but for those.
	later := now.Add(2 * time.Minute)
	for i := range bucketSweepEvery {
		l.take(fmt.Sprintf("ip:192.0.2.%d", i%200), later)
	}
	if n := l.size(); n > 200 {
		t.Errorf("%d buckets after every old one refilled; want at most the 200 clients of the last minute", n)
	}
}

func BenchmarkLimiterTake(b *testing.B) {
	l, _ := newLimiter(RateLimit{PerHour: 60, Burst: 20})
	now := time.Now()
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:198.51.%d.%d", i>>8, i&255)
	}
	i := 0
	for b.Loop() {
		l.take(keys[i&4095], now)
		i++
	}
}

func TestWaitWords(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Millisecond: "a second", 40 * time.Second: "about 40 seconds",
		89 * time.Second: "about 89 seconds", 90 * time.Second: "about 2 minutes", 59*time.Minute + 1: "about 60 minutes"} {
		if got := waitWords(d); got != want {
			t.Errorf("waitWords(%v) = %q, want %q", d, got, want)
		}
	}
}

// fakeDisk is a file system of size bytes for the free-space check: what is free is size less the bytes of every
// file in dir (the blobs and the temp files of uploads in progress), as statfs would say.
type fakeDisk struct {
	dir  string
	mu   sync.Mutex
	size int64
	err  error
}

func (d *fakeDisk) free(string) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	used := int64(0)
	filepath.WalkDir(d.dir, func(_ string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			if fi, err := de.Info(); err == nil {
				used += fi.Size()
			}
		}
		return nil
	})
	return uint64(max(0, d.size-used)), nil
}

func (d *fakeDisk) set(size int64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.size, d.err = size, err
}

// withDisk gives the service a fakeDisk of size bytes and a floor of minFree.
func withDisk(size, minFree int64) (*fakeDisk, func(*Config)) {
	d := &fakeDisk{size: size}
	return d, func(c *Config) { d.dir, c.MinFree, c.FreeSpace = c.Dir, minFree, d.free }
}

func TestStorageFloor(t *testing.T) {
	disk, set := withDisk(1<<30, 1<<30-8192) // 8192 bytes may be used before the floor
	e := newEnvWith(t, set)
	if a := e.postFrom(t, "127.0.0.1", "a.png", pngOf(t, 3000, 1), false); a.status != 201 {
		t.Fatalf("3000 bytes with 8192 to spare: %d %v", a.status, a.body)
	}
	// 5192 left: a 6000-byte file is stopped while it is read.
	a := e.postFrom(t, "127.0.0.1", "b.png", pngOf(t, 6000, 2), false)
	if a.status != 507 || a.body["error"] != "insufficient_storage" || !strings.Contains(fmt.Sprint(a.body["message"]), "running out of disk space") {
		t.Errorf("6000 bytes with 5192 to spare: %d %v", a.status, a.body)
	}
	// At the floor already: refused before anything is read.
	disk.set(1<<30-8192+3000, nil)
	if a := e.postFrom(t, "127.0.0.1", "c.png", pngOf(t, 100, 3), false); a.status != 507 {
		t.Errorf("at the floor: %d %v", a.status, a.body)
	}
	if n := blobCount(t, e); n != 1 {
		t.Errorf("%d blobs after one upload and two refused ones", n)
	}
	// A file system that cannot say how much is free does not stop uploads.
	disk.set(0, errors.New("statfs: no"))
	if a := e.postFrom(t, "127.0.0.1", "d.png", pngOf(t, 100, 4), false); a.status != 201 {
		t.Errorf("free space unknown: %d %v", a.status, a.body)
	}
}

// An upload in progress counts against the floor for the uploads that start while it runs, and they for it.
func TestStorageFloorCountsUploadsInProgress(t *testing.T) {
	_, set := withDisk(1<<30, 1<<30-8192)
	e := newEnvWith(t, set)
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, err := e.svc.Put(context.Background(), pr, "slow.png", 0)
		first <- err
	}()
	slow := pngOf(t, 7000, 1)
	if _, err := pw.Write(slow[:5000]); err != nil {
		t.Fatal(err)
	}
	// 5000 bytes in the first upload's temp file; it will write 2000 more.
	waitFor(t, func() bool { e.svc.quota.mu.Lock(); defer e.svc.quota.mu.Unlock(); return e.svc.quota.writing >= 5000 })
	_, err := e.svc.Put(context.Background(), bytes.NewReader(pngOf(t, 4000, 2)), "second.png", 0)
	var ue *UploadError
	if !errors.As(err, &ue) || ue.Status != 507 {
		t.Errorf("4000 bytes while 5000 of 8192 are being written: %v", err)
	}
	if _, err := e.svc.Put(context.Background(), bytes.NewReader(pngOf(t, 1000, 3)), "third.png", 0); err != nil {
		t.Errorf("1000 bytes while 5000 of 8192 are being written: %v", err)
	}
	// The first upload's last 2000 bytes would now cross the floor (5000 + 1000 + the second's bytes before it
	// was stopped): it is stopped too.
	pw.Write(slow[5000:])
	pw.Close()
	if err := <-first; !errors.As(err, &ue) || ue.Status != 507 {
		t.Errorf("the first upload, crossing the floor last: %v", err)
	}
	if n := blobCount(t, e); n != 1 {
		t.Errorf("%d blobs, want the third upload's only", n)
	}
}

// Bytes another upload writes while a new one asks the file system for its free space are counted against the
// new one: statfs may have measured before them, so the count the new upload starts from is read before statfs.
func TestStorageFloorCountsBytesWrittenDuringStatfs(t *testing.T) {
	disk, set := withDisk(1<<30, 1<<30-8192)
	var during func() // runs inside the next statfs, after it measured
	e := newEnvWith(t, func(c *Config) {
		set(c)
		c.FreeSpace = func(dir string) (uint64, error) {
			free, err := disk.free(dir)
			if f := during; f != nil {
				during = nil
				f()
			}
			return free, err
		}
	})
	writing := func() int64 { e.svc.quota.mu.Lock(); defer e.svc.quota.mu.Unlock(); return e.svc.quota.writing }
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, err := e.svc.Put(context.Background(), pr, "slow.png", 0)
		first <- err
	}()
	slow := pngOf(t, 8000, 1)
	if _, err := pw.Write(slow[:5000]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return writing() >= 5000 })
	during = func() { // 3000 more of the first upload's bytes, after statfs saw 3192 free
		if _, err := pw.Write(slow[5000:]); err != nil {
			t.Error(err)
		}
		waitFor(t, func() bool { return writing() >= 8000 })
	}
	_, err := e.svc.Put(context.Background(), bytes.NewReader(pngOf(t, 1000, 2)), "second.png", 0)
	var ue *UploadError
	if !errors.As(err, &ue) || ue.Status != 507 {
		t.Errorf("1000 bytes with 192 left above the floor: %v", err)
	}
	pw.Close()
	if err := <-first; err != nil {
		t.Errorf("the first upload, within the floor: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func TestStorageCap(t *testing.T) {
	// A blob from before the start (an orphan: no row) counts towards the total.
	old := bytes.Repeat([]byte{7}, 4096)
	sum := sha256.Sum256(old)
	name := hex.EncodeToString(sum[:])
	e := newEnvWith(t, func(c *Config) {
		c.MaxTotal = 10 << 10
		if err := os.MkdirAll(filepath.Join(c.Dir, name[:2]), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.Dir, name[:2], name), old, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if stored, _ := e.svc.quota.usage(); stored != 4096 {
		t.Fatalf("measured %d bytes stored at start, want 4096", stored)
	}
	if a := e.postFrom(t, "127.0.0.1", "a.png", pngOf(t, 5000, 1), false); a.status != 201 {
		t.Fatalf("5000 bytes onto 4096 of 10240: %d %v", a.status, a.body)
	}
	a := e.postFrom(t, "127.0.0.1", "b.png", pngOf(t, 2000, 2), false)
	msg := fmt.Sprint(a.body["message"])
	if a.status != 507 || a.body["error"] != "insufficient_storage" || !strings.Contains(msg, "does not fit") || !strings.Contains(msg, "of 10 KB used") {
		t.Errorf("2000 bytes onto 9096 of 10240: %d %v", a.status, a.body)
	}
	if n := blobCount(t, e); n != 2 {
		t.Errorf("%d files after the refused upload; want the two blobs", n)
	}
	// A small one still fits; then the cap is reached exactly and the next is refused before it is read.
	if a := e.postFrom(t, "127.0.0.1", "c.png", pngOf(t, 1144, 3), false); a.status != 201 {
		t.Fatalf("1144 bytes onto 9096 of 10240: %d %v", a.status, a.body)
	}
	if a := e.postFrom(t, "127.0.0.1", "d.png", pngOf(t, 100, 4), false); a.status != 507 || !strings.Contains(fmt.Sprint(a.body["message"]), "is full") {
		t.Errorf("onto a full cap: %d %v", a.status, a.body)
	}
	// The sweeper frees room: the orphan at once, the uploads once they expire.
	if _, err := e.svc.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored, _ := e.svc.quota.usage(); stored != 6144 {
		t.Errorf("%d bytes stored after the orphan went, want 6144", stored)
	}
	e.clock.Advance(DefaultTTL + time.Minute)
	if _, err := e.svc.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored, _ := e.svc.quota.usage(); stored != 0 {
		t.Errorf("%d bytes stored after everything expired, want 0", stored)
	}
	if a := e.postFrom(t, "127.0.0.1", "e.png", pngOf(t, 8000, 5), false); a.status != 201 {
		t.Errorf("8000 bytes after the sweep: %d %v", a.status, a.body)
	}
	// The same content twice makes one blob, so the total counts it once.
	for range 2 {
		if a := e.postFrom(t, "127.0.0.1", "f.png", pngOf(t, 1000, 6), false); a.status != 201 {
			t.Errorf("1000 bytes onto 8000: %d %v", a.status, a.body)
		}
	}
	if stored, _ := e.svc.quota.usage(); stored != 9000 {
		t.Errorf("%d bytes stored, want 9000", stored)
	}
}

func TestQuotaRefusesNegative(t *testing.T) {
	if _, err := newQuota(t.TempDir(), -1, 0, nil); err == nil {
		t.Error("a negative floor was accepted")
	}
	if _, err := newQuota(t.TempDir(), 0, -1, nil); err == nil {
		t.Error("a negative cap was accepted")
	}
}

// The real free-space reading says something plausible for the test's folder.
func TestFreeSpaceOfThisMachine(t *testing.T) {
	n, err := freeSpace(t.TempDir())
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("free space is not read on this system")
	}
	if err != nil || n == 0 {
		t.Errorf("freeSpace: %d, %v", n, err)
	}
}

func TestSizeWords(t *testing.T) {
	for n, want := range map[int64]string{100: "100 bytes", 10 << 10: "10 KB", 3500 << 10: "3.4 MB", 1 << 30: "1 GB",
		15 << 30: "15 GB"} {
		if got := sizeWords(n); got != want {
			t.Errorf("sizeWords(%d) = %q, want %q", n, got, want)
		}
	}
}

// BenchmarkFreeSpace is the statfs each upload pays for the floor.
func BenchmarkFreeSpace(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if _, err := freeSpace(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlobBytes is what a cap costs at start: summing 10,000 blobs' sizes.
func BenchmarkBlobBytes(b *testing.B) {
	dir := b.TempDir()
	for i := range 10000 {
		sum := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		name := hex.EncodeToString(sum[:])
		os.MkdirAll(filepath.Join(dir, name[:2]), 0o700)
		if err := os.WriteFile(filepath.Join(dir, name[:2], name), []byte("x"), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if n, err := blobBytes(dir); err != nil || n != 10000 {
			b.Fatal(n, err)
		}
	}
}
