package uploads

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
)

// DefaultMinFree is the free space toncon serve keeps on the data folder's file system by default: below it new
// uploads are refused, so the database, its write-ahead log and the log files still have room.
const DefaultMinFree = 1 << 30

// quota refuses uploads that would leave the files folder's file system with less than minFree bytes free or make
// the stored blobs take more than maxTotal bytes (0: no such check).
//
// The free space is asked of the file system (statfs, a microsecond) when an upload starts; the bytes every
// upload writes after that are counted here, so an upload stops as soon as it would cross the floor, however many
// run at once. The total of stored blobs is kept in memory: summed from the files folder when the service starts
// (only with a cap), then changed when a new blob is published or one is swept.
type quota struct {
	minFree, maxTotal int64
	dir               string
	free              func(dir string) (uint64, error)

	mu      sync.Mutex // guards the counters
	stored  int64      // bytes of the blobs in the files folder (kept only when maxTotal > 0)
	writing int64      // bytes the uploads in progress have written so far
	written int64      // bytes every upload has written since the start; only grows
}

// Errors of an upload's writer; Put turns them into 507 answers.
var (
	errLowSpace = errors.New("low on disk space")
	errOverCap  = errors.New("over the upload cap")
)

func newQuota(dir string, minFree, maxTotal int64, free func(string) (uint64, error)) (*quota, error) {
	if minFree < 0 || maxTotal < 0 {
		return nil, fmt.Errorf("uploads: MinFree and MaxTotal must not be negative (got %d and %d)", minFree, maxTotal)
	}
	if free == nil {
		free = freeSpace
	}
	q := &quota{minFree: minFree, maxTotal: maxTotal, dir: dir, free: free}
	if maxTotal > 0 {
		n, err := blobBytes(dir)
		if err != nil {
			return nil, fmt.Errorf("uploads: measure the stored files: %w", err)
		}
		q.stored = n
	}
	return q, nil
}

// blobBytes adds up the sizes of the blobs in dir (files named by their SHA-256 in two-letter folders).
func blobBytes(dir string) (int64, error) {
	top, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range top {
		if !e.IsDir() || len(e.Name()) != 2 || !isLowerHex(e.Name()) {
			continue
		}
		blobs, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, err
		}
		for _, b := range blobs {
			if b.IsDir() || len(b.Name()) != 64 || !isLowerHex(b.Name()) {
				continue
			}
			if fi, err := b.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	return n, nil
}

// upload is one upload's share of the quota: an io.Writer placed before the temp file, which refuses the bytes that
// would cross the floor or the cap before they are written.
type upload struct {
	q              *quota
	freeAtStart    int64 // -1: the file system did not say
	writtenAtStart int64
	n              int64
}

// begin checks that a new upload may start at all and returns its writer; end must follow.
func (q *quota) begin() (*upload, error) {
	u := &upload{q: q, freeAtStart: -1}
	// The count is read before the file system is asked, so bytes written in between are counted twice (once in
	// what statfs no longer reports free, once in written) rather than not at all.
	q.mu.Lock()
	u.writtenAtStart = q.written
	q.mu.Unlock()
	if q.minFree > 0 {
		free, err := q.free(q.dir)
		if err == nil {
			u.freeAtStart = int64(min(free, math.MaxInt64))
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.check(u, 1); err != nil { // not even one more byte fits
		return nil, err
	}
	return u, nil
}

// check says whether n more bytes of u fit. q.mu is held.
func (q *quota) check(u *upload, n int64) error {
	if u.freeAtStart >= 0 && u.freeAtStart-(q.written-u.writtenAtStart)-n < q.minFree {
		return errLowSpace
	}
	if q.maxTotal > 0 && q.stored+q.writing+n > q.maxTotal {
		return errOverCap
	}
	return nil
}

func (u *upload) Write(p []byte) (int, error) {
	q := u.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.check(u, int64(len(p))); err != nil {
		return 0, err
	}
	q.writing += int64(len(p))
	q.written += int64(len(p))
	u.n += int64(len(p))
	return len(p), nil
}

// end gives back what the upload's temp file held; the blob, if it was published, is counted by stored.
func (u *upload) end() {
	u.q.mu.Lock()
	defer u.q.mu.Unlock()
	u.q.writing -= u.n
	u.n = 0
}

// addStored changes the total of stored blobs by n bytes (a new blob, or a removed one).
func (q *quota) addStored(n int64) {
	if q.maxTotal == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stored += n
}

// usage is the stored total and the cap, for messages.
func (q *quota) usage() (stored, maxTotal int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stored, q.maxTotal
}

// refusal is the 507 answer for errLowSpace or errOverCap; nil for any other error.
func (q *quota) refusal(err error, started bool) *UploadError {
	switch {
	case errors.Is(err, errLowSpace):
		return refuse(507, "insufficient_storage", "the server is running out of disk space and takes no more "+
			"uploads for now; tell the event's organiser")
	case errors.Is(err, errOverCap):
		stored, limit := q.usage()
		if started {
			return refuse(507, "insufficient_storage", "this file does not fit in the space this server keeps for "+
				"uploads (%s of %s used); try a smaller file, or tell the event's organiser", sizeWords(stored), sizeWords(limit))
		}
		return refuse(507, "insufficient_storage", "the space this server keeps for uploads is full (%s of %s "+
			"used); tell the event's organiser", sizeWords(stored), sizeWords(limit))
	}
	return nil
}

// sizeWords is a byte count rounded for people: "512 KB", "3.4 MB", "10 GB".
func sizeWords(n int64) string {
	const k = 1 << 10
	for _, u := range []struct {
		unit string
		size float64
	}{{"TB", k * k * k * k}, {"GB", k * k * k}, {"MB", k * k}, {"KB", k}} {
		if f := float64(n) / u.size; f >= 1 {
			if f >= 10 || f == math.Trunc(f) {
				return fmt.Sprintf("%.0f %s", math.Round(f), u.unit)
			}
			return fmt.Sprintf("%.1f %s", f, u.unit)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
