package cost

import (
	"fmt"
	"math"
	"strconv"
)

// Plan is what an operator knows before an event: how many people, how lively, for how long, and how long
// setting up takes. Start from DefaultPlan; the zero values of some fields (scalars, servers) are not defaults.
type Plan struct {
	CCU      int      `json:"ccu"`
	Activity Activity `json:"activity"`
	// HoursPerDay at top capacity, on each of Days days.
	HoursPerDay float64 `json:"hours_per_day"`
	Days        int     `json:"days"`
	// SetupHours of development (rooms, scenes, a custom client) on SetupServer.
	SetupHours  float64 `json:"setup_hours"`
	SetupServer string  `json:"setup_server"`
	// OffHours between setup and the event and between days, scaled down to OffServer or offline.
	OffHours  float64 `json:"off_hours"`
	OffServer string  `json:"off_server"`
	Scalars   Scalars `json:"scalars"`
	// Topology and Server force a choice; "" (or "auto" for Topology) lets the planner recommend.
	Topology string    `json:"topology,omitempty"`
	Server   string    `json:"server,omitempty"`
	Capacity *Capacity `json:"capacity,omitempty"`
}

// DefaultPlan has the seed's defaults: active avatars, one day, development on t3.medium (the seed's advice),
// time off in offline mode, and the worked example's scalars.
func DefaultPlan() Plan {
	return Plan{Activity: Active, Days: 1, SetupServer: "t3.medium", OffServer: "t3.medium", Scalars: SeedScalars()}
}

// Option is one layout and server type, sized for the plan's users.
type Option struct {
	Topology Topology `json:"topology"`
	Server   string   `json:"server"`
	VCPU     int      `json:"vcpu"`
	// Holds is how many users it is rated for at the plan's activity.
	Holds        int  `json:"holds"`
	HourlyUSD    Rate `json:"usd_per_hour"`            // all its servers
	PerServerUSD Rate `json:"usd_per_server_hour"`     // one server
	TooSmall     bool `json:"too_small,omitempty"`     // forced, and holds fewer users than planned
	Derived      bool `json:"derived_chart,omitempty"` // its chart is scaled from 2×2, not the seed's
}

// Line is one application of THE FORMULA, with the numbers put in.
type Line struct {
	Name         string  `json:"name"`
	Hours        float64 `json:"hours"`
	Server       string  `json:"server"`
	PerServerUSD Rate    `json:"usd_per_server_hour"`
	Servers      int     `json:"servers"`
	Scalar       float64 `json:"scalar"`
	USD          USD     `json:"usd"`
	Formula      string  `json:"formula"`
}

// Figures are an event's costs, as the seed's "Meta Cost Rough Estimate" lays them out: base = setup + off-time,
// total = top capacity + base, each total at the low and high top-capacity scalar.
type Figures struct {
	TopMin   USD `json:"top_capacity_min"`
	TopMax   USD `json:"top_capacity_max"`
	Setup    USD `json:"setup"`
	Off      USD `json:"off_time"`
	Base     USD `json:"base"`
	TotalMin USD `json:"total_min"`
	TotalMax USD `json:"total_max"`
}

func (f Figures) scaled(k float64) Figures {
	return figures(f.TopMin*USD(k), f.TopMax*USD(k), f.Setup*USD(k), f.Off*USD(k))
}

func figures(topMin, topMax, setup, off USD) Figures {
	base := setup + off
	return Figures{TopMin: topMin, TopMax: topMax, Setup: setup, Off: off, Base: base,
		TotalMin: topMin + base, TotalMax: topMax + base}
}

// DoubleCount is what the seed's worked example's method would give for a multi-server plan: it multiplies the
// Enterprise chart's price, which is already for all the servers, by the number of servers again.
type DoubleCount struct {
	Figures     Figures `json:"figures"`
	Explanation string  `json:"explanation"`
}

// Result is a plan's recommendation and estimate.
type Result struct {
	Plan           Plan     `json:"plan"`
	Choice         Option   `json:"choice"`
	CapacitySource string   `json:"capacity_source"`
	Alternatives   []Option `json:"alternatives,omitempty"`
	Formula        string   `json:"formula"`
	Lines          []Line   `json:"lines"`
	Figures        Figures  `json:"figures"`
	// SeedMethod is set when the layout has more than one server, where the seed's example goes wrong.
	SeedMethod *DoubleCount `json:"seed_method,omitempty"`
	Warnings   []string     `json:"warnings,omitempty"`
	Notes      []string     `json:"notes,omitempty"`
}

// FormulaText is THE FORMULA as the seed writes it, in toncon's words.
const FormulaText = "estimate for a state ($) = hours in state × EC2 $/h for one server × number of servers × scalar"

// Estimate recommends a layout and server type for the plan and prices the event.
func Estimate(p Plan) (*Result, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	charts := Charts(p.Capacity)
	choice, alts, err := recommend(charts, p)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: p, Choice: choice, Alternatives: alts, Formula: FormulaText}
	for _, ch := range charts {
		if ch.Topology.Name == choice.Topology.Name {
			res.CapacitySource = ch.Source
		}
	}

	n := choice.Topology.Servers
	setupPrice, _ := perServerPrice(p.SetupServer) // check made sure both are known
	offPrice, _ := perServerPrice(p.OffServer)
	topHours := p.HoursPerDay * float64(p.Days)
	topText := fmt.Sprintf("(%s h × %d day%s)", num(p.HoursPerDay), p.Days, plural(p.Days))
	res.Lines = []Line{
		line("top capacity, min", topHours, topText, choice.Server, choice.PerServerUSD, n, p.Scalars.TopMin),
		line("top capacity, max", topHours, topText, choice.Server, choice.PerServerUSD, n, p.Scalars.TopMax),
		line("setup", p.SetupHours, "", p.SetupServer, setupPrice, n, p.Scalars.Setup),
		line("off-time", p.OffHours, "", p.OffServer, offPrice, n, p.Scalars.Off),
	}
	res.Figures = figures(res.Lines[0].USD, res.Lines[1].USD, res.Lines[2].USD, res.Lines[3].USD)

	if n > 1 {
		dc := res.Figures.scaled(float64(n))
		res.SeedMethod = &DoubleCount{Figures: dc, Explanation: fmt.Sprintf(
			"The %s chart's $/h is for all %d servers: %s/h for %s is %d × %s. This estimate multiplies the "+
				"one-server price by %d servers. The seed's worked example multiplies the chart's price by the "+
				"servers again, which makes every line %d× too high: for this plan it would say top capacity %s–%s, "+
				"setup %s, total %s–%s.",
			choice.Topology.Label, n, choice.HourlyUSD, choice.Server, n, choice.PerServerUSD,
			n, n, dc.TopMin, dc.TopMax, dc.Setup, dc.TotalMin, dc.TotalMax)}
	}
	res.Warnings, res.Notes = advice(p, choice, alts)
	return res, nil
}

func line(name string, hours float64, hoursText, server string, price Rate, servers int, scalar float64) Line {
	if hoursText == "" {
		hoursText = num(hours) + " h"
	}
	usd := Formula(hours, price, servers, scalar)
	return Line{Name: name, Hours: hours, Server: server, PerServerUSD: price, Servers: servers, Scalar: scalar, USD: usd,
		Formula: fmt.Sprintf("%s × %s/h (%s) × %d server%s × %s = %s",
			hoursText, price, server, servers, plural(servers), num(scalar), usd)}
}

func (p Plan) check() error {
	bad := func(field string, v any, fix string) error {
		return &InputError{Field: field, Value: fmt.Sprint(v), Err: ErrOutOfRange, Fix: fix}
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case p.CCU < 1:
		return bad("ccu", p.CCU, "give the number of people connected at once, at least 1")
	case p.Activity != Active && p.Activity != Inactive:
		_, err := ParseActivity(string(p.Activity))
		return err
	case !(p.HoursPerDay > 0) || p.HoursPerDay > 24:
		return bad("hours", num(p.HoursPerDay), "give the hours per day at top capacity, more than 0 and at most 24")
	case p.Days < 1:
		return bad("days", p.Days, "give the number of event days, at least 1")
	case !(p.SetupHours >= 0) || !finite(p.SetupHours):
		return bad("setup-hours", num(p.SetupHours), "give the hours of setup and development, 0 or more")
	case !(p.OffHours >= 0) || !finite(p.OffHours):
		return bad("off-hours", num(p.OffHours), "give the hours scaled down or offline, 0 or more")
	}
	if _, err := perServerPrice(p.SetupServer); err != nil {
		return unknownServer("setup-server", p.SetupServer)
	}
	if _, err := perServerPrice(p.OffServer); err != nil {
		return unknownServer("off-server", p.OffServer)
	}
	if p.Server != "" {
		if _, err := perServerPrice(p.Server); err != nil {
			return err
		}
	}
	if p.Topology != "" && p.Topology != "auto" {
		if _, err := ParseTopology(p.Topology); err != nil {
			return err
		}
	}
	s := p.Scalars
	for _, x := range []float64{s.TopMin, s.TopMax, s.Setup, s.Off} {
		if !(x >= 0) || !finite(x) {
			return bad("state-scalar", num(x), "scalars are numbers of 0 or more")
		}
	}
	if s.TopMin > s.TopMax {
		return bad("state-scalar", fmt.Sprintf("top-min=%s,top-max=%s", num(s.TopMin), num(s.TopMax)),
			"top-min must not be more than top-max")
	}
	return nil
}

// recommend picks the cheapest server type that holds the users in the first layout where any does: layouts
// are tried smallest first because the seed advises scaling vertically before horizontally, even where a
// bigger layout of smaller servers would cost a little less. Alternatives are the cheapest fit in every
// smaller layout (possible only when the choice was forced) and, after one server, in Enterprise 2×2, which the
// seed recommends for resilience.
func recommend(charts []Chart, p Plan) (Option, []Option, error) {
	var forced *Topology
	if p.Topology != "" && p.Topology != "auto" {
		t, _ := ParseTopology(p.Topology)
		forced = &t
	}
	if p.Server != "" {
		if r, _ := charts[0].Row(p.Server); !r.Rated() {
			return Option{}, nil, &InputError{Field: "server", Value: p.Server, Err: ErrNotRated,
				Fix: "the seed does not recommend it (too little memory); choose another --server or leave it out"}
		}
	}
	fits := make([]*Option, len(charts))
	most, mostAt := 0, Option{}
	for i, ch := range charts {
		for _, r := range ch.Rows {
			if !r.Rated() || (p.Server != "" && r.Server != p.Server) {
				continue
			}
			o := option(ch, r, p.Activity)
			allowed := forced == nil || forced.Name == ch.Topology.Name
			if allowed && o.Holds > most {
				most, mostAt = o.Holds, o
			}
			if o.Holds < p.CCU {
				continue
			}
			if b := fits[i]; b == nil || o.HourlyUSD < b.HourlyUSD || (o.HourlyUSD == b.HourlyUSD && o.Holds > b.Holds) {
				fits[i] = &o
			}
		}
	}
	chosen := -1
	for i, ch := range charts {
		if fits[i] != nil && (forced == nil || forced.Name == ch.Topology.Name) {
			chosen = i
			break
		}
	}
	if chosen < 0 {
		if forced != nil && p.Server != "" {
			// Both were forced: the operator asked for this layout, so price it and warn rather than refuse.
			for i, ch := range charts {
				if ch.Topology.Name == forced.Name {
					r, _ := ch.Row(p.Server)
					o := option(ch, r, p.Activity)
					o.TooSmall = true
					return o, alternatives(fits, i), nil
				}
			}
		}
		return Option{}, nil, tooMany(p, most, mostAt)
	}
	return *fits[chosen], alternatives(fits, chosen), nil
}

func alternatives(fits []*Option, chosen int) []Option {
	var alts []Option
	for i, o := range fits {
		if o != nil && (i < chosen || (chosen == 0 && i == 1)) {
			alts = append(alts, *o)
		}
	}
	return alts
}

func option(ch Chart, r Row, a Activity) Option {
	return Option{Topology: ch.Topology, Server: r.Server, VCPU: r.VCPU, Holds: r.Holds(a),
		HourlyUSD: r.HourlyUSD, PerServerUSD: ch.PerServer(r), Derived: ch.Topology.Derived}
}

func tooMany(p Plan, most int, at Option) error {
	where := fmt.Sprintf("%s %s", at.Topology.Label, at.Server)
	var fix string
	switch {
	case p.Server != "":
		fix = fmt.Sprintf("%s holds at most %d %s users (%s); choose a bigger --server, or leave it out",
			p.Server, most, p.Activity, at.Topology.Label)
	case p.Topology != "" && p.Topology != "auto":
		fix = fmt.Sprintf("%s holds at most %d %s users (%s); choose a bigger --topology, or auto",
			at.Topology.Label, most, p.Activity, at.Server)
	default:
		fix = fmt.Sprintf("the largest layout, %s, holds %d %s users; plan at most that per deployment and split "+
			"the event across several, or measure your own capacity (toncon loadtest capacity) and pass --capacity",
			where, most, p.Activity)
	}
	if most == 0 {
		fix = "no server type is rated for any users with this capacity file; check its users per vCPU"
	}
	return &InputError{Field: "ccu", Value: strconv.Itoa(p.CCU), Err: ErrTooManyUsers, Fix: fix}
}

// advice explains the choices an operator should know about; warnings are things that may go wrong.
func advice(p Plan, c Option, alts []Option) (warnings, notes []string) {
	if c.TooSmall {
		warnings = append(warnings, fmt.Sprintf("%s on %s holds %d %s users, fewer than the %d planned: expect "+
			"lag and refused joins, or choose a bigger --server", c.Server, c.Topology.Label, c.Holds, p.Activity, p.CCU))
	}
	for _, s := range []struct{ field, server string }{{"setup", p.SetupServer}, {"off-time", p.OffServer}} {
		if s.server == "t3.micro" && !(s.field == "off-time" && p.Scalars.Off == 0) {
			warnings = append(warnings, fmt.Sprintf("%s on t3.micro: the seed does not recommend it (too little memory)", s.field))
		}
	}
	if p.Capacity != nil && (c.Server == "t3.small" || c.Server == "t3.medium") {
		warnings = append(warnings, "the seed rates "+c.Server+" lower for its small memory; the capacity file "+
			"measures CPU only, so check memory at this load")
	}
	if c.Derived {
		notes = append(notes, fmt.Sprintf("%s is not in the seed's charts: its figures are the 2×2 chart scaled to %d "+
			"servers, which assumes capacity grows in step with servers", c.Topology.Label, c.Topology.Servers))
	}
	if c.Topology.Servers == 1 {
		for _, a := range alts {
			if a.Topology.Name != "2x2" {
				continue
			}
			n := fmt.Sprintf("for resilience the seed recommends Enterprise 2×2 (if one server fails the others "+
				"take over): %s there holds %d at %s/h for all 4 servers", a.Server, a.Holds, a.HourlyUSD)
			if a.HourlyUSD < c.HourlyUSD {
				// Vertical-first chose the dearer option; say so, so the operator can weigh it.
				n += fmt.Sprintf(", less than this one server's %s/h", c.HourlyUSD)
			}
			notes = append(notes, n)
		}
	}
	if p.Scalars.Off == 0 {
		notes = append(notes, "off-time in offline mode costs no servers; storing backups, scenes and avatars "+
			"adds roughly $0–$10, not included")
	}
	return warnings, notes
}

// num prints hours and scalars without float noise: 4, 1.2, 0.5.
func num(x float64) string { return strconv.FormatFloat(roundTo(x, 1e6), 'f', -1, 64) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// String is the figures on one line, for logs and tests.
func (f Figures) String() string {
	return fmt.Sprintf("top %s–%s, setup %s, off %s, base %s, total %s–%s",
		f.TopMin, f.TopMax, f.Setup, f.Off, f.Base, f.TotalMin, f.TotalMax)
}
