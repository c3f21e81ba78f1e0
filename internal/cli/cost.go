package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"toncon/internal/cost"
)

const costSummary = `Plan capacity and cost for an event, from the Hubs Cloud cost charts (or your own measurements).

Subcommands:
  estimate   recommend a server layout and type for an event and price it with THE FORMULA
  table      print the charts: CCU and $/h per server type, one server and Enterprise 2 app × 2 stream
  example    work the seed's example both ways and explain why its figures are 4× too high

Run 'toncon cost <subcommand> --help' for its flags. docs/cost.md explains the model.`

func runCost(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprintf(env.Stderr, "Usage: toncon cost <subcommand> [flags]\n\n%s\n", costSummary)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(env.Stdout, "Usage: toncon cost <subcommand> [flags]\n\n%s\n", costSummary)
		return exitOK
	case "estimate":
		return runCostEstimate(args[1:], env)
	case "table":
		return runCostTable(args[1:], env)
	case "example":
		return runCostExample(args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "toncon cost: unknown subcommand %q\n\nUsage: toncon cost <subcommand> [flags]\n\n%s\n", args[0], costSummary)
	return exitUsage
}

const estimateSummary = `Recommend the cheapest server type that holds the users, trying one server first, then Enterprise
2×2, 4×4 and 8×8 (vertical before horizontal, as the seed advises), and price the event:
  top capacity = (hours × days) × $/h for one server × servers × scalar, at a low and a high scalar
  base cost    = setup + off-time;  total = top capacity + base cost

Example (the seed's event, priced per server):
  toncon cost estimate --ccu 500 --activity inactive --hours 4 --days 2 --setup-hours 16 --topology 2x2 --server c5.xlarge`

func runCostEstimate(args []string, env Env) int {
	const name = "cost estimate"
	var (
		p                                    = cost.DefaultPlan()
		activity, topology, scalars, capPath string
		asJSON                               bool
	)
	fs := newFlagSet(name, estimateSummary, env.Stderr)
	fs.Int(&p.CCU, "ccu", 0, "concurrent users to plan for (required)")
	fs.String(&activity, "activity", string(cost.Active), "active (moving, talking: the charts' CCU min) or inactive (mostly watching: CCU max)")
	fs.Float(&p.HoursPerDay, "hours", 0, "hours per day at top capacity (required, at most 24)")
	fs.Int(&p.Days, "days", 1, "event days")
	fs.Float(&p.SetupHours, "setup-hours", 0, "hours of setup and development before the event")
	fs.String(&p.SetupServer, "setup-server", p.SetupServer, "server type during setup")
	fs.Float(&p.OffHours, "off-hours", 0, "hours scaled down or offline between setup and the event days")
	fs.String(&p.OffServer, "off-server", p.OffServer, "server type during off-time, if it is not offline")
	fs.String(&scalars, "state-scalar", "", "override scalars: key=value pairs, keys top-min, top-max, setup, off; values a number or a state\n"+
		"      (top-active 5, average 4, active 3, online-idle 2, online-paused 1.2, offline 0). Seed's: top-min=3,top-max=5,setup=3,off=offline")
	fs.String(&p.Server, "server", "", "force this server type instead of recommending one")
	fs.String(&topology, "topology", "auto", "auto, or force a layout: personal, 2x2, 4x4, 8x8")
	fs.String(&capPath, "capacity", "", "capacity file from toncon loadtest capacity: its users per vCPU replace the charts' CCU")
	fs.Bool(&asJSON, "json", false, "print the result as JSON")
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	if len(fs.Args()) > 0 {
		fmt.Fprintf(env.Stderr, "toncon %s: unexpected argument %q; every input is a flag (see --help)\n", name, fs.Args()[0])
		return exitUsage
	}
	if p.CCU == 0 && p.HoursPerDay == 0 {
		fmt.Fprintf(env.Stderr, "toncon %s: give at least --ccu and --hours (see --help)\n", name)
		return exitUsage
	}
	var err error
	if p.Activity, err = cost.ParseActivity(activity); err != nil {
		return costFail(env, name, err)
	}
	if p.Scalars, err = cost.ParseScalars(p.Scalars, scalars); err != nil {
		return costFail(env, name, err)
	}
	p.Topology = strings.ToLower(strings.TrimSpace(topology))
	if p.Topology != "auto" {
		t, err := cost.ParseTopology(p.Topology)
		if err != nil {
			return costFail(env, name, err)
		}
		p.Topology = t.Name
	}
	p.Server = strings.ToLower(strings.TrimSpace(p.Server))
	p.SetupServer = strings.ToLower(strings.TrimSpace(p.SetupServer))
	p.OffServer = strings.ToLower(strings.TrimSpace(p.OffServer))
	if capPath != "" {
		if p.Capacity, err = cost.LoadCapacity(capPath); err != nil {
			return costFail(env, name, err)
		}
	}
	res, err := cost.Estimate(p)
	if err != nil {
		return costFail(env, name, err)
	}
	if asJSON {
		return writeJSON(env, name, res)
	}
	printEstimate(env.Stdout, res)
	return exitOK
}

func runCostTable(args []string, env Env) int {
	const name = "cost table"
	var (
		capPath     string
		all, asJSON bool
	)
	fs := newFlagSet(name, "Print the seed's two charts (one server; Enterprise 2 app × 2 stream), the scalar states and THE FORMULA.\n"+
		"The 2×2 chart's $/h is for all four servers; the per-server column is what THE FORMULA multiplies.", env.Stderr)
	fs.Bool(&all, "all", false, "also print the 4×4 and 8×8 charts the planner derives from the 2×2 one")
	fs.String(&capPath, "capacity", "", "capacity file: show CCU from its users per vCPU instead of the seed's")
	fs.Bool(&asJSON, "json", false, "print as JSON")
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	if len(fs.Args()) > 0 {
		fmt.Fprintf(env.Stderr, "toncon %s: unexpected argument %q\n", name, fs.Args()[0])
		return exitUsage
	}
	var c *cost.Capacity
	if capPath != "" {
		var err error
		if c, err = cost.LoadCapacity(capPath); err != nil {
			return costFail(env, name, err)
		}
	}
	charts := cost.Charts(c)
	if !all {
		charts = charts[:2]
	}
	if asJSON {
		return writeJSON(env, name, struct {
			Formula string       `json:"formula"`
			Charts  []cost.Chart `json:"charts"`
			States  []cost.State `json:"states"`
			Scalars cost.Scalars `json:"seed_scalars"`
		}{cost.FormulaText, charts, cost.States(), cost.SeedScalars()})
	}
	printTables(env.Stdout, charts, all)
	return exitOK
}

func runCostExample(args []string, env Env) int {
	const name = "cost example"
	var asJSON bool
	fs := newFlagSet(name, "Work the seed's example cost estimate (500 users, 4 h × 2 days, Enterprise 2×2 c5.xlarge) the seed's\n"+
		"way and per server, and explain the difference.", env.Stderr)
	fs.Bool(&asJSON, "json", false, "print as JSON")
	if code, stop := parseFlags(fs, args, env); stop {
		return code
	}
	ex := cost.SeedExample()
	if asJSON {
		return writeJSON(env, name, ex)
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "The seed's example\tas printed\tthe seed's method\tper server (toncon)")
	for _, r := range []struct {
		name    string
		p, s, c cost.USD
	}{
		{"top capacity, min", ex.Printed.TopMin, ex.Seed.TopMin, ex.Correct.TopMin},
		{"top capacity, max", ex.Printed.TopMax, ex.Seed.TopMax, ex.Correct.TopMax},
		{"development (setup)", ex.Printed.Setup, ex.Seed.Setup, ex.Correct.Setup},
		{"off-time (offline)", ex.Printed.Off, ex.Seed.Off, ex.Correct.Off},
		{"total, min", ex.Printed.TotalMin, ex.Seed.TotalMin, ex.Correct.TotalMin},
		{"total, max", ex.Printed.TotalMax, ex.Seed.TotalMax, ex.Correct.TotalMax},
	} {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", r.name, r.p, r.s, r.c)
	}
	w.Flush()
	fmt.Fprintf(env.Stdout, "\n%s\n", costWrap(ex.Explanation, 100, ""))
	return exitOK
}

// costFail prints what to change and picks the exit code: bad input is a usage error (2), anything else 1.
func costFail(env Env, name string, err error) int {
	var ie *cost.InputError
	var ce *cost.CapacityError
	switch {
	case errors.As(err, &ie):
		v := ""
		if ie.Value != "" {
			v = fmt.Sprintf(" %q", ie.Value)
		}
		fmt.Fprintf(env.Stderr, "toncon %s: --%s%s: %v\n  %s\n", name, ie.Field, v, ie.Err, ie.Fix)
		return exitUsage
	case errors.As(err, &ce):
		fmt.Fprintf(env.Stderr, "toncon %s: --capacity: %v\n", name, err)
		return exitUsage
	}
	fmt.Fprintf(env.Stderr, "toncon %s: %v\n", name, err)
	return exitError
}

func writeJSON(env Env, name string, v any) int {
	if err := encodeJSON(env.Stdout, v); err != nil {
		fmt.Fprintf(env.Stderr, "toncon %s: %v\n", name, err)
		return exitError
	}
	return exitOK
}

// encodeJSON writes v as indented JSON for people to read too.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // the SLO "p99<200ms" should read as written
	return enc.Encode(v)
}

func printEstimate(out io.Writer, r *cost.Result) {
	p, c := r.Plan, r.Choice
	fmt.Fprintf(out, "Plan: %d %s users, %s h a day for %d day%s at top capacity, %s h of setup, %s h off\n\n",
		p.CCU, p.Activity, costNum(p.HoursPerDay), p.Days, costPlural(p.Days), costNum(p.SetupHours), costNum(p.OffHours))
	how := "Recommended"
	if p.Server != "" || p.Topology != "auto" {
		how = "Chosen"
	}
	fmt.Fprintf(out, "%s: %s, %s\n", how, c.Topology.Label, c.Server)
	fmt.Fprintf(out, "  holds %d %s users, %d vCPU in all; %s\n", c.Holds, p.Activity, c.VCPU, r.CapacitySource)
	if c.Topology.Servers == 1 {
		fmt.Fprintf(out, "  %s/h\n", c.HourlyUSD)
	} else {
		fmt.Fprintf(out, "  %s/h per server; %s/h for all %d\n", c.PerServerUSD, c.HourlyUSD, c.Topology.Servers)
	}
	if len(r.Alternatives) > 0 {
		fmt.Fprintln(out, "Also holds them:")
		for _, a := range r.Alternatives {
			fmt.Fprintf(out, "  %s, %s: %d users, %s/h for all %d\n", a.Topology.Label, a.Server, a.Holds, a.HourlyUSD, a.Topology.Servers)
		}
	}

	fmt.Fprintf(out, "\nTHE FORMULA: %s\n", r.Formula)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, l := range r.Lines {
		fmt.Fprintf(w, "  %s\t%s\n", l.Name, l.Formula)
	}
	w.Flush()

	f := r.Figures
	fmt.Fprintln(out, "\nEstimate:")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  top capacity\t%s – %s\n", f.TopMin, f.TopMax)
	fmt.Fprintf(w, "  base cost\t%s\t(setup %s + off-time %s)\n", f.Base, f.Setup, f.Off)
	fmt.Fprintf(w, "  total\t%s – %s\n", f.TotalMin, f.TotalMax)
	w.Flush()

	if len(r.Warnings) > 0 {
		fmt.Fprintln(out, "\nWarnings:")
		for _, s := range r.Warnings {
			fmt.Fprintf(out, "  ! %s\n", costWrap(s, 96, "    "))
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(out, "\nNotes:")
		for _, s := range r.Notes {
			fmt.Fprintf(out, "  - %s\n", costWrap(s, 96, "    "))
		}
	}
	if r.SeedMethod != nil {
		fmt.Fprintf(out, "\nAbout the seed's figures (toncon cost example works its example both ways):\n  %s\n",
			costWrap(r.SeedMethod.Explanation, 96, "  "))
	}
}

func printTables(out io.Writer, charts []cost.Chart, all bool) {
	fmt.Fprintf(out, "THE FORMULA: %s\n", cost.FormulaText)
	for _, ch := range charts {
		fmt.Fprintf(out, "\n%s: %s\n", ch.Topology.Label, ch.Source)
		w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		// AlignRight suits the numbers; the names are padded by hand so they stay left-aligned.
		fmt.Fprintf(w, "%-12s\tvCPU\tCCU min (active)\tCCU max (inactive)\t$/h all servers\t$/h per server\t\n", "server")
		for _, r := range ch.Rows {
			lo, hi, note := fmt.Sprint(r.CCUMin), fmt.Sprint(r.CCUMax), ""
			if !r.Rated() {
				lo, hi = "N/A", "N/A"
			}
			if r.NotRecommended {
				note = "  not recommended: too little memory"
			}
			fmt.Fprintf(w, "%-12s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Server, r.VCPU, lo, hi, r.HourlyUSD, r.PerServerUSD, note)
		}
		w.Flush()
	}
	if !all {
		fmt.Fprintln(out, "\n4×4 and 8×8 (toncon cost table --all) are the 2×2 chart scaled by 2 and 4: not measured, assumed linear.")
	}
	fmt.Fprintln(out, "\nScalar states (whole stack relative to its EC2 servers):")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range cost.States() {
		x := costNum(s.High) + "×"
		if s.Low != s.High {
			x = costNum(s.Low) + "×–" + x
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", s.Name, x, s.Description)
	}
	w.Flush()
}

// costWrap breaks text into lines of at most width runes, indenting the lines after the first.
func costWrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		l := len([]rune(word))
		if i > 0 && n+1+l > width {
			b.WriteString("\n" + indent)
			n = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += l
	}
	return b.String()
}

func costNum(x float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.6f", x), "0"), ".")
}

func costPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
