package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes/replication"
)

func TestSessionTestText(t *testing.T) {
	rep := &replication.Report{URL: "http://web/", Requests: 9, DurationMs: 2100,
		Members: []replication.Member{{Name: "tomcat1", Scheme: "ajp", Address: "10.0.0.1:8009", JvmRoute: "tomcat1"}, {Name: "tomcat2", Scheme: "ajp", Address: "10.0.0.2:8009", JvmRoute: "tomcat2", Container: "podman container tc2"}},
		Pairs: []replication.Pair{
			{From: "tomcat1", To: "tomcat2", Verdict: replication.NotReplicated, Attempts: 6, Session: "AB….tomcat1", MadeVia: "balancer", Reason: "tomcat2 has no replica"},
			{From: "tomcat2", To: "tomcat1", Verdict: replication.Replicated, SeenMs: 3.25, Attempts: 1, Session: "CD….tomcat2", MadeVia: "direct"},
		},
		Stickiness: []replication.Stickiness{{Member: "tomcat1", Verdict: replication.Sticky, Landed: []string{"kept", "tomcat1"}}, {Member: "tomcat2", Verdict: replication.NotTested}},
	}
	var b bytes.Buffer
	if err := SessionTestText(&b, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"tomcat1  tomcat2  not-replicated  -        6      AB….tomcat1  balancer",
		"tomcat2  tomcat1  replicated      3.2      1",
		"tomcat1  ajp://10.0.0.1:8009                         tomcat1   sticky      kept, tomcat1",
		"tomcat2  ajp://10.0.0.2:8009 (podman container tc2)  tomcat2   not-tested  -",
		"tomcat1 > tomcat2: not-replicated: tomcat2 has no replica\n\n1 of 2 directions replicate, sessions stick to their node (http://web/, 9 requests, 2100 ms)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("SessionTestText lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	if err := SessionTestJSON(&b, rep); err != nil || !json.Valid(b.Bytes()) || !strings.Contains(b.String(), `"verdict": "not-replicated"`) {
		t.Errorf("SessionTestJSON = %v:\n%s", err, b.String())
	}
}
