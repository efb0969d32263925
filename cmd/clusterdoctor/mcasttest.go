package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
	"github.com/clusterdoctor/clusterdoctor/probes/resolve"
)

type mcastFlags struct {
	settingsFlags
	output   string
	ttl      int
	interval time.Duration
	count    int
	duration time.Duration
	wait     time.Duration
	key      string
	keyFile  string
	maxLoss  float64
	size     int
	listen   bool
	send     bool
	rate     int
	maxSkew  time.Duration
}

func newMcastTestCmd() *cobra.Command {
	var f mcastFlags
	c := &cobra.Command{
		Use:   "mcast-test --peer HOST [--peer HOST ...]",
		Short: "Test multicast and unicast between cluster hosts, both ways, and say why a path fails",
		Long: `Run the same command on every host, naming the others (like omping). Each host sends
unicast and multicast echo requests, answers its peers, and reports per peer and path what
arrived in both directions, loss, duplicates, reordering, round-trip times and the hop distance,
with a verdict: ok, peer-not-running, unreachable, multicast-blocked, one-way, lossy, ttl-too-low.

Sockets are opened as Tomcat's McastService opens them (no interface: the kernel's route
decides), so a missing 224.0.0.0/4 route shows up as it would in Tomcat; when multicast fails, a
short second pass sets the interface explicitly to tell a route problem from a network one.

Exit codes: 0 every peer ok, 1 some peer not ok, 2 usage error, 3 the test could not run.`,
		Example: `  clusterdoctor mcast-test --peer was2 --peer was3
  clusterdoctor mcast-test --peer 10.0.0.12 --count 200 --interval 10ms -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runMcastTest(c, &f) },
	}
	fs := c.Flags()
	f.register(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text, json")
	fs.IntVar(&f.ttl, "ttl", 1, "multicast TTL (Java's default is 1)")
	fs.DurationVar(&f.interval, "interval", 100*time.Millisecond, "time between rounds of requests")
	fs.IntVar(&f.count, "count", 30, "rounds of requests")
	fs.DurationVar(&f.duration, "duration", 0, "run this long instead of --count rounds")
	fs.DurationVar(&f.wait, "wait", 10*time.Second, "how long to wait for peers to start and to finish")
	fs.StringVar(&f.key, "key", "", "shared secret: authenticate every packet (prefer --key-file)")
	fs.StringVar(&f.keyFile, "key-file", "", "read the shared secret from this file")
	fs.Float64Var(&f.maxLoss, "max-loss", 1, "loss in percent above which a path is lossy")
	fs.IntVar(&f.size, "size", 0, "pad requests to this many bytes")
	fs.BoolVar(&f.listen, "listen", false, "receive and report only, like iperf -s -u -B GROUP (no --peer)")
	fs.BoolVar(&f.send, "send", false, "send only, like iperf -c GROUP -u -T TTL (no --peer)")
	fs.IntVar(&f.rate, "rate", 0, "with --send: packets per second (default one per --interval)")
	fs.DurationVar(&f.maxSkew, "max-skew", time.Second, "clock offset to a peer above which it is a problem")
	return c
}

func (f *mcastFlags) validate() error {
	switch {
	case f.ttl < 1 || f.ttl > 255:
		return &probes.UsageError{Flag: "--ttl", Value: fmt.Sprint(f.ttl), Problem: "must be between 1 and 255"}
	case f.interval < time.Millisecond:
		return &probes.UsageError{Flag: "--interval", Value: f.interval.String(), Problem: "must be at least 1ms"}
	case f.count < 1 || f.count > 1_000_000:
		return &probes.UsageError{Flag: "--count", Value: fmt.Sprint(f.count), Problem: "must be between 1 and 1000000"}
	case f.duration < 0:
		return &probes.UsageError{Flag: "--duration", Value: f.duration.String(), Problem: "must be positive"}
	case f.wait < 0:
		return &probes.UsageError{Flag: "--wait", Value: f.wait.String(), Problem: "must be positive"}
	case f.maxLoss < 0 || f.maxLoss > 100:
		return &probes.UsageError{Flag: "--max-loss", Value: fmt.Sprint(f.maxLoss), Problem: "must be a percentage between 0 and 100"}
	case f.size < 0 || f.size > mcast.MaxPacket-100:
		return &probes.UsageError{Flag: "--size", Value: fmt.Sprint(f.size), Problem: fmt.Sprintf("must be between 0 and %d", mcast.MaxPacket-100)}
	case f.output != "text" && f.output != "json":
		return &probes.UsageError{Flag: "--output", Value: f.output, Problem: "unknown format (want text or json)"}
	case f.key != "" && f.keyFile != "":
		return &probes.UsageError{Flag: "--key", Problem: "give --key or --key-file, not both"}
	case f.listen && f.send:
		return &probes.UsageError{Flag: "--listen", Problem: "give --listen or --send, not both (without either, the test runs both ways)"}
	case f.rate < 0 || f.rate > 10_000_000:
		return &probes.UsageError{Flag: "--rate", Value: fmt.Sprint(f.rate), Problem: "must be between 1 and 10000000 packets per second"}
	case f.rate > 0 && !f.send:
		return &probes.UsageError{Flag: "--rate", Problem: "goes with --send"}
	case f.maxSkew <= 0:
		return &probes.UsageError{Flag: "--max-skew", Value: f.maxSkew.String(), Problem: "must be positive"}
	}
	return nil
}

func (f *mcastFlags) mode() string {
	switch {
	case f.listen:
		return "listen"
	case f.send:
		return "send"
	}
	return "mesh"
}

func runMcastTest(c *cobra.Command, f *mcastFlags) error {
	s, err := f.settings(c.Flags())
	if err != nil {
		return usage(err)
	}
	if err := f.validate(); err != nil {
		return usage(err)
	}
	env, err := probes.NewEnv(s.Root)
	if err != nil {
		return incomplete(err)
	}
	defer env.Close()
	ctx := c.Context()
	s, found, err := clusterSettings(ctx, env, s, f.explicit)
	if err != nil {
		return err
	}
	if len(s.Peers) == 0 && f.mode() == "mesh" {
		return usage(&probes.UsageError{Flag: "--peer", Problem: "name at least one other cluster host (or use --listen / --send)"})
	}
	key := []byte(f.key)
	if f.keyFile != "" {
		if key, err = readKey(f.keyFile, true); err != nil {
			return usage(err)
		}
	}
	peers, selves, err := resolvePeers(ctx, env, s.Peers)
	if err != nil {
		return usage(err)
	}
	if len(peers) == 0 && f.mode() == "mesh" {
		return usage(&probes.UsageError{Flag: "--peer", Problem: "every host named is this one (" + strings.Join(selves, ", ") + "): name the other cluster hosts"})
	}
	choice, err := clusterIface(ctx, env, s)
	if err != nil {
		return err
	}
	count := f.count
	switch {
	case f.duration > 0 && f.rate > 0:
		count = max(1, int(f.duration.Seconds()*float64(f.rate)))
	case f.duration > 0:
		count = max(1, int(f.duration/f.interval))
	}
	s.Iface = choice.Iface
	cfg := mcast.Config{Group: s.Group, Port: s.McastPort, TTL: f.ttl, Iface: choice.Iface, Peers: peers,
		Interval: f.interval, Count: count, Wait: f.wait, Key: key, MaxLoss: f.maxLoss, Size: f.size,
		ReceiverFrom: s.ReceiverPorts.From, ReceiverTo: s.ReceiverPorts.To, TomcatReceiver: tomcatReceiver(ctx, env, s, found),
		Info: nodeInfo(env, s, found), MaxSkew: f.maxSkew, Blocked: ownFirewall(env, s)}
	if f.mode() != "mesh" {
		cfg.ReceiverFrom, cfg.ReceiverTo = 0, 0 // --send and --listen test multicast only
	}
	clearProgress := func() {}
	if colorWanted(os.Stderr) && f.output == "text" && f.mode() == "mesh" {
		cfg.Progress, clearProgress = progressLines(os.Stderr, peers)
	}
	if f.mode() == "mesh" {
		// The IGMP this host sends and hears during the test, so that a multicast path that
		// stops is put against its reports and the queries (needs CAP_NET_RAW; without it
		// a stop is still reported, without those times).
		rctx, stopRecording := context.WithCancel(ctx)
		defer stopRecording()
		cfg.IGMP, _ = igmp.Record(rctx, choice.Iface, s.Group)
	}
	start := time.Now()
	node, err := mcast.Listen(cfg)
	if err != nil {
		return incomplete(err)
	}
	defer node.Close()
	host, _ := os.Hostname()
	rep := &mcast.Report{SchemaVersion: 1, Tool: "clusterdoctor", Mode: f.mode(), Host: host, Group: s.Group.String(),
		Port: s.McastPort, TTL: f.ttl, StartedAt: start.UTC(), Route: node.RouteString(), Peers: []mcast.PeerResult{}, Self: selves}
	switch f.mode() {
	case "send":
		sr := node.SendOnly(ctx, count, f.rate)
		rep.Send = &sr
	case "listen":
		// Until --duration, or 2 s after the last packet once one arrived (--wait for the first).
		limit, idle := f.wait+time.Duration(count)*f.interval, 2*time.Second
		if f.duration > 0 {
			limit, idle = f.duration, 0
		}
		rep.Senders, rep.Foreign = node.ListenOnly(ctx, limit, idle)
	default:
		rep.Peers = node.Mesh(ctx)
		rep.Counts = node.Counts()
		rep.Foreign = rep.Counts.Foreign
		rep.TCPPort, rep.TCPOwner = node.TCPPort()
		clearProgress()
	}
	rep.DurationMs = time.Since(start).Milliseconds()
	return writeReport(f.output, func(w io.Writer) error { return report.MeshJSON(w, rep) },
		func(w io.Writer, o report.Options) error { return report.MeshText(w, rep, o) }, rep.OK(f.maxLoss))
}

// resolvePeers resolves names the way the JVM would (the same resolver as preflight), and
// sets apart those that are this host: the same list is given on every host.
func resolvePeers(ctx context.Context, env *probes.Env, names []string) ([]mcast.Peer, []string, error) {
	list, err := resolve.PeersOf(ctx, env, names)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names { // in the order given: the first bad name is reported
		if why, bad := list.Unresolved[name]; bad {
			return nil, nil, &probes.UsageError{Flag: "--peer", Value: name, Problem: why}
		}
	}
	out := make([]mcast.Peer, 0, len(list.Others))
	for _, p := range list.Others {
		out = append(out, mcast.Peer{Name: p.Name, Addr: p.Addr})
	}
	return out, list.Selves, nil
}

// progressLines keeps one live line per peer on a terminal (replies so far on each path),
// redrawn in place at most ten times a second; clearProgress removes them at the end.
func progressLines(w *os.File, peers []mcast.Peer) (update func(mcast.Progress), clear func()) {
	var last time.Time
	drawn := 0
	update = func(p mcast.Progress) {
		if time.Since(last) < 100*time.Millisecond && p.Round != p.Rounds {
			return
		}
		last = time.Now()
		var b strings.Builder
		if drawn > 0 {
			fmt.Fprintf(&b, "\x1b[%dA", drawn) // back to the first line
		}
		for _, peer := range peers {
			fmt.Fprintf(&b, "\r\x1b[K%-20s round %d/%d  unicast replies %d  multicast replies %d\n",
				peer.Name, p.Round, p.Rounds, p.Unicast[peer.Name], p.Multicast[peer.Name])
		}
		drawn = len(peers)
		fmt.Fprint(w, b.String())
	}
	clear = func() {
		if drawn > 0 {
			fmt.Fprintf(w, "\x1b[%dA\x1b[J", drawn)
		}
	}
	return update, clear
}
