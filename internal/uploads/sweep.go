package uploads

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultSweepEvery is how often RunSweeper sweeps.
const DefaultSweepEvery = 5 * time.Minute

// sweepBatch bounds the rows one DeleteExpiredFiles call deletes, so one sweep never holds the write lock long.
const sweepBatch = 200

// SweepStats says what one Sweep removed.
type SweepStats struct {
	Rows  int // expired file rows deleted
	Blobs int // blobs no row used any more, deleted
	Temps int // temporary files left by uploads that never finished (a crash), deleted
}

// Sweep deletes the files that expired by the service's clock (Config.Now), then every blob no row uses and every
// temporary file no upload in progress owns. It is safe to run while uploads are under way.
func (s *Service) Sweep(ctx context.Context) (SweepStats, error) {
	var st SweepStats
	now := s.cfg.Now()
	for {
		gone, err := s.cfg.Store.DeleteExpiredFiles(ctx, now, sweepBatch)
		if err != nil {
			return st, fmt.Errorf("sweep expired files: %w", err)
		}
		st.Rows += len(gone)
		for _, f := range gone {
			removed, err := s.removeBlobIfUnused(ctx, f.SHA256)
			if err != nil {
				return st, err
			}
			if removed {
				st.Blobs++
			}
		}
		if len(gone) < sweepBatch {
			break
		}
	}
	if err := s.sweepOrphans(ctx, &st); err != nil {
		return st, err
	}
	return st, nil
}

// removeBlobIfUnused deletes the blob sum when no row uses it; false when a row does or it was already gone.
func (s *Service) removeBlobIfUnused(ctx context.Context, sum string) (bool, error) {
	s.blobs.Lock()
	defer s.blobs.Unlock()
	used, err := s.cfg.Store.BlobInUse(ctx, sum)
	if err != nil {
		return false, fmt.Errorf("sweep blob %s: %w", sum, err)
	}
	if used {
		return false, nil
	}
	var size int64
	if fi, err := os.Stat(s.blobPath(sum)); err == nil {
		size = fi.Size()
	}
	err = os.Remove(s.blobPath(sum))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sweep blob %s: %w", sum, err)
	}
	s.quota.addStored(-size)
	return true, nil
}

// sweepOrphans walks the files folder for blobs without a row (a crash between writing a blob and recording it)
// and temporary files without an upload.
func (s *Service) sweepOrphans(ctx context.Context, st *SweepStats) error {
	top, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("sweep the files folder: %w", err)
	}
	for _, e := range top {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix) && !e.IsDir():
			path := filepath.Join(s.cfg.Dir, name)
			s.blobs.Lock()
			if !s.pending[path] {
				if err := os.Remove(path); err == nil {
					st.Temps++
				}
			}
			s.blobs.Unlock()
		case e.IsDir() && len(name) == 2 && isLowerHex(name):
			blobs, err := os.ReadDir(filepath.Join(s.cfg.Dir, name))
			if err != nil {
				return fmt.Errorf("sweep the files folder: %w", err)
			}
			for _, b := range blobs {
				sum := b.Name()
				if b.IsDir() || len(sum) != 64 || !isLowerHex(sum) || sum[:2] != name {
					continue // not ours: leave it
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				removed, err := s.removeBlobIfUnused(ctx, sum)
				if err != nil {
					return err
				}
				if removed {
					st.Blobs++
				}
			}
		}
	}
	return nil
}

func isLowerHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// RunSweeper sweeps now and then every interval (DefaultSweepEvery when 0) until ctx ends, logging what it did.
func (s *Service) RunSweeper(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultSweepEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		st, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.cfg.Log.Warn("sweeping uploads", "err", err)
		case st != SweepStats{}:
			s.cfg.Log.Info("swept uploads", "rows", st.Rows, "blobs", st.Blobs, "temps", st.Temps)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
