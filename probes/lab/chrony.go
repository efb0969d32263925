package lab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Chrony is a chronyd the lab started. It runs with -x and without CAP_SYS_TIME, so it
// never touches the clock shared with the real host, and with its own command socket
// under the lab directory.
type Chrony struct {
	// Conf is its chrony.conf; Socket its command socket.
	Conf, Socket string
	Cmd          *exec.Cmd
	host         *Host
}

// StartChronyServer runs an NTP server on h: a local reference at stratum 8 serving the
// cluster LAN. Equivalent of the lab recipe's "local stratum 8" + "allow".
func (h *Host) StartChronyServer() *Chrony {
	return h.startChrony("server", fmt.Sprintf("local stratum 8\nallow %s\nbindaddress %s\n", ClusterNet, h.Addr))
}

// StartChronyClient runs a client of server (an address, which may be unreachable on
// purpose) polling every 250 ms so it synchronises in well under a second.
func (h *Host) StartChronyClient(server string) *Chrony {
	return h.startChrony("client", fmt.Sprintf("server %s iburst minpoll -2 maxpoll -2\n", server))
}

func (h *Host) startChrony(role, body string) *Chrony {
	l := h.lab
	l.t.Helper()
	dir := l.Path("chrony-" + h.Name + "-" + role)
	l.must(os.MkdirAll(dir, 0o700), "mkdir %s", dir)
	c := &Chrony{Conf: dir + "/chrony.conf", Socket: dir + "/chronyd.sock", host: h}
	conf := body + strings.Join([]string{
		"driftfile " + dir + "/drift",
		"pidfile " + dir + "/chronyd.pid",
		"bindcmdaddress " + c.Socket,
		"cmdport 0", ""}, "\n")
	l.must(os.WriteFile(c.Conf, []byte(conf), 0o644), "write %s", c.Conf)
	// -x: chronyd never adjusts the clock; NoClock: the kernel would refuse if it tried.
	c.Cmd = h.Start(Private{NoClock: true}, "chronyd-"+h.Name+"-"+role, "chronyd", "-x", "-n", "-u", "root", "-f", c.Conf)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(c.Socket); err == nil {
			l.requireNoClock(c.Cmd)
			return c
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(l.Path("chronyd-" + h.Name + "-" + role + ".log"))
			l.t.Fatalf("lab: chronyd (%s on %s) did not open its socket: %s", role, h.Name, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tracking is `chronyc -c tracking` against this daemon, the reference answer.
func (c *Chrony) Tracking() string {
	out, _ := c.host.Command(Private{}, "chronyc", "-h", c.Socket, "-c", "tracking").CombinedOutput()
	return strings.TrimSpace(string(out))
}
