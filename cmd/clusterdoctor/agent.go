package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/agent"
	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/mcast"
)

// defaultKeyFile holds the shared mcast-test secret on every host, when there is one.
const defaultKeyFile = "/etc/clusterdoctor/key"

type agentFlags struct {
	settingsFlags
	interval time.Duration
	listen   string
	keyFile  string
	skip     []string
	answer   bool // --responder
}

// agentSettings are the shared settings plus the agent's own --responder.
func (f *agentFlags) agentSettings(fs *pflag.FlagSet) (probes.Settings, error) {
	s, err := f.settings(fs)
	if err == nil && fs.Changed("responder") {
		s.Responder = &f.answer
	}
	return s, err
}

func newAgentCmd() *cobra.Command {
	var f agentFlags
	c := &cobra.Command{
		Use:   "agent",
		Short: "Run the checks periodically, serve them as Prometheus metrics, answer peers' mcast-tests",
		Long: `Run the preflight checks every --interval and serve the last results on --listen:
/metrics (Prometheus: clusterdoctor_check_status{check,status} and friends, plus the
process's own metrics) and /healthz (200 when no check failed, 503 otherwise). Peers'
mcast-test requests on the membership port are answered, so "clusterdoctor mcast-test
--peer THIS-HOST" works from any host without starting anything here; with a key in
--key-file (default ` + defaultKeyFile + `, when present) only requests signed with it are.

Under systemd (Type=notify) it reports READY=1 after the first run, the verdict in
STATUS=, pings the watchdog when WatchdogSec= is set and logs to the journal; outside
systemd all of that is skipped. The watchdog is pinged only while the check loop makes
progress, so a hung run gets the agent restarted. SIGHUP re-reads the configuration and the
key, restarts the responder with them and runs the checks; SIGTERM stops it.
--responder=false (config: responder: false) answers no one.`,
		Example: `  clusterdoctor agent --iface cl0 --peer was2
  clusterdoctor agent --interval 1m --listen 127.0.0.1:9716`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runAgent(c, &f) },
	}
	fs := c.Flags()
	f.register(fs)
	f.registerRole(fs)
	fs.DurationVar(&f.interval, "interval", 30*time.Second, "time between runs of the checks")
	fs.StringVar(&f.listen, "listen", probes.DefaultAgentListen, "address of the /metrics and /healthz server")
	fs.StringVar(&f.keyFile, "key-file", defaultKeyFile, "shared mcast-test secret (used when the file exists)")
	fs.StringSliceVar(&f.skip, "skip", nil, "check IDs not to run (comma-separated)")
	fs.BoolVar(&f.answer, "responder", true, "answer peers' mcast-test on the membership port (config: responder)")
	return c
}

func runAgent(c *cobra.Command, f *agentFlags) error {
	s, err := f.agentSettings(c.Flags())
	if err != nil {
		return usage(err)
	}
	if f.interval < time.Second {
		return usage(&probes.UsageError{Flag: "--interval", Value: f.interval.String(), Problem: "must be 1s or more"})
	}
	if _, _, err := net.SplitHostPort(f.listen); err != nil {
		return usage(&probes.UsageError{Flag: "--listen", Value: f.listen, Problem: "want HOST:PORT"})
	}
	key, err := readKey(f.keyFile, c.Flags().Changed("key-file"))
	if err != nil {
		return usage(err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return incomplete(fmt.Errorf("--listen %s: %w", f.listen, err))
	}
	ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := agent.NewLogger(os.Stderr)
	notify := func(state string) { daemon.SdNotify(false, state) }

	type given struct {
		s        probes.Settings
		explicit map[string]string
	}
	s.Agent = f.listen // igmp.querier asks this agent's own watch
	var settings atomic.Pointer[given]
	settings.Store(&given{s, f.explicit})
	a := agent.New(func(ctx context.Context) (*probes.Report, error) {
		g := settings.Load()
		rep, _, err := runChecks(ctx, g.s, g.explicit, probes.Policy{Skip: f.skip})
		return rep, err
	}, f.interval, log)
	a.Notify = notify

	// The responder answers on the cluster's own group and port, from server.xml unless given.
	var resp responder
	defer resp.stop()
	iface, err := resp.start(ctx, s, f.explicit, key, log)
	if err != nil {
		return err
	}
	var watch igmpWatcher
	defer watch.stop()
	watch.start(ctx, iface, log)
	a.IGMP = watch.state

	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	go watchdog(ctx, notify, a.Progressing, log)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			// Everything is applied or nothing: a bad file or key keeps what runs.
			ns, err := f.agentSettings(c.Flags())
			if err != nil {
				log.Error("reload: configuration kept as it was", "err", err)
				continue
			}
			nkey, err := readKey(f.keyFile, c.Flags().Changed("key-file"))
			if err != nil {
				log.Error("reload: configuration kept as it was", "err", err)
				continue
			}
			ns.Agent = f.listen
			settings.Store(&given{ns, f.explicit})
			iface, err := resp.start(ctx, ns, f.explicit, nkey, log)
			if err != nil {
				log.Error("reload: responder not restarted", "err", err)
			} else if iface != watch.iface() {
				watch.start(ctx, iface, log)
			}
			log.Info("reload: configuration read again", "authenticated", len(nkey) > 0)
			a.Rerun()
		}
	}()
	log.Info("agent started", "listen", ln.Addr().String(), "interval", f.interval.String(),
		"mcast_test_responder", resp.running(), "authenticated", len(key) > 0, "igmp_watch", watch.iface())
	a.Loop(ctx)

	notify("STOPPING=1")
	sctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	srv.Shutdown(sctx)
	log.Info("agent stopped")
	return nil
}

// readKey reads the shared mcast-test secret (agent and mcast-test); a missing file
// means no key unless it was named explicitly.
func readKey(path string, explicit bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("--key-file: %w", err)
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return nil, fmt.Errorf("--key-file %s: empty", path)
	}
	return []byte(key), nil
}

// watchdog pings systemd's watchdog at half its period when WatchdogSec= is set, but only
// while the check loop makes progress: a run hung past twice its deadline stops the pings,
// and systemd restarts the agent (Restart=on-failure in the unit).
func watchdog(ctx context.Context, notify func(string), progressing func(time.Time) bool, log *slog.Logger) {
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil || every == 0 {
		return
	}
	t := time.NewTicker(every / 2)
	defer t.Stop()
	stalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			switch ok := progressing(now); {
			case ok:
				notify("WATCHDOG=1")
				stalled = false
			case !stalled:
				log.Error("the check loop is hung: no more watchdog pings, systemd will restart the agent")
				stalled = true
			}
		}
	}
}

// responder is the agent's mcast-test responder, restarted with new settings on SIGHUP.
type responder struct {
	mu     sync.Mutex
	node   *mcast.Node
	cancel context.CancelFunc
}

// start (re)starts the responder for s and key; with responder: false it only stops it.
// A responder that cannot listen is logged, not fatal: the checks still run.
// It returns the cluster interface it found (for the IGMP watch).
func (r *responder) start(ctx context.Context, s probes.Settings, explicit map[string]string, key []byte, log *slog.Logger) (string, error) {
	cfg, err := responderConfig(ctx, s, explicit, key)
	if err != nil {
		return "", err
	}
	r.stop()
	if s.Responder != nil && !*s.Responder {
		log.Info("not answering peers' mcast-test (responder: false)")
		return cfg.Iface, nil
	}
	node, err := mcast.Listen(cfg)
	if err != nil {
		log.Warn("not answering peers' mcast-test", "err", err)
		return cfg.Iface, nil
	}
	nctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	r.node, r.cancel = node, cancel
	r.mu.Unlock()
	go node.Serve(nctx)
	return cfg.Iface, nil
}

func (r *responder) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node != nil {
		r.cancel()
		r.node.Close()
		r.node, r.cancel = nil, nil
	}
}

func (r *responder) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.node != nil
}

// responderConfig is the agent's responder: it only answers (peers' mcast-tests, their
// settings requests, the web tier asking for jvmRoutes), unicast only on the cluster
// interface's address when it has one, and it announces the running Tomcat's receiver
// for the peers' TCP test.
func responderConfig(ctx context.Context, s probes.Settings, explicit map[string]string, key []byte) (mcast.Config, error) {
	env, err := probes.NewEnv(s.Root)
	if err != nil {
		return mcast.Config{}, incomplete(err)
	}
	defer env.Close()
	s, found, err := clusterSettings(ctx, env, s, explicit)
	if err != nil {
		return mcast.Config{}, err
	}
	if choice, err := clusterIface(ctx, env, s); err == nil {
		s.Iface = choice.Iface
	}
	cfg := mcast.Config{Group: s.Group, Port: s.McastPort, TTL: 1, Iface: s.Iface, Key: key, Responder: true,
		Info: nodeInfo(env, s, found), TomcatReceiver: tomcatReceiver(ctx, env, s, found)}
	if local, err := env.InterfaceAddrs(); err == nil {
		for _, a := range local {
			if a.Iface == s.Iface && a.Prefix.Addr().Is4() {
				cfg.UnicastAddr = a.Prefix.Addr()
				cfg.Subnets = append(cfg.Subnets, a.Prefix.Masked())
			}
		}
	}
	return cfg, nil
}

// igmpWatcher is the agent's IGMP watch on the cluster interface, moved when a reload
// changes the interface. At most igmp.MaxQueriers queriers are kept.
type igmpWatcher struct {
	mu     sync.Mutex
	w      *igmp.Watch
	cancel context.CancelFunc
}

// start (re)starts the watch on iface; one that cannot start (no such interface, no
// CAP_NET_RAW) is logged, and igmp.querier falls back on what it learns by itself.
func (g *igmpWatcher) start(ctx context.Context, iface string, log *slog.Logger) {
	g.stop()
	if iface == "" {
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	w, err := igmp.StartWatch(wctx, iface, igmp.MaxQueriers)
	if err != nil {
		cancel()
		log.Warn("not watching IGMP", "iface", iface, "err", err)
		return
	}
	g.mu.Lock()
	g.w, g.cancel = w, cancel
	g.mu.Unlock()
}

func (g *igmpWatcher) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil {
		g.cancel()
		g.w, g.cancel = nil, nil
	}
}

func (g *igmpWatcher) iface() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w == nil {
		return ""
	}
	return g.w.Iface
}

func (g *igmpWatcher) state() *igmp.State {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w == nil {
		return nil
	}
	s := g.w.State()
	return &s
}
