package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Self is this program, run again in a node's namespaces: the kernel's link to the
// running binary works even where the file was replaced or is not on PATH.
const Self = "/proc/self/exe"

// parallel bounds the node runs at once: each is a whole preflight.
const parallel = 4

// maxReport bounds what is read of a node's report.
const maxReport = 16 << 20

// Preflight runs `exe preflight -o json --node PID ARGS...` in every node's network and
// UTS namespaces, a few at a time, and collects their reports in the nodes' order. A run
// that ends without a report (usage error, no namespace to join, killed at the deadline)
// is a NodeReport with its Error.
func Preflight(ctx context.Context, exe string, nodes []probes.NodeIdentity, args []string) []probes.NodeReport {
	out := make([]probes.NodeReport, len(nodes))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = preflightIn(ctx, exe, n, args)
		}()
	}
	wg.Wait()
	return out
}

func preflightIn(ctx context.Context, exe string, n probes.NodeIdentity, args []string) probes.NodeReport {
	nr := probes.NodeReport{Node: n, Name: n.Label(), ExitCode: probes.ExitIncomplete}
	argv := append([]string{"preflight", "-o", "json", "--node", strconv.Itoa(n.PID)}, args...)
	cmd := exec.CommandContext(ctx, exe, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{w: &stdout, n: maxReport}, &limited{w: &stderr, n: 64 << 10}
	if err := StartIn(n.PID, cmd); err != nil {
		nr.Error = err.Error()
		return nr
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		nr.ExitCode = ee.ExitCode()
	case err != nil:
		nr.Error = fmt.Sprintf("preflight in %s: %v", n.Label(), err)
		return nr
	default:
		nr.ExitCode = probes.ExitOK
	}
	if nr.ExitCode != probes.ExitOK && nr.ExitCode != probes.ExitFailed {
		nr.Error = firstLine(stderr.String(), ctx.Err())
		return nr
	}
	var rep probes.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		nr.Error = fmt.Sprintf("preflight in %s wrote no report: %v", n.Label(), err)
		nr.ExitCode = probes.ExitIncomplete
		return nr
	}
	nr.Report = &rep
	return nr
}

// firstLine is a failed run's reason: its first line on stderr, or the deadline.
func firstLine(stderr string, ctxErr error) string {
	if line, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n"); line != "" {
		return line
	}
	if ctxErr != nil {
		return "not finished before the deadline (--timeout)"
	}
	return "ended without a report"
}

// limited keeps the first n bytes written and drops the rest, so a runaway child cannot
// take this process's memory.
type limited struct {
	w *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
