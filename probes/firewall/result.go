package firewall

import (
	"fmt"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Per-need states, as the evidence reports them (an API: never renamed).
const (
	stateOpen          = "open"
	stateMissing       = "missing"
	statePermanentOnly = "permanent-only"
	stateRuntimeOnly   = "runtime-only"
)

// state combines the sides that were read.
func (a *Assessment) state(cv Coverage) string {
	rt, pm := cv.Runtime.Open, cv.Permanent.Open
	switch {
	case !a.HasPermanent:
		pm = rt
	case !a.HasRuntime:
		rt = pm
	}
	switch {
	case !rt && !pm:
		return stateMissing
	case !rt:
		return statePermanentOnly
	case !pm:
		return stateRuntimeOnly
	}
	return stateOpen
}

// Result turns the assessment into check id's result: fail when a need is blocked on
// both sides, warn when only one side lets it in, pass otherwise.
func (a *Assessment) Result(id, iface string) probes.Result {
	byState := map[string][]string{}
	ports := map[string]any{}
	var lines []string
	for _, cv := range a.Coverage {
		n, st := cv.Need.String(), a.state(cv)
		byState[st] = append(byState[st], n)
		ports[n] = st
		var sides []string
		if a.HasRuntime {
			sides = append(sides, "runtime: "+say(cv.Runtime))
		}
		if a.HasPermanent {
			sides = append(sides, "permanent: "+say(cv.Permanent))
		}
		lines = append(lines, fmt.Sprintf("%s (%s): %s", n, cv.Need.Label, strings.Join(sides, "; ")))
	}
	ev := map[string]any{"guard": a.Guard, "ports": ports}
	if a.Zone != "" {
		ev["zone"], ev["permanentZone"] = a.Zone, a.PermZone
	}
	who := a.Guard + " " + a.Where
	if a.Guard == "nftables" {
		who = "the kernel's nftables rule set"
	}
	var r probes.Result
	switch {
	case len(byState[stateMissing]) > 0:
		r = probes.FailResult(id, fmt.Sprintf("%s blocks %s", who, strings.Join(byState[stateMissing], ", ")))
	case len(byState[stateRuntimeOnly])+len(byState[statePermanentOnly]) > 0:
		var parts []string
		if rt := byState[stateRuntimeOnly]; len(rt) > 0 {
			lost := "lost at the next reload or reboot"
			if a.Guard != "firewalld" {
				lost = "blocked once firewalld starts"
			}
			parts = append(parts, fmt.Sprintf("lets in %s now only: %s", strings.Join(rt, ", "), lost))
		}
		if pm := byState[statePermanentOnly]; len(pm) > 0 {
			parts = append(parts, fmt.Sprintf("opens %s permanently only: blocked until the next reload", strings.Join(pm, ", ")))
		}
		r = probes.WarnResult(id, fmt.Sprintf("%s %s", who, strings.Join(parts, "; ")))
	default:
		r = probes.PassResult(id, fmt.Sprintf("%s lets in %s", who, joinNeeds(a.Coverage)))
	}
	r.Detail = strings.Join(lines, "; ")
	r.Evidence = ev
	if r.Status != probes.Pass {
		r.Remediation = a.remedy(iface)
	}
	return r
}

func (a *Assessment) remedy(iface string) string {
	switch a.Guard {
	case "firewalld":
		return fmt.Sprintf("clusterdoctor fix firewall --iface %s (firewall-cmd [--permanent] --zone=%s --add-port=PORT/PROTO, without --reload)", iface, a.Zone)
	case "nftables":
		return fmt.Sprintf("accept them on %s in the input chain before the rule that drops them (nft insert rule ... iifname %s udp dport 45564 accept), and in /etc/nftables.conf", iface, iface)
	}
	return fmt.Sprintf("firewall-offline-cmd --zone=%s --add-port=PORT/PROTO (or start firewalld and run clusterdoctor fix firewall --iface %s)", a.Zone, iface)
}
