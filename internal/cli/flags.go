package cli

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// flagSet is a flag.FlagSet in which every flag can also come from a TONCON_* environment variable.
// Precedence: command line, then environment, then the default.
type flagSet struct {
	fs      *flag.FlagSet
	command string
	summary string
}

func newFlagSet(command, summary string, out io.Writer) *flagSet {
	fs := flag.NewFlagSet("toncon "+command, flag.ContinueOnError)
	fs.SetOutput(out)
	f := &flagSet{fs: fs, command: command, summary: summary}
	fs.Usage = f.usage
	return f
}

// envName is the environment variable for a flag: "perms-public-key" → "TONCON_PERMS_PUBLIC_KEY".
func envName(flagName string) string {
	return "TONCON_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (f *flagSet) String(p *string, name, def, usage string) { f.fs.StringVar(p, name, def, usage) }
func (f *flagSet) Int(p *int, name string, def int, usage string) {
	f.fs.IntVar(p, name, def, usage)
}
func (f *flagSet) Float(p *float64, name string, def float64, usage string) {
	f.fs.Float64Var(p, name, def, usage)
}
func (f *flagSet) Bool(p *bool, name string, def bool, usage string) {
	f.fs.BoolVar(p, name, def, usage)
}
func (f *flagSet) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	f.fs.DurationVar(p, name, def, usage)
}

// Parse reads args, then fills every flag not given on the command line from its environment variable.
func (f *flagSet) Parse(args []string, env Env) error {
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var err error
	f.fs.VisitAll(func(fl *flag.Flag) {
		if given[fl.Name] || err != nil {
			return
		}
		if v, ok := env.Lookup(envName(fl.Name)); ok {
			if setErr := f.fs.Set(fl.Name, v); setErr != nil {
				err = fmt.Errorf("%s=%q: %v", envName(fl.Name), v, setErr)
			}
		}
	})
	return err
}

// Args returns the arguments left after the flags.
func (f *flagSet) Args() []string { return f.fs.Args() }

func (f *flagSet) usage() {
	out := f.fs.Output()
	fmt.Fprintf(out, "Usage: toncon %s [flags]\n\n%s\n\nFlags (each also read from its environment variable):\n", f.command, f.summary)
	var all []*flag.Flag
	f.fs.VisitAll(func(fl *flag.Flag) { all = append(all, fl) })
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	for _, fl := range all {
		def := fl.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(out, "  --%s\n      %s\n      env %s, default %s\n", fl.Name, fl.Usage, envName(fl.Name), def)
	}
}
