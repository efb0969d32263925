package main_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/clusterdoctor/clusterdoctor/probes/lab"
)

// TestOutputFormatsOnARealHost: on a host without a multicast route, every format says
// route.multicast failed in its own way, nagios exits CRITICAL (2), and --textfile
// leaves a file Prometheus' parser reads.
func TestOutputFormatsOnARealHost(t *testing.T) {
	l := lab.New(t)
	h := l.AddHost("a", 1)
	h.AddPublic() // the default route on pub0: multicast would leave there
	textfile := filepath.Join(t.TempDir(), "clusterdoctor.prom")
	args := []string{"preflight", "--iface", "cl0", "--skip", "ntp.sync"}

	nagios := execute(t, h.Command(noFirewalld, binary, append(args, "-o", "nagios", "--textfile", textfile)...))
	if nagios.code != 2 || !strings.HasPrefix(nagios.stdout, "CLUSTERDOCTOR CRITICAL - ") || !strings.Contains(nagios.stdout, "[FAIL] route.multicast") {
		t.Errorf("nagios: exit %d\n%s%s", nagios.code, nagios.stdout, nagios.stderr)
	}
	b, err := os.ReadFile(textfile)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("textfile: %v\n%s", err, b)
	}
	failing := 0
	for _, m := range fams["clusterdoctor_check_status"].GetMetric() {
		if m.GetGauge().GetValue() == 1 && strings.Contains(m.String(), `value:"fail"`) {
			failing++
		}
	}
	if failing == 0 {
		t.Errorf("no failing check in the textfile:\n%s", b)
	}

	junit := execute(t, h.Command(noFirewalld, binary, append(args, "-o", "junit")...))
	var doc struct {
		Suites []struct {
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(junit.stdout), &doc); err != nil || junit.code != 1 || doc.Suites[0].Failures == 0 {
		t.Errorf("junit: exit %d, %v\n%s", junit.code, err, junit.stdout)
	}
	tap := execute(t, h.Command(noFirewalld, binary, append(args, "-o", "tap")...))
	if tap.code != 1 || !strings.Contains(tap.stdout, "not ok ") || !strings.Contains(tap.stdout, "route.multicast") {
		t.Errorf("tap: exit %d\n%s", tap.code, tap.stdout)
	}

	h.AddMulticastRoute()
	ok := execute(t, h.Command(noFirewalld, binary, append(args, "-o", "nagios", "--skip", "route.persistent,hosts.hostname")...))
	if ok.code == 2 {
		t.Errorf("nagios after the route was added: exit %d\n%s", ok.code, ok.stdout)
	}
}
