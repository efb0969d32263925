package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/remote"
)

// Fix is one of clusterdoctor's fixes on one host, for the findings that call for it:
// its dry-run plan, then what applying it did. The fix commands verify themselves and
// roll back what they changed when they fail.
type Fix struct {
	Host    string   `json:"host"`
	Command []string `json:"command"`
	// For are the checks of the host it answers.
	For     []string `json:"for"`
	Plan    string   `json:"plan,omitempty"`
	Applied bool     `json:"applied"`
	Output  string   `json:"output,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// FixesFor are the fixes the report's findings call for, host by host: the multicast
// route (and its persistence, where the host's network configuration is known), and
// firewalld's ports where firewalld guards the cluster interface.
func FixesFor(rep *Report) []Fix {
	var out []Fix
	for _, h := range rep.Hosts {
		if !h.Reachable || h.Settings == nil || h.Settings.Iface == "" {
			continue
		}
		iface := h.Settings.Iface
		bad := func(id string, warnToo bool) bool {
			r := h.Check(id)
			return r != nil && (r.Status == probes.Fail || warnToo && r.Status == probes.Warn)
		}
		var route []string
		if bad("route.multicast", false) {
			route = append(route, "route.multicast")
		}
		persist := false
		if r := h.Check("route.persistent"); r != nil && r.Evidence != nil {
			backend, _ := r.Evidence["backend"].(string)
			persist = backend != ""
			if persist && bad("route.persistent", true) {
				route = append(route, "route.persistent")
			}
		}
		if len(route) > 0 {
			cmd := []string{"fix", "route", "--iface", iface}
			if persist {
				cmd = append(cmd, "--persist")
			}
			out = append(out, Fix{Host: h.Name, Command: cmd, For: route})
		}
		var fw []string
		for _, id := range []string{"firewall.ports", "firewall.igmp"} {
			r := h.Check(id)
			if guard, _ := evidenceString(r, "guard"); guard == "firewalld" && bad(id, true) {
				fw = append(fw, id)
			}
		}
		if len(fw) > 0 {
			out = append(out, Fix{Host: h.Name, Command: []string{"fix", "firewall", "--iface", iface}, For: fw})
		}
	}
	return out
}

func evidenceString(r *probes.Result, key string) (string, bool) {
	if r == nil || r.Evidence == nil {
		return "", false
	}
	s, ok := r.Evidence[key].(string)
	return s, ok
}

// ApplyFixes reaches the hosts concerned once, shows every host's dry-run plan through
// confirm (which says whether to go on), then applies the fixes host by host. A fix
// that fails is named with its own words; the others keep theirs.
func ApplyFixes(ctx context.Context, cfg Config, fixes []Fix, confirm func([]Fix) bool) []Fix {
	sessions := map[string]*remote.Session{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range cfg.Hosts {
		if !slices.ContainsFunc(fixes, func(f Fix) bool { return f.Host == h.Name }) {
			continue
		}
		wg.Go(func() {
			s, err := cfg.Client.Connect(ctx, h.Target)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				for i := range fixes {
					if fixes[i].Host == h.Name {
						fixes[i].Error = err.Error()
					}
				}
				return
			}
			sessions[h.Name] = s
		})
	}
	wg.Wait()
	defer func() {
		for _, s := range sessions {
			s.Close(context.WithoutCancel(ctx))
		}
	}()
	for i := range fixes {
		f := &fixes[i]
		if s := sessions[f.Host]; s != nil {
			out, code, err := runFix(ctx, s, append(f.Command, "--dry-run"))
			f.Plan = out
			if err != nil || code != 0 && code != 1 {
				f.Error = fmt.Sprintf("the dry run failed: %s", orErr(out, err))
			}
		}
	}
	if !confirm(fixes) {
		return fixes
	}
	for i := range fixes { // host by host: one host's failure is its own
		f := &fixes[i]
		s := sessions[f.Host]
		if s == nil || f.Error != "" {
			continue
		}
		out, code, err := runFix(ctx, s, f.Command)
		f.Output, f.Applied = out, err == nil && code == 0
		if !f.Applied {
			f.Error = fmt.Sprintf("%s failed (exit %d): %s", strings.Join(f.Command, " "), code, orErr(lastLines(out, 3), err))
		}
	}
	return fixes
}

func runFix(ctx context.Context, s *remote.Session, args []string) (string, int, error) {
	out, errOut, code, err := s.Run(ctx, args...)
	return strings.TrimSpace(string(out) + string(errOut)), code, err
}

func orErr(out string, err error) string {
	if err != nil {
		return err.Error()
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// RecoverySettle is how long to let Tomcat recover before diagnosing again after a route
// fix. Tomcat's McastService, whose heartbeats failed for want of a route, stops its
// membership and sends its shutdown packet, then starts it again every recoverySleepTime
// (5 s by default) up to recoveryCounter (10) times: a diagnosis right after the fix still
// sees the member gone. After those tries Tomcat gives up until it is restarted.
const RecoverySettle = 6 * time.Second

// Settle is how long to wait after the fixes applied before diagnosing again.
func Settle(fixes []Fix) time.Duration {
	for _, f := range fixes {
		if f.Applied && len(f.Command) > 1 && f.Command[1] == "route" {
			return RecoverySettle
		}
	}
	return 0
}
