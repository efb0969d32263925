// Package agent is clusterdoctor's long-running mode: it runs the preflight checks at an
// interval, serves the last results as Prometheus metrics and a health endpoint, and
// tells systemd how it is doing. It answers peers' mcast-test requests beside that (the
// command wires the responder in).
package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/igmp"
	"github.com/clusterdoctor/clusterdoctor/probes/report"
)

// Agent runs the checks and keeps the last report.
type Agent struct {
	// Check runs the checks once.
	Check func(ctx context.Context) (*probes.Report, error)
	// Interval between runs.
	Interval time.Duration
	// Notify sends a state to systemd (READY=1, STATUS=...); nil outside systemd.
	Notify func(state string)
	Log    *slog.Logger
	// IGMP returns what the agent's IGMP watch has heard (nil: no watch runs).
	IGMP func() *igmp.State

	metrics report.Metrics
	flaps   memberWatch
	mu      sync.Mutex
	last    *probes.Report
	lastErr error
	reload  chan struct{}
	// busySince is when the run in progress began (Unix ns), 0 between runs.
	busySince atomic.Int64
}

// New returns an agent; Check and Interval must be set before Loop.
func New(check func(context.Context) (*probes.Report, error), interval time.Duration, log *slog.Logger) *Agent {
	return &Agent{Check: check, Interval: interval, Log: log, reload: make(chan struct{}, 1)}
}

// Rerun asks the loop for a run now (after a configuration reload).
func (a *Agent) Rerun() {
	select {
	case a.reload <- struct{}{}:
	default:
	}
}

// Loop runs the checks now and then every Interval until ctx ends. After the first run it
// tells systemd the agent is ready; after every run, the verdict (STATUS=).
func (a *Agent) Loop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	ready := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.reload:
		case <-t.C:
		}
		a.runOnce(ctx)
		if !ready && a.Notify != nil {
			a.Notify("READY=1")
			ready = true
		}
		if a.Notify != nil {
			a.Notify("STATUS=" + a.Status())
		}
		t.Reset(a.Interval)
	}
}

// runTimeout bounds one run of the checks.
func (a *Agent) runTimeout() time.Duration { return min(a.Interval, 30*time.Second) }

// Progressing reports whether the check loop is alive: between runs, or in a run that has
// not yet taken twice its deadline. A run stuck past that (a read that blocks without
// honouring its context) means the agent is hung, and systemd's watchdog should restart it.
func (a *Agent) Progressing(now time.Time) bool {
	since := a.busySince.Load()
	return since == 0 || now.Sub(time.Unix(0, since)) <= 2*a.runTimeout()
}

func (a *Agent) runOnce(ctx context.Context) {
	a.busySince.Store(time.Now().UnixNano())
	defer a.busySince.Store(0)
	timeout := a.runTimeout()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep, err := a.Check(rctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastErr = err
	if err != nil {
		a.Log.Error("checks did not run", "err", err)
		return
	}
	a.last = rep
	a.metrics.Set(rep)
	a.flaps.observe(rep, time.Now(), a.Log)
	level := slog.LevelInfo
	if rep.Summary.Fail > 0 {
		level = slog.LevelWarn // journalctl -p warning lists the runs that found a problem
	}
	a.Log.Log(ctx, level, "checks ran", "pass", rep.Summary.Pass, "warn", rep.Summary.Warn, "fail", rep.Summary.Fail,
		"unknown", rep.Summary.Unknown, "failing", strings.Join(failing(rep), ","), "duration_ms", rep.DurationMs)
}

// Status is the one-line verdict of the last run.
func (a *Agent) Status() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.lastErr != nil:
		return "checks could not run: " + a.lastErr.Error()
	case a.last == nil:
		return "no run yet"
	}
	s := a.last.Summary
	if s.Fail == 0 {
		return fmt.Sprintf("healthy: %d checks, %d warnings", len(a.last.Checks), s.Warn)
	}
	return fmt.Sprintf("%d of %d checks failed: %s", s.Fail, len(a.last.Checks), strings.Join(failing(a.last), ", "))
}

func failing(rep *probes.Report) []string {
	var out []string
	for _, r := range rep.Checks {
		if r.Status == probes.Fail {
			out = append(out, r.ID)
		}
	}
	return out
}

// Handler serves /metrics (the checks, and the agent process's CPU and memory) and /healthz
// (200 when the last run found no failure, 503 otherwise or before the first run).
func (a *Agent) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	// The process's own CPU and memory, but not the Go runtime's hundred-odd series: a
	// scrape stays cheap (the agent's budget is 0.5% of a core).
	reg.MustRegister(&a.metrics, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		flapCollector{a}, igmpCollector{func() *igmp.State {
			if a.IGMP == nil {
				return nil
			}
			return a.IGMP()
		}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /igmp", a.serveIGMP)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		ok := a.last != nil && a.lastErr == nil && a.last.Summary.Fail == 0
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprintln(w, a.Status())
	})
	return mux
}

// flapCollector exports the members' comings and goings.
type flapCollector struct{ a *Agent }

func (c flapCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descMemberChanges }

func (c flapCollector) Collect(ch chan<- prometheus.Metric) {
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	c.a.flaps.collect(ch)
}
