package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"toncon/internal/auth"
	"toncon/internal/store"
	"toncon/internal/store/sqlite"
)

const adminUsage = `Usage: toncon admin <command> [flags]

Change a toncon's settings in its data folder. It works while the server runs: the server picks changes up
within a few seconds.

Commands:
  offline on [--redirect URL]   take the site offline: rooms refuse people, pages redirect to URL or say offline
  offline off                   bring it back
  set KEY VALUE                 change a site setting
  get [KEY]                     print one setting, or all of them
  usage                         this month's metered usage and estimated spend
  create-admin EMAIL            make the account for EMAIL an admin, creating it if needed
  disable-account EMAIL         the account can do nothing: its tokens stop working and it cannot sign in
  enable-account EMAIL          undo disable-account (the person signs in again)

Every command takes --data (env TONCON_DATA, default ./data).
Settings: ` + "%s" + `
`

func runAdmin(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stdout, adminUsage, strings.Join(store.SiteSettingKeys, ", "))
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	var positional []string
	if sub == "offline" || sub == "set" || sub == "get" || strings.HasSuffix(sub, "-admin") || strings.HasSuffix(sub, "-account") {
		// Positional words come first (offline on, set KEY VALUE), flags after.
		for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			positional, rest = append(positional, rest[0]), rest[1:]
		}
	}
	var dataDir, redirect string
	fs := newFlagSet("admin "+sub, "See 'toncon admin --help'.", env.Stderr)
	fs.String(&dataDir, "data", "./data", "the data folder of the toncon to change")
	if sub == "offline" {
		fs.String(&redirect, "redirect", "", "while offline, send visitors of room and home pages to this URL")
	}
	if code, stop := parseFlags(fs, rest, env); stop {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "toncon admin %s: %s\n", sub, fmt.Sprintf(format, a...))
		return exitUsage
	}
	var do func(context.Context, store.Store) error
	switch sub {
	case "offline":
		if len(positional) != 1 || (positional[0] != "on" && positional[0] != "off") {
			return usageErr("say on or off: toncon admin offline on [--redirect URL]")
		}
		on := positional[0] == "on"
		if !on && redirect != "" {
			return usageErr("--redirect goes with offline on")
		}
		do = func(ctx context.Context, s store.Store) error {
			if on {
				if err := s.SetSiteSetting(ctx, store.SettingOfflineRedirectURL, redirect); err != nil {
					return err
				}
			}
			if err := s.SetSiteSetting(ctx, store.SettingOffline, fmt.Sprint(on)); err != nil {
				return err
			}
			if on {
				fmt.Fprintln(env.Stdout, "offline mode is on: rooms refuse people and pages", map[bool]string{true: "redirect to " + redirect, false: "say the server is offline"}[redirect != ""])
			} else {
				fmt.Fprintln(env.Stdout, "offline mode is off")
			}
			return nil
		}
	case "set":
		if len(positional) != 2 {
			return usageErr("give a key and a value: toncon admin set default_room_size 30")
		}
		do = func(ctx context.Context, s store.Store) error {
			if err := s.SetSiteSetting(ctx, positional[0], positional[1]); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s = %s\n", positional[0], positional[1])
			return nil
		}
	case "get":
		if len(positional) > 1 {
			return usageErr("give at most one key")
		}
		do = func(ctx context.Context, s store.Store) error {
			settings, err := s.SiteSettings(ctx)
			if err != nil {
				return err
			}
			keys := store.SiteSettingKeys
			if len(positional) == 1 {
				if _, ok := settings.Value(positional[0]); !ok {
					return fmt.Errorf("%w: unknown setting %q; known settings are %s", store.ErrInvalid, positional[0], strings.Join(keys, ", "))
				}
				keys = positional
			}
			for _, k := range keys {
				v, _ := settings.Value(k)
				fmt.Fprintf(env.Stdout, "%s = %s\n", k, v)
			}
			return nil
		}
	case "usage":
		do = func(ctx context.Context, s store.Store) error {
			settings, err := s.SiteSettings(ctx)
			if err != nil {
				return err
			}
			month := time.Now().UTC().Format("2006-01")
			u, err := s.MonthUsage(ctx, month)
			if err != nil {
				return err
			}
			hours := u.ServerSeconds / 3600
			fmt.Fprintf(env.Stdout, "month %s: %.2f user-hours, %.2f server-hours, estimated spend $%.2f (%.2f h × $%g/h × scalar %g)",
				month, u.UserSeconds/3600, hours, hours*settings.CostPerHour*settings.CostScalar, hours, settings.CostPerHour, settings.CostScalar)
			if settings.MonthlyBudget > 0 {
				fmt.Fprintf(env.Stdout, ", budget $%.2f", settings.MonthlyBudget)
			}
			fmt.Fprintln(env.Stdout)
			return nil
		}
	case "create-admin", "disable-account", "enable-account":
		if len(positional) != 1 {
			return usageErr("give one email address: toncon admin %s ada@example.org", sub)
		}
		do = accountCommand(sub, positional[0], env)
	default:
		fmt.Fprintf(env.Stderr, "toncon admin: unknown command %q\n\n", sub)
		fmt.Fprintf(env.Stderr, adminUsage, strings.Join(store.SiteSettingKeys, ", "))
		return exitUsage
	}
	dbPath := filepath.Join(dataDir, "toncon.db")
	if _, err := os.Stat(dbPath); err != nil {
		fmt.Fprintf(env.Stderr, "toncon admin: no toncon database at %s: run 'toncon serve' once, or point --data at the data folder\n", dbPath)
		return exitError
	}
	// The server may be running: SQLite lets both use the file, and the server rereads settings within seconds.
	s, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		fmt.Fprintf(env.Stderr, "toncon admin: %v\n", err)
		return exitError
	}
	defer s.Close()
	if err := do(ctx, s); err != nil {
		fmt.Fprintf(env.Stderr, "toncon admin %s: %v\n", sub, err)
		if errors.Is(err, store.ErrInvalid) {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

// accountCommand is create-admin, disable-account or enable-account for email.
func accountCommand(sub, email string, env Env) func(context.Context, store.Store) error {
	return func(ctx context.Context, s store.Store) error {
		if sub == "create-admin" {
			a, created, _, err := s.FindOrCreateAccount(ctx, email)
			if err != nil {
				return err
			}
			was := "already an admin"
			if !a.IsAdmin {
				yes := true
				if a, err = s.UpdateAccount(ctx, a.ID, store.AccountUpdate{IsAdmin: &yes}); err != nil {
					return err
				}
				was = "made admin"
			}
			if created {
				was = "new account"
			}
			fmt.Fprintf(env.Stdout, "%s is an admin (account %d, %s); they sign in with that address\n", a.Email, a.ID, was)
			if a.State == store.AccountDisabled {
				fmt.Fprintf(env.Stdout, "note: the account is disabled; enable it with toncon admin enable-account %s\n", a.Email)
			}
			return nil
		}
		a, err := s.AccountByEmail(ctx, email)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no account has the address %s (accounts are made when someone first signs in)", email)
		}
		if err != nil {
			return err
		}
		if sub == "enable-account" {
			on := store.AccountEnabled
			if _, err := s.UpdateAccount(ctx, a.ID, store.AccountUpdate{State: &on}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is enabled; they sign in again to use it\n", a.Email)
			return nil
		}
		off := store.AccountDisabled
		if _, err := s.UpdateAccount(ctx, a.ID, store.AccountUpdate{State: &off}); err != nil {
			return err
		}
		// Revoke its tokens too, so enabling it later does not bring old (possibly stolen) tokens back.
		if err := auth.SignOutEverywhere(ctx, s, a.ID, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s is disabled: its tokens no longer work and it cannot sign in\n", a.Email)
		if a.IsAdmin {
			fmt.Fprintln(env.Stdout, "note: it is an admin; it keeps that flag but can do nothing while disabled")
		}
		return nil
	}
}
