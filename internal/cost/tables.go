// Package cost plans capacity and cost for a toncon event: the seed's CCU and price charts as data, its scalar
// states and THE FORMULA (hours in state × $/h per server × servers × scalar), a topology recommendation, and an
// event estimate. It is pure computation so the CLI (toncon cost) and the /cost page give the same answers.
//
// The figures come from the Hubs Cloud cost charts (AWS us-east-1 prices, CCU bands from Mozilla's tests). They
// are estimates for planning, not a bill; a capacity file measured by toncon loadtest replaces the CCU bands with
// numbers from the operator's own hardware.
package cost

import (
	"fmt"
	"math"
	"strings"
)

// Activity says which of a chart's two CCU columns applies.
type Activity string

const (
	// Active avatars: lots of movement and talking, a meetup. The chart's "CCU Min" column.
	Active Activity = "active"
	// Inactive avatars: mostly watching a video, one speaking. The chart's "CCU Max" column.
	Inactive Activity = "inactive"
)

// ParseActivity reads "active" or "inactive".
func ParseActivity(s string) (Activity, error) {
	switch a := Activity(strings.ToLower(strings.TrimSpace(s))); a {
	case Active, Inactive:
		return a, nil
	}
	return "", &InputError{Field: "activity", Value: s, Err: ErrUnknownActivity,
		Fix: "use active (lots of movement and talking) or inactive (mostly watching, one speaker)"}
}

// Topology is a server layout: Personal is one server; Enterprise splits app and voice/video streaming servers.
type Topology struct {
	Name    string `json:"name"`  // what --topology takes: personal, 2x2, 4x4, 8x8
	Label   string `json:"label"` // what people read
	App     int    `json:"app_servers"`
	Stream  int    `json:"stream_servers"`
	Servers int    `json:"servers"`
	// Derived is true for layouts the seed recommends but gives no chart for; their chart is scaled from 2×2.
	Derived bool `json:"derived,omitempty"`
}

// The layouts in the order the planner tries them: the seed advises scaling vertically (a bigger server) before
// horizontally (more servers), because every extra server is one more thing to fail and, on Hubs Cloud, one more
// Let's Encrypt certificate ("we've seen this for 12x12 builds").
var topologies = []Topology{
	{Name: "personal", Label: "Personal (1 server)", App: 1, Stream: 0, Servers: 1},
	{Name: "2x2", Label: "Enterprise 2×2 (2 app + 2 stream, 4 servers)", App: 2, Stream: 2, Servers: 4},
	{Name: "4x4", Label: "Enterprise 4×4 (4 app + 4 stream, 8 servers)", App: 4, Stream: 4, Servers: 8, Derived: true},
	{Name: "8x8", Label: "Enterprise 8×8 (8 app + 8 stream, 16 servers)", App: 8, Stream: 8, Servers: 16, Derived: true},
}

// Topologies returns the layouts, smallest first.
func Topologies() []Topology { return append([]Topology(nil), topologies...) }

// ParseTopology reads a layout name; "1", "single" and "enterprise-2x2"-style spellings are accepted too.
func ParseTopology(s string) (Topology, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.TrimPrefix(n, "enterprise-")
	n = strings.ReplaceAll(n, "×", "x")
	switch n {
	case "1", "single", "1x0", "1x1":
		n = "personal"
	}
	for _, t := range topologies {
		if t.Name == n {
			return t, nil
		}
	}
	return Topology{}, &InputError{Field: "topology", Value: s, Err: ErrUnknownTopology,
		Fix: "use auto, personal, 2x2, 4x4 or 8x8"}
}

// Row is one server type in a chart. VCPU, CCU and price are for the whole layout, as the seed's charts give them:
// the Enterprise 2×2 chart's c5.xlarge row says 16 vCPU and $1.080/h, which is four servers of 4 vCPU at $0.270.
type Row struct {
	Server string `json:"server"`
	VCPU   int    `json:"vcpu"`
	// CCUMin is the most concurrent users with active avatars; 0 means the chart gives none (N/A).
	CCUMin int `json:"ccu_min"`
	// CCUMax is the most concurrent users with mostly inactive avatars; 0 means N/A.
	CCUMax int `json:"ccu_max"`
	// HourlyUSD is the EC2 price of all the layout's servers for one hour, us-east-1.
	HourlyUSD Rate `json:"usd_per_hour"`
	// PerServerUSD is one server's price: HourlyUSD divided by the layout's servers. It is what THE FORMULA
	// multiplies by the number of servers; the seed's own example used HourlyUSD there and counted servers twice.
	PerServerUSD Rate `json:"usd_per_server_hour"`
	// NotRecommended marks t3.micro: too little memory, so the charts rate it for no users at all.
	NotRecommended bool `json:"not_recommended,omitempty"`
}

func row(server string, vcpu, ccuMin, ccuMax int, usd Rate, notRecommended bool) Row {
	return Row{Server: server, VCPU: vcpu, CCUMin: ccuMin, CCUMax: ccuMax, HourlyUSD: usd, NotRecommended: notRecommended}
}

// Rated reports whether the chart gives the row any CCU figures.
func (r Row) Rated() bool { return r.CCUMin > 0 && r.CCUMax > 0 }

// Holds is how many concurrent users the row is rated for at the given activity.
func (r Row) Holds(a Activity) int {
	if a == Inactive {
		return r.CCUMax
	}
	return r.CCUMin
}

// Chart is a topology's table of server types.
type Chart struct {
	Topology Topology `json:"topology"`
	// Source says where the CCU figures come from: the seed's chart, a scaling of it, or a measurement.
	Source string `json:"source"`
	Rows   []Row  `json:"rows"`
}

// Row finds a server type in the chart.
func (c Chart) Row(server string) (Row, bool) {
	for _, r := range c.Rows {
		if r.Server == server {
			return r, true
		}
	}
	return Row{}, false
}

// PerServer is the row's price for one server for one hour: what THE FORMULA multiplies by the number of servers.
func (c Chart) PerServer(r Row) Rate {
	return Rate(roundTo(float64(r.HourlyUSD)/float64(c.Topology.Servers), 1e6))
}

// priced fills in every row's one-server price.
func (c Chart) priced() Chart {
	rows := make([]Row, len(c.Rows))
	for i, r := range c.Rows {
		r.PerServerUSD = c.PerServer(r)
		rows[i] = r
	}
	c.Rows = rows
	return c
}

// The seed's "Estimating Personal / Enterprise Costs with 1 server" chart, row for row.
var singleServer = []Row{
	row("t3.micro", 2, 0, 0, 0.024, true),
	row("t3.small", 2, 10, 20, 0.035, false),
	row("t3.medium", 2, 20, 40, 0.056, false),
	row("t3.large", 2, 40, 80, 0.183, false),
	row("t3.xlarge", 4, 80, 160, 0.266, false),
	row("t3.2xlarge", 8, 160, 320, 0.433, false),
	row("c4.large", 2, 40, 80, 0.200, false),
	row("c5.large", 2, 40, 80, 0.185, false),
	row("c5.xlarge", 4, 80, 160, 0.270, false),
	row("c5.2xlarge", 8, 160, 320, 0.440, false),
	row("c5.4xlarge", 16, 320, 640, 0.780, false),
	row("c5.9xlarge", 36, 720, 1440, 1.630, false),
	row("c5.12xlarge", 48, 960, 1920, 2.140, false),
	row("c5.18xlarge", 72, 1440, 2880, 3.160, false),
	row("c5.24xlarge", 96, 1920, 3840, 4.180, false),
}

// The seed's "Estimating Enterprise Costs for 4 servers" (2 app × 2 stream) chart, row for row. Its vCPU and
// prices are four times the single-server chart's; its CCU is not (5×–8×), because stream servers take the
// voice and video off the app servers.
var enterprise2x2 = []Row{
	row("t3.micro", 8, 0, 0, 0.096, true),
	row("t3.small", 8, 80, 160, 0.140, false),
	row("t3.medium", 8, 80, 160, 0.224, false),
	row("t3.large", 8, 240, 400, 0.732, false),
	row("t3.xlarge", 16, 480, 800, 1.064, false),
	row("t3.2xlarge", 32, 960, 1600, 1.732, false),
	row("c4.large", 8, 240, 400, 0.800, false),
	row("c5.large", 8, 240, 400, 0.740, false),
	row("c5.xlarge", 16, 480, 800, 1.080, false),
	row("c5.2xlarge", 32, 960, 1600, 1.760, false),
	row("c5.4xlarge", 64, 1920, 3200, 3.120, false),
	row("c5.9xlarge", 144, 4320, 7200, 6.520, false),
	row("c5.12xlarge", 192, 5760, 9600, 8.560, false),
	row("c5.18xlarge", 288, 8640, 14400, 12.640, false),
	row("c5.24xlarge", 384, 11520, 19200, 16.720, false),
}

const seedSource = "seed chart (Hubs Cloud cost charts, us-east-1)"

// SeedCharts returns the seed's two charts exactly as published: one server, and Enterprise 2 app × 2 stream.
func SeedCharts() []Chart {
	return []Chart{
		Chart{Topology: topologies[0], Source: seedSource, Rows: singleServer}.priced(),
		Chart{Topology: topologies[1], Source: seedSource, Rows: enterprise2x2}.priced(),
	}
}

// Charts returns a chart for every layout, smallest first. 4×4 and 8×8 have no chart in the seed; they are the
// 2×2 chart scaled by the number of servers (vCPU, CCU and price alike). That linear assumption is the only one
// the seed supports — its 2×2 chart keeps the same users per vCPU at every size — and it is optimistic: more
// servers mean more cross-server traffic, which the seed never measured. With a capacity file, every rated row's
// CCU becomes vCPU × the measured users per vCPU and the prices stay.
func Charts(c *Capacity) []Chart {
	seed := SeedCharts()
	out := make([]Chart, 0, len(topologies))
	out = append(out, seed...)
	base := seed[1]
	for _, t := range topologies[2:] {
		k := t.Servers / base.Topology.Servers
		ch := Chart{Topology: t, Source: fmt.Sprintf("derived: %d × the seed's Enterprise 2×2 chart", k)}
		for _, r := range base.Rows {
			r.VCPU *= k
			r.CCUMin *= k
			r.CCUMax *= k
			r.HourlyUSD = Rate(roundTo(float64(r.HourlyUSD)*float64(k), 1e6))
			ch.Rows = append(ch.Rows, r)
		}
		out = append(out, ch.priced())
	}
	if c != nil {
		for i := range out {
			out[i] = c.apply(out[i])
		}
	}
	return out
}

// ServerTypes lists the server types the charts know, in the charts' order.
func ServerTypes() []string {
	names := make([]string, len(singleServer))
	for i, r := range singleServer {
		names[i] = r.Server
	}
	return names
}

// perServerPrice is the price of one server of a type for one hour, from the single-server chart.
func perServerPrice(server string) (Rate, error) {
	for _, r := range singleServer {
		if r.Server == server {
			return r.HourlyUSD, nil
		}
	}
	return 0, unknownServer("server", server)
}

func unknownServer(field, name string) error {
	return &InputError{Field: field, Value: name, Err: ErrUnknownServer,
		Fix: "use one of " + strings.Join(ServerTypes(), ", ")}
}

// roundTo rounds x to 1/unit: prices are kept to the micro-dollar so sums of chart prices don't drift.
func roundTo(x, unit float64) float64 { return math.Round(x*unit) / unit }
