package firewall

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/firewalld"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// runningFiles is the permanent configuration the running firewalld reads: the
// directories of its command line (--system-config, --default-config; /etc/firewalld and
// /usr/lib/firewalld without them), through its own mount namespace (/proc/PID/root).
// firewalld writes every permanent change there at once, so the files are its permanent
// configuration, and what it loads at its next start or reload, without a D-Bus round
// trip per zone and service. ok is false where the process cannot be read: then firewalld
// is asked.
func runningFiles(env *probes.Env, c *firewalld.Client) (firewalld.Files, bool) {
	if !env.LiveRoot() {
		return firewalld.Files{}, false
	}
	pid, err := c.PID()
	if err != nil || pid <= 0 {
		return firewalld.Files{}, false
	}
	b, err := env.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid), 64<<10)
	if err != nil {
		return firewalld.Files{}, false
	}
	f := filesOf(pid, b)
	if !f.Installed() {
		return firewalld.Files{}, false
	}
	return f, true
}

// filesOf reads firewalld's configuration directories from its command line (NUL
// separated, as /proc/PID/cmdline): --system-config and --default-config, each as one
// argument with "=" or followed by its value, as argparse takes them.
func filesOf(pid int, cmdline []byte) firewalld.Files {
	f := firewalld.Files{Root: fmt.Sprintf("/proc/%d/root", pid)}
	args := strings.Split(string(bytes.TrimRight(cmdline, "\x00")), "\x00")
	for i, a := range args {
		for flag, dst := range map[string]*string{"--system-config": &f.System, "--default-config": &f.Default} {
			switch {
			case a == flag && i+1 < len(args):
				*dst = args[i+1]
			case strings.HasPrefix(a, flag+"="):
				*dst = strings.TrimPrefix(a, flag+"=")
			}
		}
	}
	return f
}
