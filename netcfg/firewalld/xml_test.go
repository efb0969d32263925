package firewalld

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/golden"
)

func TestParseZoneGolden(t *testing.T) {
	for _, name := range []string{"cluster-zone.xml", "trusted-zone.xml"} {
		z := golden.Parse(t, ParseZone, name)
		got, _ := json.MarshalIndent(z, "", "  ")
		golden.Compare(t, filepath.Join("testdata", name+".golden"), append(got, '\n'))
	}
}

func TestParseServiceGolden(t *testing.T) {
	s := golden.Parse(t, ParseService, "tomcat-service.xml")
	got, _ := json.MarshalIndent(s, "", "  ")
	golden.Compare(t, filepath.Join("testdata", "tomcat-service.xml.golden"), append(got, '\n'))
}

func TestParseZoneErrors(t *testing.T) {
	golden.ParseErrors(t, ParseZone, map[string]string{
		"":                                  "no <zone> element",
		"<zone><port port='1'/></zone>":     "has no protocol=",
		"<service/>":                        "root element is <service>, want <zone>",
		"<zone><service name='a'></zone>":   "not well-formed XML",
		"<zone target='ACCEPT'>\x00</zone>": "not well-formed XML",
	})
	golden.ParseErrors(t, ParseService, map[string]string{
		"<zone/>":                             "root element is <zone>, want <service>",
		"<service><port port='7'/></service>": "has no protocol=",
	})
}

// TestParsesEveryShippedFile: every zone and service of the installed firewalld package
// (Debian's, about 230 files) parses, and what they open is read.
func TestParsesEveryShippedFile(t *testing.T) {
	files, _ := filepath.Glob("/usr/lib/firewalld/*/*.xml")
	if len(files) == 0 {
		t.Skip("firewalld is not installed: no /usr/lib/firewalld (apt-get install firewalld)")
	}
	f := Files{Root: "/"}
	n := 0
	for _, p := range files {
		name := strings.TrimSuffix(filepath.Base(p), ".xml")
		var err error
		switch filepath.Base(filepath.Dir(p)) {
		case "zones":
			_, err = f.Zone(name)
		case "services":
			_, err = f.Service(name)
		default:
			continue
		}
		if err != nil {
			t.Error(err)
		}
		n++
	}
	if trusted, _ := f.Zone("trusted"); trusted == nil || trusted.Target != "ACCEPT" {
		t.Errorf("trusted = %+v", trusted)
	}
	if ssh, _ := f.Service("ssh"); ssh == nil || len(ssh.Ports) != 1 || ssh.Ports[0] != (PortProto{"22", "tcp"}) {
		t.Errorf("ssh = %+v", ssh)
	}
	if n < 100 {
		t.Errorf("read %d files", n)
	}
}

// TestFilesEtcOverridesUsrLib: a zone in /etc/firewalld wins over the package's, the
// default zone comes from firewalld.conf, and a broken file is named in the error.
func TestFilesEtcOverridesUsrLib(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/lib/firewalld/zones/public.xml", `<zone><service name="ssh"/></zone>`)
	write("usr/lib/firewalld/zones/internal.xml", `<zone><service name="ssh"/></zone>`)
	write("etc/firewalld/zones/public.xml", `<zone><port port="45564" protocol="udp"/></zone>`)
	write("etc/firewalld/zones/broken.xml", `<zone><port port="45564" protocol="udp"></zone>`)
	write("etc/firewalld/firewalld.conf", "# comment\nDefaultZone=internal\n")
	f := Files{Root: root}
	if !f.Installed() {
		t.Fatal("not installed")
	}
	z, err := f.Zone("public")
	if err != nil || len(z.Ports) != 1 || len(z.Services) != 0 {
		t.Errorf("public = %+v, %v; want the /etc one", z, err)
	}
	if d, err := f.DefaultZone(); d != "internal" || err != nil {
		t.Errorf("DefaultZone = %q, %v", d, err)
	}
	if _, err := f.Zone("broken"); err == nil || !strings.Contains(err.Error(), "/etc/firewalld/zones/broken.xml") {
		t.Errorf("broken zone: %v; want the file named", err)
	}
	if _, err := f.Zone("nosuch"); err == nil || !strings.Contains(err.Error(), "no nosuch.xml") {
		t.Errorf("missing zone: %v", err)
	}
	if _, err := f.Zone("../../etc/passwd"); err == nil {
		t.Error("a path as zone name was read")
	}
	if names, _ := f.ZoneNames(); strings.Join(names, ",") != "broken,internal,public" {
		t.Errorf("ZoneNames = %v", names)
	}
	if (Files{Root: t.TempDir()}).Installed() {
		t.Error("an empty root counts as installed")
	}
}

func FuzzParseZone(f *testing.F) {
	golden.Seed(f, "*-zone.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		z, err := ParseZone(strings.NewReader(string(b)))
		if err == nil && z.Target == "" {
			t.Fatal("a parsed zone without a target")
		}
	})
}

func FuzzParseService(f *testing.F) {
	golden.Seed(f, "*-service.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseService(strings.NewReader(string(b)))
	})
}
