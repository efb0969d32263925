// Package probes holds the check model of clusterdoctor: the Probe interface, the Result a
// probe returns, the Env through which every probe reaches the host, the Runner that owns
// deadlines, concurrency, dependencies and severity policy, and the Report it produces.
//
// Probes never print and never read flags: they are small values built from Settings by
// list functions (see package preflight) and return one Result each.
package probes

import (
	"context"
	"time"
)

// Probe is one host check with a stable ID (the name --skip and --ignore take).
type Probe interface {
	// ID is stable API: "route.multicast", "hosts.hostname", ...
	ID() string
	// Timeout is the probe's own deadline; the runner caps it by what is left of --timeout.
	Timeout() time.Duration
	// Run checks and returns one Result. It must honour ctx.
	Run(ctx context.Context, env *Env) Result
}

// Dependent is implemented by probes that make sense only when other checks did not fail.
// The runner skips them, naming the failed dependency, instead of reporting noise.
type Dependent interface {
	DependsOn() []string
}

// KernelOnly is implemented by probes whose facts live only in the running kernel (links,
// addresses, routes, per-interface sysctls). Under a --root whose cluster interface the
// running kernel does not have (an image, a chroot of another host) they have nothing to
// look at, and the check list replaces them with a skip that says so.
type KernelOnly interface {
	KernelOnly()
}
