package probes

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeProbe returns a fixed result after a delay; it is logic-only scaffolding for the
// runner's policy, not a stand-in for any host check.
type fakeProbe struct {
	id      string
	status  Status
	delay   time.Duration
	timeout time.Duration
	deps    []string
	panics  bool
	running *atomic.Int32
	peak    *atomic.Int32
}

func (p fakeProbe) ID() string { return p.id }
func (p fakeProbe) Timeout() time.Duration {
	if p.timeout == 0 {
		return time.Second
	}
	return p.timeout
}
func (p fakeProbe) DependsOn() []string { return p.deps }
func (p fakeProbe) Run(ctx context.Context, _ *Env) Result {
	if p.running != nil {
		n := p.running.Add(1)
		defer p.running.Add(-1)
		for {
			old := p.peak.Load()
			if n <= old || p.peak.CompareAndSwap(old, n) {
				break
			}
		}
	}
	if p.panics {
		panic("boom")
	}
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		if p.id == "ignores.ctx" {
			time.Sleep(p.delay)
		}
	}
	return Result{Status: p.status, Summary: p.id + " ran"}
}

func statuses(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s=%s ", r.ID, r.Status)
	}
	return strings.TrimSpace(b.String())
}

func TestRunSortsAndAppliesPolicy(t *testing.T) {
	list := []Probe{
		fakeProbe{id: "z.last", status: Pass},
		fakeProbe{id: "a.first", status: Fail},
		fakeProbe{id: "m.ignored", status: Fail},
		fakeProbe{id: "s.skipped", status: Fail},
		fakeProbe{id: "w.warn", status: Warn},
	}
	got := Run(context.Background(), &Env{}, list, Policy{Skip: []string{"s.skipped"}, Ignore: []string{"m.ignored"}})
	want := "a.first=fail m.ignored=warn s.skipped=skip w.warn=warn z.last=pass"
	if statuses(got) != want {
		t.Fatalf("Run = %s; want %s", statuses(got), want)
	}
	if !strings.Contains(got[1].Summary, "ignored by --ignore") {
		t.Errorf("ignored summary %q does not say so", got[1].Summary)
	}
	all := Run(context.Background(), &Env{}, list, Policy{Ignore: []string{"all"}})
	if s := Summarize(all); s.Fail != 0 || s.Warn != 4 {
		t.Errorf("--ignore all: summary %+v; want 0 fail, 4 warn", s)
	}
}

func TestRunDependencies(t *testing.T) {
	list := []Probe{
		fakeProbe{id: "base", status: Fail, delay: 20 * time.Millisecond},
		fakeProbe{id: "child", status: Pass, deps: []string{"base"}},
		fakeProbe{id: "grandchild", status: Pass, deps: []string{"child"}},
		fakeProbe{id: "ok.base", status: Pass},
		fakeProbe{id: "ok.child", status: Pass, deps: []string{"ok.base", "not.in.run"}},
	}
	got := Run(context.Background(), &Env{}, list, Policy{})
	want := "base=fail child=skip grandchild=skip ok.base=pass ok.child=pass"
	if statuses(got) != want {
		t.Fatalf("Run = %s; want %s", statuses(got), want)
	}
	if got[1].Summary != "skipped: base failed" || got[2].Summary != "skipped: child was skipped" {
		t.Errorf("skip summaries %q, %q", got[1].Summary, got[2].Summary)
	}
	// A dependency skipped by the operator does not block: it said nothing was wrong.
	got = Run(context.Background(), &Env{}, list[:2], Policy{Skip: []string{"base"}})
	if statuses(got) != "base=skip child=pass" {
		t.Errorf("with --skip base: %s; want child to run", statuses(got))
	}
	// An ignored failure is a warning and does not block either.
	got = Run(context.Background(), &Env{}, list[:2], Policy{Ignore: []string{"base"}})
	if statuses(got) != "base=warn child=pass" {
		t.Errorf("with --ignore base: %s; want child to run", statuses(got))
	}
}

func TestRunDeadlines(t *testing.T) {
	list := []Probe{
		fakeProbe{id: "slow", status: Pass, delay: time.Hour, timeout: 30 * time.Millisecond},
		fakeProbe{id: "ignores.ctx", status: Pass, delay: time.Hour, timeout: 30 * time.Millisecond},
		fakeProbe{id: "fast", status: Pass},
		fakeProbe{id: "panics", status: Pass, panics: true},
	}
	start := time.Now()
	got := Run(context.Background(), &Env{}, list, Policy{})
	if statuses(got) != "fast=pass ignores.ctx=unknown panics=unknown slow=unknown" {
		t.Fatalf("Run = %s", statuses(got))
	}
	if !strings.Contains(got[3].Summary, "30ms timeout") || !strings.Contains(got[2].Summary, "internal error") {
		t.Errorf("summaries: %q / %q", got[3].Summary, got[2].Summary)
	}
	if got[3].Duration < 30*time.Millisecond {
		t.Errorf("slow probe duration %s; want at least its timeout", got[3].Duration)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Run waited for a probe that ignores its context")
	}

	// The global deadline caps every probe's own.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	got = Run(ctx, &Env{}, []Probe{fakeProbe{id: "slow", delay: time.Hour, timeout: time.Hour}}, Policy{})
	if got[0].Status != Unknown || !strings.Contains(got[0].Summary, "overall --timeout") {
		t.Errorf("under an expired global deadline: %s %q", got[0].Status, got[0].Summary)
	}
}

func TestRunBoundsConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	var list []Probe
	for i := 0; i < 12; i++ {
		list = append(list, fakeProbe{id: fmt.Sprintf("p%02d", i), status: Pass, delay: 20 * time.Millisecond, running: &running, peak: &peak})
	}
	Run(context.Background(), &Env{}, list, Policy{Concurrency: 3})
	if p := peak.Load(); p > 3 || p < 2 {
		t.Fatalf("peak concurrency %d; want at most 3 (and some overlap)", p)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		s      Summary
		strict bool
		want   int
	}{
		{Summary{Pass: 3}, false, 0},
		{Summary{Pass: 3, Warn: 1, Unknown: 2, Skip: 1}, false, 0},
		{Summary{Warn: 1}, true, 1},
		{Summary{Fail: 1}, false, 1},
		{Summary{Unknown: 3}, true, 0}, // unknown is never a failure
	}
	for _, tt := range tests {
		r := &Report{Summary: tt.s}
		if got := r.ExitCode(tt.strict); got != tt.want {
			t.Errorf("ExitCode(%+v, strict=%v) = %d; want %d", tt.s, tt.strict, got, tt.want)
		}
	}
}

// TestRunUsesTheEnvClock: durations come from the Env's clock, so a test or a replay can
// set them.
func TestRunUsesTheEnvClock(t *testing.T) {
	var ticks atomic.Int64
	env := &Env{Now: func() time.Time { return time.Unix(0, ticks.Add(1)*int64(7*time.Millisecond)) }}
	got := Run(context.Background(), env, []Probe{fakeProbe{id: "p", status: Pass}}, Policy{})
	if got[0].Duration != 7*time.Millisecond {
		t.Fatalf("duration %s; want one tick of the Env's clock (7ms)", got[0].Duration)
	}
}
