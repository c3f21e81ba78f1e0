package cost

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// USD is an amount of money in US dollars. Sums are kept exact-ish in float64 and rounded to cents only when
// shown (String, JSON), so an estimate and its parts always print consistently.
type USD float64

// Cents is the amount rounded half away from zero to whole cents. It rounds to the micro-dollar first so that
// float noise (25.920000000000002, 43.00499999) cannot flip the last cent.
func (u USD) Cents() int64 { return int64(math.Round(roundTo(float64(u), 1e6) * 100)) }

// String formats as $1,234.56.
func (u USD) String() string {
	c := u.Cents()
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s$%s.%02d", sign, group(c/100), c%100)
}

// MarshalJSON writes dollars rounded to cents, as a number.
func (u USD) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(u.Cents())/100, 'f', -1, 64)), nil
}

// Rate is a price per hour in US dollars. The seed's prices have three decimals ($0.183/h), so rates print with
// three and keep micro-dollars in JSON.
type Rate float64

func (r Rate) String() string {
	s := strconv.FormatFloat(roundTo(float64(r), 1e6), 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i < 0 {
		s += ".000"
	} else if d := len(s) - i - 1; d < 3 {
		s += strings.Repeat("0", 3-d)
	}
	return "$" + s
}

// MarshalJSON writes the rate rounded to the micro-dollar.
func (r Rate) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(roundTo(float64(r), 1e6), 'f', -1, 64)), nil
}

func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Formula is THE FORMULA from the seed: estimate for a stack state ($) = hours in the state × EC2 cost per hour
// for one server × number of servers × SCALAR. The scalar stands in for everything that is not EC2 (database,
// file storage, data transfer), which grows with how busy the stack is.
func Formula(hours float64, perServer Rate, servers int, scalar float64) USD {
	return USD(hours * float64(perServer) * float64(servers) * scalar)
}

// State is one of the seed's scalar states: how much the whole stack costs relative to its EC2 servers alone.
type State struct {
	Name string `json:"name"`
	// Low and High bound the scalar; they differ only for "active", which the seed gives as 2×–3×.
	Low         float64 `json:"low"`
	High        float64 `json:"high"`
	Description string  `json:"description"`
}

var states = []State{
	{"top-active", 5, 5, "top active capacity: a hard upper bound, heavy use of other services (top CCU, streaming video, large scenes, avatars moving and talking)"},
	{"average", 4, 4, "average use of other services: no videos, some people connected"},
	{"active", 2, 3, "active: a few people connected, setting up or creating scenes"},
	{"online-idle", 2, 2, "online, not active, database pausing off"},
	{"online-paused", 1.2, 1.2, "online, not active, nobody connected, database pausing on"},
	{"offline", 0, 0, "offline mode: paying only for scene and avatar assets and backups (~$0–$10 for the backups)"},
}

// States returns the seed's scalar states, busiest first.
func States() []State { return append([]State(nil), states...) }

// ParseScalar reads a scalar as a number (3, 1.2) or a state name. A state given as a range ("active", 2×–3×)
// means its upper end, as the seed's own example does for development ("upper bound for costs just in case").
func ParseScalar(field, s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, st := range states {
		if st.Name == t {
			return st.High, nil
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(t, "x"), 64)
	if err != nil {
		names := make([]string, len(states))
		for i, st := range states {
			names[i] = st.Name
		}
		return 0, &InputError{Field: field, Value: s, Err: ErrUnknownState,
			Fix: "give a number such as 3 or 1.2, or a state: " + strings.Join(names, ", ")}
	}
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, &InputError{Field: field, Value: s, Err: ErrOutOfRange, Fix: "a scalar is a number of 0 or more"}
	}
	return v, nil
}

// Scalars are the multipliers an estimate uses for each of its states.
type Scalars struct {
	TopMin float64 `json:"top_min"` // top capacity, low end of the range
	TopMax float64 `json:"top_max"` // top capacity, upper bound
	Setup  float64 `json:"setup"`   // setup and development
	Off    float64 `json:"off"`     // off-time, scaled down or offline
}

// SeedScalars are the ones the seed's worked example uses: 3× (people connected, a few videos) to 5× (upper bound)
// at top capacity, 3× for development, and offline (0×) for the time between.
func SeedScalars() Scalars { return Scalars{TopMin: 3, TopMax: 5, Setup: 3, Off: 0} }

// ParseScalars overrides some of base from "top-min=3,top-max=5,setup=active,off=online-paused".
func ParseScalars(base Scalars, s string) (Scalars, error) {
	if strings.TrimSpace(s) == "" {
		return base, nil
	}
	const keys = "top-min, top-max, setup, off"
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok {
			return base, &InputError{Field: "state-scalar", Value: part, Err: ErrUnknownState,
				Fix: "write key=value pairs separated by commas, keys " + keys + ", e.g. off=online-paused"}
		}
		var p *float64
		switch k {
		case "top-min":
			p = &base.TopMin
		case "top-max":
			p = &base.TopMax
		case "setup":
			p = &base.Setup
		case "off":
			p = &base.Off
		default:
			return base, &InputError{Field: "state-scalar", Value: k, Err: ErrUnknownState, Fix: "use the keys " + keys}
		}
		x, err := ParseScalar("state-scalar", v)
		if err != nil {
			return base, err
		}
		*p = x
	}
	return base, nil
}
