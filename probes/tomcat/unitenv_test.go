package tomcat

import (
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// TestUnitEnvironment: a service unit's Environment= and its drop-ins', as systemd reads
// them; the unit in /etc wins over /lib's, drop-ins apply in name order.
func TestUnitEnvironment(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"lib/systemd/system/tomcat10.service":                "[Service]\nEnvironment=\"FROM=lib\"\n",
		"etc/systemd/system/tomcat10.service":                "[Unit]\nDescription=x\n[Service]\nEnvironment=\"CATALINA_HOME=/usr/share/tomcat10\" \"KUBERNETES_LABELS=app=tomcat,tier=web\"\nEnvironment=DNS_MEMBERSHIP_SERVICE_NAME=svc\n",
		"etc/systemd/system/tomcat10.service.d/20-dns.conf":  "[Service]\nEnvironment=DNS_MEMBERSHIP_SERVICE_NAME=tomcat.lab\n",
		"etc/systemd/system/tomcat10.service.d/10-kube.conf": "[Service]\nEnvironment='KUBERNETES_NAMESPACE=prod'\n",
	})
	vars, from := unitEnvironment(&probes.Env{Root: root}, "tomcat10")
	want := map[string]string{"CATALINA_HOME": "/usr/share/tomcat10", "KUBERNETES_LABELS": "app=tomcat,tier=web", "DNS_MEMBERSHIP_SERVICE_NAME": "tomcat.lab", "KUBERNETES_NAMESPACE": "prod"}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %q; want %q (%v)", k, vars[k], v, vars)
		}
	}
	if _, ok := vars["FROM"]; ok {
		t.Errorf("/lib's unit was read beside /etc's: %v", vars)
	}
	if !strings.HasSuffix(from["DNS_MEMBERSHIP_SERVICE_NAME"], "20-dns.conf") {
		t.Errorf("DNS_MEMBERSHIP_SERVICE_NAME from %q; want the drop-in", from["DNS_MEMBERSHIP_SERVICE_NAME"])
	}
	for in, want := range map[string]string{`A=1 "B=2 3" 'C=4'`: "A=1|B=2 3|C=4", `D=a\ b`: "D=a b", ``: ""} {
		if got := strings.Join(unitWords(in), "|"); got != want {
			t.Errorf("unitWords(%q) = %q; want %q", in, got, want)
		}
	}
}
