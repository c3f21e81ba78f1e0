package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// CapacityVersion is the capacity file format this package reads and writes.
const CapacityVersion = 1

// maxCapacityFile bounds what we read: a capacity file is a few hundred bytes, so anything near this is not one.
const maxCapacityFile = 1 << 20

// maxUsersPerVCPU is far beyond anything measurable; above it a figure is a typo, and would overflow CCU.
const maxUsersPerVCPU = 1_000_000

// Capacity is what toncon loadtest measured on one machine: how many users one vCPU holds with active avatars
// and with mostly inactive ones, under a stated service level. Given to the planner it replaces the seed's CCU
// bands (CCU = vCPU × users per vCPU) and keeps the seed's prices.
//
// The file is JSON (docs/cost.md):
//
//	{"version": 1, "measured_at": "2026-03-01T12:00:00Z", "machine": "EPYC 7B13, server pinned to 1 core",
//	 "active_users_per_vcpu": 210, "inactive_users_per_vcpu": 640, "slo": "p99<200ms,loss<1%"}
//
// version, measured_at, machine and both users-per-vCPU figures are required: a plan should always say where its
// numbers come from. Fields this version does not know are ignored, so the load tester can add its own.
type Capacity struct {
	Version              int       `json:"version"`
	MeasuredAt           time.Time `json:"measured_at"`
	Machine              string    `json:"machine"`
	ActiveUsersPerVCPU   float64   `json:"active_users_per_vcpu"`
	InactiveUsersPerVCPU float64   `json:"inactive_users_per_vcpu"`
	SLO                  string    `json:"slo,omitempty"`
	TonconVersion        string    `json:"toncon_version,omitempty"`
	Notes                string    `json:"notes,omitempty"`
}

// capacityFile mirrors Capacity with pointers, so a missing field can be told from a zero one.
type capacityFile struct {
	Version              *int     `json:"version"`
	MeasuredAt           *string  `json:"measured_at"`
	Machine              *string  `json:"machine"`
	ActiveUsersPerVCPU   *float64 `json:"active_users_per_vcpu"`
	InactiveUsersPerVCPU *float64 `json:"inactive_users_per_vcpu"`
	SLO                  string   `json:"slo"`
	TonconVersion        string   `json:"toncon_version"`
	Notes                string   `json:"notes"`
}

var errMissing = errors.New("missing")

// LoadCapacity reads a capacity file from disk.
func LoadCapacity(path string) (*Capacity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &CapacityError{Path: path, Err: err,
			Fix: "check the path given to --capacity, or write one with toncon loadtest capacity"}
	}
	defer f.Close()
	c, err := ParseCapacity(f)
	var ce *CapacityError
	if errors.As(err, &ce) {
		ce.Path = path
	}
	return c, err
}

// ParseCapacity decodes and checks a capacity file.
func ParseCapacity(r io.Reader) (*Capacity, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCapacityFile+1))
	if err != nil {
		return nil, &CapacityError{Err: err}
	}
	if len(data) > maxCapacityFile {
		return nil, &CapacityError{Err: fmt.Errorf("larger than %d bytes", maxCapacityFile),
			Fix: "give the small JSON file toncon loadtest capacity writes, not its full result"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw capacityFile
	if err := dec.Decode(&raw); err != nil {
		return nil, jsonError(data, err)
	}
	if dec.More() {
		return nil, &CapacityError{Err: errors.New("more than one JSON value"), Fix: "keep one JSON object in the file"}
	}
	return raw.check()
}

func (raw capacityFile) check() (*Capacity, error) {
	missing := func(field, what string) error {
		return &CapacityError{Field: field, Err: errMissing, Fix: "add " + what}
	}
	switch {
	case raw.Version == nil:
		return nil, missing("version", `"version": 1`)
	case *raw.Version != CapacityVersion:
		return nil, &CapacityError{Field: "version", Err: fmt.Errorf("version %d is not supported", *raw.Version),
			Fix: fmt.Sprintf("this toncon reads version %d; measure again with this toncon's loadtest", CapacityVersion)}
	case raw.MeasuredAt == nil:
		return nil, missing("measured_at", `when it was measured, e.g. "measured_at": "2026-03-01T12:00:00Z"`)
	case raw.Machine == nil || strings.TrimSpace(*raw.Machine) == "":
		return nil, missing("machine", `what it was measured on, e.g. "machine": "EPYC 7B13, 1 core"`)
	case raw.ActiveUsersPerVCPU == nil:
		return nil, missing("active_users_per_vcpu", "the users per vCPU measured with the active profile")
	case raw.InactiveUsersPerVCPU == nil:
		return nil, missing("inactive_users_per_vcpu", "the users per vCPU measured with the inactive profile")
	}
	at, err := time.Parse(time.RFC3339, *raw.MeasuredAt)
	if err != nil {
		return nil, &CapacityError{Field: "measured_at", Err: fmt.Errorf("%q is not a time", *raw.MeasuredAt),
			Fix: `write it in RFC 3339, e.g. "2026-03-01T12:00:00Z"`}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"active_users_per_vcpu", *raw.ActiveUsersPerVCPU}, {"inactive_users_per_vcpu", *raw.InactiveUsersPerVCPU}} {
		if !(f.v > 0) || f.v > maxUsersPerVCPU {
			return nil, &CapacityError{Field: f.name, Err: fmt.Errorf("%v: %w", f.v, ErrOutOfRange),
				Fix: fmt.Sprintf("users per vCPU must be more than 0 and at most %d", maxUsersPerVCPU)}
		}
	}
	return &Capacity{
		Version:              *raw.Version,
		MeasuredAt:           at,
		Machine:              strings.TrimSpace(*raw.Machine),
		ActiveUsersPerVCPU:   *raw.ActiveUsersPerVCPU,
		InactiveUsersPerVCPU: *raw.InactiveUsersPerVCPU,
		SLO:                  raw.SLO,
		TonconVersion:        raw.TonconVersion,
		Notes:                raw.Notes,
	}, nil
}

// jsonError turns a decoder error into one that points at the line and column, which is what a person editing
// the file needs.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return &CapacityError{Err: fmt.Errorf("line %d column %d: %v", line, col, syn), Fix: "fix the JSON there"}
	case errors.As(err, &typ):
		return &CapacityError{Field: typ.Field, Err: fmt.Errorf("is a JSON %s, want %s", typ.Value, typ.Type),
			Fix: "see docs/cost.md for the format"}
	case errors.Is(err, io.EOF):
		return &CapacityError{Err: errors.New("empty"), Fix: "write one with toncon loadtest capacity"}
	}
	return &CapacityError{Err: err, Fix: "see docs/cost.md for the format"}
}

// position is the line and column of the byte a SyntaxError's Offset (bytes read so far) ended on.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// Source says where the figures came from, for a plan's output.
func (c *Capacity) Source() string {
	s := fmt.Sprintf("measured on %s at %s", c.Machine, c.MeasuredAt.UTC().Format(time.RFC3339))
	if c.SLO != "" {
		s += " (" + c.SLO + ")"
	}
	return fmt.Sprintf("%s: %g active / %g inactive users per vCPU", s, c.ActiveUsersPerVCPU, c.InactiveUsersPerVCPU)
}

// apply replaces a chart's CCU with the measured figures. t3.micro stays unrated: the seed rules it out for its
// memory, which a CPU measurement says nothing about.
func (c *Capacity) apply(ch Chart) Chart {
	rows := make([]Row, len(ch.Rows))
	for i, r := range ch.Rows {
		if !r.NotRecommended {
			// The tiny epsilon keeps 16 × 30.000000000000004-style products from losing a whole user to floor.
			r.CCUMin = int(math.Floor(float64(r.VCPU)*c.ActiveUsersPerVCPU + 1e-9))
			r.CCUMax = int(math.Floor(float64(r.VCPU)*c.InactiveUsersPerVCPU + 1e-9))
		}
		rows[i] = r
	}
	ch.Rows = rows
	ch.Source = c.Source()
	return ch
}
