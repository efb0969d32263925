// Package ntp checks that the clock is synchronised. Tomcat judges session expiry on each
// node's own clock, and a clock step larger than McastService's dropTime (3 s) makes a
// node drop all its peers.
package ntp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Timeout covers up to three daemon queries on localhost; each answers in milliseconds
// when it runs and fails at once when it does not.
const Timeout = 3 * time.Second

// Offset limits: beyond FailOffset peers disagree on session expiry by more than a
// second; beyond WarnOffset the daemon is struggling.
const (
	FailOffset = time.Second
	WarnOffset = 100 * time.Millisecond
)

// ntpdAddr is where ntpd answers mode 6 (localhost only, as ntpq asks by default).
const ntpdAddr = "127.0.0.1:123"

// Sync is ntp.sync. It asks, in order, chronyd (command protocol, like chronyc tracking),
// ntpd (mode 6, like ntpq -c rv), systemd-timedated (D-Bus), and always reads the
// kernel's adjtimex state, which is the verdict of last resort.
type Sync struct{}

// ID implements probes.Probe.
func (Sync) ID() string { return "ntp.sync" }

// Timeout implements probes.Probe.
func (Sync) Timeout() time.Duration { return Timeout }

// facts is everything the sources said; nil means the source could not be asked.
type facts struct {
	chrony    *chronyState
	ntpd      *ntpdState
	timedated *bool
	kernel    *probes.KernelClock
	// asked says, per source that did not answer, why.
	asked []string
}

// Run implements probes.Probe.
func (p Sync) Run(ctx context.Context, env *probes.Env) probes.Result {
	var f facts
	if st, err := chronyTracking(ctx, env); err == nil {
		f.chrony = st
	} else {
		f.asked = append(f.asked, reason("chronyd", err))
	}
	if f.chrony == nil && env.LiveRoot() {
		qctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		if st, err := ntpdReadVars(qctx, ntpdAddr); err == nil {
			f.ntpd = st
		} else {
			f.asked = append(f.asked, reason("ntpd", err))
		}
		cancel()
	}
	if f.chrony == nil && f.ntpd == nil && env.LiveRoot() {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		if synced, err := timedatedSynced(qctx, env); err == nil {
			f.timedated = &synced
		} else {
			f.asked = append(f.asked, reason("timedated", err))
		}
		cancel()
	}
	if env.Adjtimex != nil {
		if k, err := env.Adjtimex(); err == nil {
			f.kernel = &k
		} else {
			f.asked = append(f.asked, reason("kernel", err))
		}
	}
	return decide(f)
}

func reason(source string, err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, os.ErrNotExist):
	case strings.Contains(msg, "connection refused"):
		msg = "not running"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "i/o timeout"):
		msg = "no answer"
	}
	return source + ": " + msg
}

const fix = "start and enable an NTP daemon with a reachable source (chronyd: check `chronyc sources`; allow 123/udp out)"

func decide(f facts) probes.Result {
	const id = "ntp.sync"
	ev := map[string]any{}
	if f.kernel != nil {
		ev["kernelSynchronised"] = !f.kernel.Unsynchronised
		ev["kernelMaxErrorMs"] = f.kernel.MaxError.Milliseconds()
	}
	if len(f.asked) > 0 {
		ev["notAnswering"] = f.asked
	}
	switch {
	case f.chrony != nil:
		c := f.chrony
		ev["source"], ev["via"], ev["stratum"], ev["refid"] = "chronyd", c.Via, c.Stratum, c.RefID
		ev["offsetMs"], ev["sources"], ev["reachable"] = round(c.Offset*1000), c.Sources, c.Reachable
		if c.Leap == 3 {
			why := fmt.Sprintf("%d of %d sources reachable", c.Reachable, c.Sources)
			return probes.FailResult(id, fmt.Sprintf("chronyd is not synchronised (%s)", why)).
				With("with no selectable source chronyd leaves the clock free-running; nodes drift apart and session expiry differs between them", fix, ev)
		}
		return offsetVerdict(id, "chronyd", fmt.Sprintf("stratum %d, reference %s", c.Stratum, c.RefID), c.Offset, ev)
	case f.ntpd != nil:
		n := f.ntpd
		ev["source"], ev["stratum"], ev["refid"], ev["offsetMs"] = "ntpd", n.Stratum, n.RefID, round(n.Offset*1000)
		if n.Leap == 3 || n.Stratum >= 16 {
			return probes.FailResult(id, "ntpd is not synchronised (leap=11 or stratum 16)").
				With("ntpd has no usable peer; see ntpq -p", fix, ev)
		}
		return offsetVerdict(id, "ntpd", fmt.Sprintf("stratum %d, reference %s", n.Stratum, n.RefID), n.Offset, ev)
	case f.timedated != nil:
		ev["source"] = "timedated"
		if !*f.timedated {
			return probes.FailResult(id, "systemd-timedated reports the clock is not NTP-synchronised").
				With("timedatectl show -p NTPSynchronized says no", "timedatectl set-ntp true, and check systemd-timesyncd or chronyd", ev)
		}
		return probes.PassResult(id, "systemd-timedated reports the clock is NTP-synchronised").With("", "", ev)
	case f.kernel != nil:
		ev["source"] = "kernel"
		if f.kernel.Unsynchronised {
			return probes.FailResult(id, "no NTP daemon answers and the kernel clock is not synchronised").
				With(strings.Join(f.asked, "; "), fix, ev)
		}
		return offsetVerdict(id, "the kernel", fmt.Sprintf("no daemon answered, estimated error %s", f.kernel.EstError), f.kernel.Offset.Seconds(), ev)
	}
	return probes.UnknownResult(id, "no time source could be asked: "+strings.Join(f.asked, "; "))
}

func offsetVerdict(id, who, what string, offset float64, ev map[string]any) probes.Result {
	d := time.Duration(math.Abs(offset) * float64(time.Second))
	off := d.Round(time.Microsecond)
	switch {
	case d > FailOffset:
		return probes.FailResult(id, fmt.Sprintf("%s: clock is off by %s (limit %s)", who, off, FailOffset)).
			With(what+"; a step this large makes Tomcat drop its peers (dropTime 3 s) and expire sessions early", fix, ev)
	case d > WarnOffset:
		return probes.WarnResult(id, fmt.Sprintf("%s: clock is off by %s (warn above %s)", who, off, WarnOffset)).
			With(what, "check the NTP source's quality: chronyc sourcestats", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("synchronised by %s (%s), offset %s", who, what, off)).With("", "", ev)
}

func round(ms float64) float64 { return math.Round(ms*1000) / 1000 }
