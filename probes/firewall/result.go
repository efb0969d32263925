package firewall

import (
	"fmt"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

// Per-need states, as the evidence reports them (an API: never renamed).
const (
	stateOpen          = "open"
	stateMissing       = "missing"
	statePermanentOnly = "permanent-only"
	stateRuntimeOnly   = "runtime-only"
)

// rank orders states from best to worst: a need takes the worst of its senders'.
var rank = map[string]int{stateOpen: 0, statePermanentOnly: 1, stateRuntimeOnly: 2, stateMissing: 3}

// state combines the sides that were read.
func (a *Assessment) state(cv Coverage) string {
	rt, pm := cv.Now().Open, cv.Saved().Open
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

// needResult is one need over all its senders.
type needResult struct {
	need  Need
	state string
	// bad are the senders' coverages in the need's (worst) state; all of them when every
	// sender is in it.
	bad   []Coverage
	total int
	peers map[string]string // peer name: state, when the peers were judged one by one
}

// byNeed groups the coverage by need, in the order of the needs.
func (a *Assessment) byNeed() []*needResult {
	var out []*needResult
	idx := map[Need]*needResult{}
	for _, cv := range a.Coverage {
		nr := idx[cv.Need]
		if nr == nil {
			nr = &needResult{need: cv.Need, state: stateOpen}
			idx[cv.Need] = nr
			out = append(out, nr)
		}
		st := a.state(cv)
		nr.total++
		if cv.From.Name != "" {
			if nr.peers == nil {
				nr.peers = map[string]string{}
			}
			nr.peers[cv.From.Name] = st
		}
		switch {
		case rank[st] > rank[nr.state]:
			nr.state, nr.bad = st, []Coverage{cv}
		case st == nr.state && st != stateOpen:
			nr.bad = append(nr.bad, cv)
		}
	}
	return out
}

// label is the need as a summary names it: with the peers it concerns when only some of
// them are affected.
func (nr *needResult) label() string {
	s := nr.need.String()
	if len(nr.bad) == 0 || len(nr.bad) == nr.total || nr.bad[0].From.Name == "" {
		return s
	}
	var who []string
	for _, cv := range nr.bad {
		who = append(who, peerName(cv.From))
	}
	return s + " from " + strings.Join(who, ", ")
}

// decider names what turns the need away: the side that is closed, both when they differ.
func (a *Assessment) decider(nr *needResult) string {
	cv := nr.bad[0]
	now, saved := cv.Now(), cv.Saved()
	switch {
	case !a.HasRuntime:
		return saved.By
	case !a.HasPermanent || nr.state == statePermanentOnly:
		return now.By
	case nr.state == stateRuntimeOnly:
		return saved.By
	case now.By != saved.By && !saved.Open:
		return fmt.Sprintf("%s (and after a reload %s)", now.By, saved.By)
	}
	return now.By
}

// Result turns the assessment into check id's result: fail when a need is blocked on
// both sides, warn when only one side lets it in, pass otherwise. The summary names the
// zone, table or chain that decides, and the peers concerned when it is not all of them.
func (a *Assessment) Result(id, iface string) probes.Result {
	needs := a.byNeed()
	ports := map[string]any{}
	byPeer := map[string]any{}
	decidedBy := map[string]any{}
	var missing, runtimeOnly, permanentOnly []*needResult
	for _, nr := range needs {
		n := nr.need.String()
		ports[n] = nr.state
		if nr.peers != nil {
			byPeer[n] = nr.peers
		}
		switch nr.state {
		case stateMissing:
			missing = append(missing, nr)
		case stateRuntimeOnly:
			runtimeOnly = append(runtimeOnly, nr)
		case statePermanentOnly:
			permanentOnly = append(permanentOnly, nr)
		}
		if nr.state != stateOpen {
			decidedBy[n] = a.decider(nr)
		}
	}
	ev := map[string]any{"guard": a.Guard, "ports": ports}
	if a.Zone != "" {
		ev["zone"], ev["permanentZone"] = a.Zone, a.PermZone
	}
	if a.PermanentFrom != "" {
		ev["permanentFrom"] = a.PermanentFrom
	}
	if len(byPeer) > 0 {
		ev["peers"] = byPeer
	}
	if len(decidedBy) > 0 {
		ev["decidedBy"] = decidedBy
	}
	var r probes.Result
	switch {
	case len(missing) > 0:
		r = probes.FailResult(id, a.grouped(missing, "blocks %s"))
	case len(runtimeOnly)+len(permanentOnly) > 0:
		var parts []string
		if len(runtimeOnly) > 0 {
			lost := "lost at the next reload or reboot"
			if a.Guard != "firewalld" {
				lost = "blocked once firewalld starts"
			}
			parts = append(parts, a.grouped(runtimeOnly, "lets in %s now only: "+lost))
		}
		if len(permanentOnly) > 0 {
			parts = append(parts, a.grouped(permanentOnly, "opens %s permanently only: blocked until the next reload"))
		}
		r = probes.WarnResult(id, strings.Join(parts, "; "))
	default:
		who := a.Guard + " " + a.Where
		if a.Guard == "nftables" {
			who = "the kernel's rule set"
		}
		var labels []string
		for _, nr := range needs {
			labels = append(labels, nr.need.String())
		}
		s := fmt.Sprintf("%s lets in %s", who, strings.Join(labels, ", "))
		if len(a.Peers) > 0 {
			var names []string
			for _, p := range a.Peers {
				names = append(names, p.Name)
			}
			s += " from " + strings.Join(names, ", ")
		}
		r = probes.PassResult(id, s)
	}
	r.Detail = strings.Join(append(a.lines(), a.Notes...), "; ")
	r.Evidence = ev
	if r.Status != probes.Pass {
		r.Remediation = a.remedy(iface, append(missing, append(runtimeOnly, permanentOnly...)...))
	}
	return r
}

// grouped is "DECIDER blocks A, B; OTHER blocks C", the needs grouped by what decides.
func (a *Assessment) grouped(nrs []*needResult, verb string) string {
	var order []string
	by := map[string][]string{}
	for _, nr := range nrs {
		d := a.decider(nr)
		if _, ok := by[d]; !ok {
			order = append(order, d)
		}
		by[d] = append(by[d], nr.label())
	}
	var parts []string
	for _, d := range order {
		parts = append(parts, d+" "+fmt.Sprintf(verb, strings.Join(by[d], ", ")))
	}
	return strings.Join(parts, "; ")
}

// lines are the detail: every need from every sender, each side with its reason.
func (a *Assessment) lines() []string {
	var lines []string
	for _, cv := range a.Coverage {
		var sides []string
		if a.HasRuntime {
			sides = append(sides, "runtime: "+say(cv.Runtime))
		}
		if a.HasPermanent {
			sides = append(sides, "permanent: "+say(cv.Permanent))
		}
		if cv.Beside != nil && (!cv.Beside.Open || a.Guard == "firewalld") {
			sides = append(sides, "beside firewalld: "+say(*cv.Beside))
		}
		from := ""
		if cv.From.Name != "" {
			from = " from " + peerName(cv.From)
		}
		lines = append(lines, fmt.Sprintf("%s (%s)%s: %s", cv.Need, cv.Need.Label, from, strings.Join(sides, "; ")))
	}
	return lines
}

func (a *Assessment) remedy(iface string, bad []*needResult) string {
	outside := ""
	for _, nr := range bad {
		for _, cv := range nr.bad {
			if cv.Beside != nil && !cv.Beside.Open && (cv.Runtime.Open || cv.Permanent.Open) {
				outside = cv.Beside.By
			}
		}
	}
	if outside != "" {
		return fmt.Sprintf("%s turns it away beside firewalld: accept the cluster's traffic there (nft insert rule ... iifname %s udp dport 45564 accept; iptables -I INPUT for legacy iptables), and where that rule set is saved", outside, iface)
	}
	switch a.Guard {
	case "firewalld":
		return fmt.Sprintf("clusterdoctor fix firewall --iface %s (firewall-cmd [--permanent] --zone=%s --add-port=PORT/PROTO, without --reload)", iface, a.Zone)
	case "nftables":
		return fmt.Sprintf("accept them on %s in the input chain before the rule that drops them (nft insert rule ... iifname %s udp dport 45564 accept), and in /etc/nftables.conf", iface, iface)
	}
	return fmt.Sprintf("firewall-offline-cmd --zone=%s --add-port=PORT/PROTO (or start firewalld and run clusterdoctor fix firewall --iface %s)", a.Zone, iface)
}

// peerName is "was3 (10.0.0.13)", or the address alone when it was given as one.
func peerName(p resolve.Peer) string {
	if p.Name == p.Addr.String() {
		return p.Name
	}
	return fmt.Sprintf("%s (%s)", p.Name, p.Addr)
}
