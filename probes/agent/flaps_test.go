package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/members"
	"github.com/clusterdoctor/clusterdoctor/probes/tomcat"
)

func membersReport(states ...members.State) *probes.Report {
	rs := []probes.Result{{ID: "tomcat.members", Status: probes.Pass, Evidence: map[string]any{tomcat.MemberStates: states}}}
	return &probes.Report{Checks: rs, Summary: probes.Summarize(rs)}
}

// TestMemberFlapsAreKept: a member that vanishes and comes back between scrapes is in the
// log and in clusterdoctor_tomcat_member_changes_total; a steady one is not.
func TestMemberFlapsAreKept(t *testing.T) {
	was2 := func(up bool) members.State { return members.State{Address: "10.99.0.2", Port: 4000, Up: up} }
	was3 := members.State{Address: "10.99.0.3", Port: 4000, Up: true}
	runs := []*probes.Report{membersReport(was2(true), was3), membersReport(was2(false), was3), membersReport(was2(true), was3)}
	i := 0
	var logs bytes.Buffer
	a := New(func(context.Context) (*probes.Report, error) { r := runs[i]; i++; return r, nil }, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	for range runs {
		a.runOnce(context.Background())
	}
	for _, want := range []string{"event=member-gone member=10.99.0.2:4000", "event=member-back member=10.99.0.2:4000"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log has no %q:\n%s", want, logs.String())
		}
	}
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if !strings.Contains(body, `clusterdoctor_tomcat_member_changes_total{address="10.99.0.2",port="4000"} 2`) {
		t.Errorf("metrics lack was2's two changes:\n%s", body)
	}
	if strings.Contains(body, `member_changes_total{address="10.99.0.3"`) {
		t.Error("a steady member has changes")
	}
}

// TestMemberWatchBounded: heartbeats from thousands of forged members keep at most
// maxWatchedMembers remembered.
func TestMemberWatchBounded(t *testing.T) {
	var w memberWatch
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for round := 0; round < 2; round++ {
		var states []members.State
		for i := 0; i < 5000; i++ {
			states = append(states, members.State{Address: fmt.Sprintf("172.16.%d.%d", i>>8, i&255), Port: 4000, Up: round == 0})
		}
		w.observe(membersReport(states...), time.Now(), log)
	}
	if len(w.up) != maxWatchedMembers || len(w.changes) != maxWatchedMembers {
		t.Errorf("%d members and %d changes remembered, want %d", len(w.up), len(w.changes), maxWatchedMembers)
	}
}
