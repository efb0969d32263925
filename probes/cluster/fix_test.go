package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes/remote"
)

// fakeSSH runs the remote command line with this machine's sh, telling it the host as
// FAKE_HOST; fakeDoctor is a clusterdoctor whose fix fails on the host named bad. Fakes for
// ApplyFixes' logic: the real fixes and their roll-back run in cmd/clusterdoctor's lab.
const (
	fakeSSH = `#!/bin/sh
prev=; host=
for a; do [ "$a" = -- ] && host=$prev; prev=$a; last=$a; done
case " $* " in *" -N "*|*" -O "*) exit 0;; esac
FAKE_HOST=$host exec sh -c "$last"
`
	fakeDoctor = `#!/bin/sh
case "$*" in
*--dry-run*) echo "ip route replace 224.0.0.0/4 dev cl0 scope link proto 205"; echo "# --dry-run: nothing was changed"; exit 0;;
esac
if [ "$FAKE_HOST" = bad ]; then echo "clusterdoctor: write /etc/sysconfig/network-scripts/route-cl0: read-only file system; the runtime route was rolled back" >&2; exit 3; fi
echo "ip route replace 224.0.0.0/4 dev cl0 scope link proto 205"
`
)

func TestApplyFixes(t *testing.T) {
	dir := t.TempDir()
	ssh, doctor := filepath.Join(dir, "ssh"), filepath.Join(dir, "clusterdoctor-build")
	os.WriteFile(ssh, []byte(fakeSSH), 0o755)
	os.WriteFile(doctor, []byte(fakeDoctor), 0o755)
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("TMPDIR", t.TempDir())
	client, err := remote.NewClient(&remote.Binary{Path: doctor, Version: "test"}, nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.SSH = ssh
	cfg := Config{Client: client, Timeout: 10 * time.Second, Hosts: []Host{
		{Target: remote.Target{Name: "good", Address: "good"}}, {Target: remote.Target{Name: "bad", Address: "bad"}}}}
	fixes := func() []Fix {
		return []Fix{{Host: "good", Command: []string{"fix", "route", "--iface", "cl0"}, For: []string{"route.multicast"}},
			{Host: "bad", Command: []string{"fix", "route", "--iface", "cl0", "--persist"}, For: []string{"route.multicast"}}}
	}

	var shown []Fix
	got := ApplyFixes(context.Background(), cfg, fixes(), func(plans []Fix) bool { shown = plans; return false })
	if len(shown) != 2 || !strings.Contains(shown[1].Plan, "ip route replace") || got[0].Applied || got[1].Applied {
		t.Errorf("declined: plans %+v, result %+v", shown, got)
	}

	got = ApplyFixes(context.Background(), cfg, fixes(), func([]Fix) bool { return true })
	if !got[0].Applied || got[0].Error != "" {
		t.Errorf("good: %+v", got[0])
	}
	if got[1].Applied || !strings.Contains(got[1].Error, "fix route --iface cl0 --persist failed (exit 3)") || !strings.Contains(got[1].Error, "rolled back") {
		t.Errorf("bad: %+v", got[1])
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "clusterdoctor.*")); len(left) > 0 {
		t.Errorf("copies left on the hosts: %v", left)
	}
}
