package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

func reportWith(statuses ...probes.Status) *probes.Report {
	var rs []probes.Result
	for i, s := range statuses {
		rs = append(rs, probes.Result{ID: "check." + string(rune('a'+i)), Status: s})
	}
	return &probes.Report{Checks: rs, Summary: probes.Summarize(rs)}
}

// TestHealthFollowsTheLastRun: 503 before the first run, after a failing one and after a
// run that could not complete; 200 after a clean one.
func TestHealthFollowsTheLastRun(t *testing.T) {
	var next *probes.Report
	var nextErr error
	a := New(func(context.Context) (*probes.Report, error) { return next, nextErr }, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	health := func() (int, string) {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := health(); code != 503 || !strings.Contains(body, "no run yet") {
		t.Errorf("before a run: %d %s", code, body)
	}
	for _, tc := range []struct {
		rep  *probes.Report
		err  error
		code int
		says string
	}{
		{reportWith(probes.Pass, probes.Warn, probes.Unknown), nil, 200, "healthy: 3 checks, 1 warnings"},
		{reportWith(probes.Pass, probes.Fail), nil, 503, "1 of 2 checks failed: check.b"},
		{nil, errors.New("no netlink"), 503, "checks could not run: no netlink"},
	} {
		next, nextErr = tc.rep, tc.err
		a.runOnce(context.Background())
		if code, body := health(); code != tc.code || !strings.Contains(body, tc.says) {
			t.Errorf("got %d %q; want %d %q", code, body, tc.code, tc.says)
		}
	}
}
