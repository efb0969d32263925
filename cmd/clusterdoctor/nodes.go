package main

import (
	"context"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/container"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

// checkNodes runs preflight for every Tomcat of another network namespace that discovery
// found from the host's own (containers, lab hosts), or those --container names, in their
// namespaces, and adds their reports to the host's.
func checkNodes(ctx context.Context, rep *probes.Report, found *tomcat.Found, f *preflightFlags) error {
	if found == nil || f.node > 0 || rep.Settings.Root != "/" {
		return nil
	}
	env, err := probes.NewEnv("/")
	if err != nil {
		return incomplete(err)
	}
	defer env.Close()
	var pids []int
	var netns []string
	for _, n := range found.Nodes {
		pids, netns = append(pids, n.PID), append(netns, n.NetNS)
	}
	nodes, err := container.Select(env, pids, netns, f.containers)
	if err != nil {
		return usage(err)
	}
	rep.Nodes = container.Preflight(ctx, container.Self, nodes, nodeArgs(ctx, rep.Settings, f))
	return nil
}

// nodeArgs are the flags a node's run takes from the host's: the peers, the checks
// skipped or ignored, and a deadline inside the host's own.
func nodeArgs(ctx context.Context, s probes.Settings, f *preflightFlags) []string {
	timeout := time.Duration(s.Timeout)
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d) * 9 / 10
	}
	args := []string{"--timeout", timeout.Round(time.Millisecond).String()}
	if f.explicit["peers"] != "" { // the operator's host list; not peers of the host's own server.xml
		for _, p := range s.Peers {
			args = append(args, "--peer", p)
		}
	}
	for _, id := range f.skip {
		args = append(args, "--skip", id)
	}
	for _, id := range f.ignore {
		args = append(args, "--ignore", id)
	}
	return args
}
