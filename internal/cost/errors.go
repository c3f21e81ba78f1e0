package cost

import (
	"errors"
	"fmt"
)

// Kinds of bad input. An *InputError or *CapacityError wraps one of them, so callers can tell them apart with
// errors.Is and every one is something the operator can fix by changing an input.
var (
	ErrUnknownServer   = errors.New("unknown server type")
	ErrUnknownActivity = errors.New("unknown activity")
	ErrUnknownTopology = errors.New("unknown topology")
	ErrUnknownState    = errors.New("unknown scalar state")
	ErrOutOfRange      = errors.New("out of range")
	ErrNotRated        = errors.New("the charts rate this server type for no users")
	ErrTooManyUsers    = errors.New("more users than any layout holds")
	ErrCapacityFile    = errors.New("bad capacity file")
)

// InputError is an input the plan cannot use. Field is named as the CLI's flag is (ccu, server, hours), so the
// CLI can print "--field"; Fix says what to change.
type InputError struct {
	Field string
	Value string
	Err   error
	Fix   string
}

func (e *InputError) Error() string {
	v := ""
	if e.Value != "" {
		v = fmt.Sprintf(" %q", e.Value)
	}
	if e.Fix == "" {
		return fmt.Sprintf("%s%s: %v", e.Field, v, e.Err)
	}
	return fmt.Sprintf("%s%s: %v; %s", e.Field, v, e.Err, e.Fix)
}

func (e *InputError) Unwrap() error { return e.Err }

// CapacityError is a capacity file that cannot be used. Field is the JSON field at fault, if one is.
type CapacityError struct {
	Path  string
	Field string
	Err   error
	Fix   string
}

func (e *CapacityError) Error() string {
	s := "capacity file"
	if e.Path != "" {
		s += " " + e.Path
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	s += fmt.Sprintf(": %v", e.Err)
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

func (e *CapacityError) Unwrap() error { return e.Err }

// Is makes every CapacityError match ErrCapacityFile, whatever its cause.
func (e *CapacityError) Is(target error) bool { return target == ErrCapacityFile }
