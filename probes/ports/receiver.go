package ports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// ReceiverTimeout bounds the /proc walk, which is linear in the number of processes.
const ReceiverTimeout = 3 * time.Second

// Receiver is ports.receiver: no process other than Tomcat listens in the replication
// receiver range. NioReceiver with autoBind takes the next free port, so a squatter
// shifts Tomcat to a port the firewall may not open and peers may not expect.
// Equivalent to: ss -ltnp 'sport >= :4000 and sport <= :4100'.
type Receiver struct {
	Range probes.PortRange
	// Likely are processes that probably hold sockets in the range (the Tomcat JVMs
	// found): their descriptors are read first, so the walk of /proc usually stops early.
	Likely []int
}

// ID implements probes.Probe.
func (Receiver) ID() string { return "ports.receiver" }

// Timeout implements probes.Probe.
func (Receiver) Timeout() time.Duration { return ReceiverTimeout }

// Holder is a listening socket in the range and the process that holds it.
type Holder struct {
	Addr   netip.Addr // the bound address (0.0.0.0 or :: for all)
	Port   int
	PID    int    // 0 when the owner could not be seen
	Comm   string // process name
	Tomcat bool   // the process is a Tomcat JVM
}

// Run implements probes.Probe.
func (p Receiver) Run(ctx context.Context, env *probes.Env) probes.Result {
	holders, err := Listening(ctx, env, p.Range.Contains, p.Likely...)
	if err != nil {
		return probes.UnknownResult(p.ID(), err.Error())
	}
	return decideReceiver(p.Range, holders, env.IsRoot)
}

// Listening lists the TCP sockets listening on a port that want accepts, with the
// processes that hold them; the likely holders' descriptors are read first, and the walk
// of /proc ends as soon as every socket has its owner. Equivalent to: ss -ltnp.
func Listening(ctx context.Context, env *probes.Env, want func(port int) bool, likely ...int) ([]Holder, error) {
	listening := map[uint64]Socket{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := env.ReadFile(file, maxProcNet)
		if errors.Is(err, os.ErrNotExist) && file == "/proc/net/tcp6" {
			continue // IPv6 disabled
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", file, err)
		}
		socks, err := ParseProcNet(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, s := range socks {
			if s.State == tcpListen && want(s.LocalPort) {
				listening[s.Inode] = s
			}
		}
	}
	return owners(ctx, env, listening, likely)
}

// owners maps socket inodes to processes by reading /proc/PID/fd links, as ss -p does.
func owners(ctx context.Context, env *probes.Env, inodes map[uint64]Socket, likely []int) ([]Holder, error) {
	if len(inodes) == 0 {
		return nil, nil
	}
	found := map[uint64]Holder{}
	scan := func(pid int) {
		fdDir := env.Path(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			return // gone, or not ours to see without root
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(link[len("socket:["):], "]"), 10, 64)
			if s, ok := inodes[ino]; err == nil && ok {
				found[ino] = describe(env, pid, s)
			}
		}
	}
	for _, pid := range likely {
		scan(pid)
	}
	if len(found) < len(inodes) {
		procs, err := os.ReadDir(env.Path("/proc"))
		if err != nil {
			return nil, fmt.Errorf("read /proc: %w", err)
		}
		for _, d := range procs {
			pid, err := strconv.Atoi(d.Name())
			if err != nil || contains(likely, pid) {
				continue
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			scan(pid)
			if len(found) == len(inodes) {
				break
			}
		}
	}
	out := make([]Holder, 0, len(inodes))
	for ino, s := range inodes {
		h, ok := found[ino]
		if !ok {
			h = Holder{Addr: s.LocalAddr, Port: s.LocalPort}
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Addr.Less(out[j].Addr)
	})
	return out, nil
}

func contains(pids []int, pid int) bool {
	for _, p := range pids {
		if p == pid {
			return true
		}
	}
	return false
}

func describe(env *probes.Env, pid int, s Socket) Holder {
	h := Holder{Addr: s.LocalAddr, Port: s.LocalPort, PID: pid}
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	h.Comm, _ = env.ReadTrimmed(filepath.Join(dir, "comm"))
	cmdline, _ := env.ReadFile(filepath.Join(dir, "cmdline"), 1<<20)
	h.Tomcat = bytes.Contains(cmdline, []byte("org.apache.catalina.startup.Bootstrap"))
	return h
}

func decideReceiver(r probes.PortRange, holders []Holder, isRoot bool) probes.Result {
	const id = "ports.receiver"
	var others, tomcat, unseen []string
	for _, h := range holders {
		switch {
		case h.Tomcat:
			tomcat = append(tomcat, fmt.Sprintf("%d (pid %d)", h.Port, h.PID))
		case h.PID == 0:
			unseen = append(unseen, strconv.Itoa(h.Port))
		default:
			others = append(others, fmt.Sprintf("%d by %s (pid %d)", h.Port, h.Comm, h.PID))
		}
	}
	ev := map[string]any{"range": r.String(), "tomcat": tomcat, "others": others}
	switch {
	case len(others) > 0:
		return probes.WarnResult(id, fmt.Sprintf("receiver range %s: port %s is held by another process", r, strings.Join(others, ", "))).
			With("Tomcat's NioReceiver (autoBind) moves to the next free port, which peers and the firewall may not expect",
				"stop or move that service, or set a free Receiver port in server.xml", ev)
	case len(unseen) > 0 && !isRoot:
		return probes.UnknownResult(id, fmt.Sprintf("receiver range %s: port %s is in use by a process only root can see", r, strings.Join(unseen, ", "))).
			With("", "run clusterdoctor preflight as root to name it", ev)
	case len(unseen) > 0:
		return probes.WarnResult(id, fmt.Sprintf("receiver range %s: port %s is held by a socket with no visible process", r, strings.Join(unseen, ", "))).
			With("a kernel socket or a process in another PID namespace holds it", "find it with: ss -ltnp 'sport = :"+unseen[0]+"'", ev)
	case len(tomcat) > 0:
		return probes.PassResult(id, fmt.Sprintf("receiver range %s: only Tomcat listens (%s)", r, strings.Join(tomcat, ", "))).With("", "", ev)
	}
	return probes.PassResult(id, fmt.Sprintf("receiver range %s is free", r)).With("", "", ev)
}
