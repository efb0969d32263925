package web

import (
	"context"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TestConfigurationFindingLeads: an upstream that balances without stickiness and a
// member that does not answer: the check fails, its summary is the configuration's
// finding, and the member is a finding of its own after it. (The member is a closed port
// on loopback.)
func TestConfigurationFindingLeads(t *testing.T) {
	env := envWith(t, map[string]string{
		"etc/nginx/nginx.conf": "events {}\nhttp {\n    upstream tomcats {\n        server 127.0.0.1:1;\n    }\n" +
			"    server {\n        listen 8080;\n        location / { proxy_pass http://tomcats; }\n    }\n}\n",
	})
	r := Upstreams{}.Run(context.Background(), env)
	if r.Status != probes.Fail {
		t.Fatalf("web.upstreams = %s %q; want fail", r.Status, r.Summary)
	}
	if !strings.Contains(r.Summary, "upstream tomcats") || !strings.Contains(r.Summary, "balances by") {
		t.Errorf("summary %q; want the configuration's finding (no stickiness) first", r.Summary)
	}
	if !strings.Contains(r.Detail, "127.0.0.1:1") {
		t.Errorf("detail %q; want the member that does not answer", r.Detail)
	}
}
