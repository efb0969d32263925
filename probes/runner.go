package probes

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// DefaultConcurrency bounds how many probes run at once: enough to overlap the slow ones
// (daemon queries, DNS) on a two-core host without a thundering herd of sockets.
const DefaultConcurrency = 8

// Policy is what the operator asked of the run, as opposed to what is checked.
type Policy struct {
	// Skip lists check IDs not to run; they are reported as skip.
	Skip []string
	// Ignore lists check IDs ("all" for every one) whose fail is reported as warn.
	Ignore []string
	// Concurrency bounds parallel probes; 0 means DefaultConcurrency.
	Concurrency int
}

func (p Policy) skips(id string) bool   { return contains(p.Skip, id) }
func (p Policy) ignores(id string) bool { return contains(p.Ignore, id) || contains(p.Ignore, "all") }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Run runs the probes under ctx (whose deadline is the global --timeout) and returns their
// results sorted by ID. Each probe gets its own deadline, the smaller of its Timeout and
// what is left of ctx's; a probe that overruns is reported unknown and abandoned. A probe
// whose dependency failed is skipped, naming it.
func Run(ctx context.Context, env *Env, list []Probe, pol Policy) []Result {
	limit := pol.Concurrency
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	sem := make(chan struct{}, limit)
	done := make(map[string]chan struct{}, len(list))
	for _, p := range list {
		done[p.ID()] = make(chan struct{})
	}
	results := make([]Result, len(list))
	// blocking records, per ID, whether its result makes dependents meaningless: it failed,
	// or it was skipped because something it needs failed. Guarded by mu.
	blocking := make(map[string]Result, len(list))
	var mu sync.Mutex

	var wg sync.WaitGroup
	for i, p := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, blocks := runOne(ctx, env, p, pol, sem, done, func(id string) (Result, bool) {
				mu.Lock()
				defer mu.Unlock()
				b, ok := blocking[id]
				return b, ok
			})
			mu.Lock()
			results[i] = r
			if blocks {
				blocking[r.ID] = r
			}
			mu.Unlock()
			close(done[p.ID()])
		}()
	}
	wg.Wait()
	sort.Slice(results, func(a, b int) bool { return results[a].ID < results[b].ID })
	return results
}

func runOne(ctx context.Context, env *Env, p Probe, pol Policy, sem chan struct{},
	done map[string]chan struct{}, blockedBy func(string) (Result, bool)) (Result, bool) {
	id := p.ID()
	if pol.skips(id) {
		return SkipResult(id, "skipped by --skip"), false
	}
	if d, ok := p.(Dependent); ok {
		for _, dep := range d.DependsOn() {
			ch, known := done[dep]
			if !known {
				continue // not in this run (not applicable here): nothing to wait for
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return UnknownResult(id, "not run: the overall --timeout expired"), false
			}
			if r, blocked := blockedBy(dep); blocked {
				return SkipResult(id, fmt.Sprintf("skipped: %s %s", dep, failedWord(r))), true
			}
		}
	}
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
		return UnknownResult(id, "not run: the overall --timeout expired"), false
	}

	r := runWithDeadline(ctx, env, p)
	r.ID = id
	if r.Status == Fail && pol.ignores(id) {
		r.Status = Warn
		r.Summary += " (failure ignored by --ignore)"
	}
	return r, r.Status == Fail
}

func failedWord(r Result) string {
	if r.Status == Fail {
		return "failed"
	}
	return "was skipped"
}

func runWithDeadline(ctx context.Context, env *Env, p Probe) Result {
	timeout := p.Timeout()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := env.now()
	ch := make(chan Result, 1) // buffered: an abandoned probe can still finish and exit
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- UnknownResult(p.ID(), fmt.Sprintf("internal error in this check: %v", v))
			}
		}()
		ch <- p.Run(pctx, env)
	}()
	var r Result
	select {
	case r = <-ch:
	case <-pctx.Done():
		if ctx.Err() != nil {
			r = UnknownResult(p.ID(), "could not finish: the overall --timeout expired")
		} else {
			r = UnknownResult(p.ID(), fmt.Sprintf("could not finish within its %s timeout", timeout))
		}
	}
	r.Duration = env.now().Sub(start)
	return r
}
