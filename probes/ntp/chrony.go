package ntp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/facebook/time/ntp/chrony"

	"github.com/clusterdoctor/clusterdoctor/netcfg/chronyconf"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// chronyConfigs are where distributions put chrony.conf: Debian/Ubuntu, then RHEL family.
var chronyConfigs = []string{"/etc/chrony/chrony.conf", "/etc/chrony.conf"}

// chronyState is what chronyd's tracking and sources reports said.
type chronyState struct {
	Via       string  // socket path or udp address asked
	Leap      uint16  // 0 normal, 1/2 leap second pending, 3 not synchronised
	Stratum   uint16  // 0 when unsynchronised
	RefID     string  // reference as chronyc prints it
	Offset    float64 // seconds the system clock is off ("System time" in chronyc tracking)
	Sources   int     // configured sources
	Reachable int     // sources whose reachability register is non-zero
}

// chronyTracking asks chronyd for tracking and sources, the same requests as
// `chronyc tracking` and `chronyc sources`.
func chronyTracking(ctx context.Context, env *probes.Env) (*chronyState, error) {
	cmd, confPath, err := chronyCommand(env)
	if err != nil {
		return nil, err
	}
	conn, via, closeConn, err := dialChrony(env, cmd)
	if err != nil {
		return nil, fmt.Errorf("chronyd (%s): %w", confPath, err)
	}
	defer closeConn()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c := &chrony.Client{Connection: conn, Sequence: rand.Uint32()}
	resp, err := c.Communicate(chrony.NewTrackingPacket())
	if err != nil {
		return nil, fmt.Errorf("chronyd at %s: tracking: %w", via, err)
	}
	tr, ok := resp.(*chrony.ReplyTracking)
	if !ok {
		return nil, fmt.Errorf("chronyd at %s: unexpected reply %T to tracking", via, resp)
	}
	st := &chronyState{Via: via, Leap: tr.LeapStatus, Stratum: tr.Stratum,
		RefID: chrony.RefidToString(tr.RefID), Offset: tr.CurrentCorrection}
	if resp, err := c.Communicate(chrony.NewSourcesPacket()); err == nil {
		if srcs, ok := resp.(*chrony.ReplySources); ok {
			st.Sources = srcs.NSources
			for i := 0; i < srcs.NSources && i < 64; i++ {
				r, err := c.Communicate(chrony.NewSourceDataPacket(int32(i)))
				if sd, ok := r.(*chrony.ReplySourceData); err == nil && ok && sd.Reachability != 0 {
					st.Reachable++
				}
			}
		}
	}
	return st, nil
}

// chronyCommand finds chronyd's command socket and port from chrony.conf under the root,
// following confdir and include the way chronyd does.
func chronyCommand(env *probes.Env) (chronyconf.Command, string, error) {
	for _, p := range chronyConfigs {
		ds, err := readChronyConf(env, p, 0)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return chronyconf.Command{}, p, err
		}
		cmd, err := chronyconf.CommandChannel(ds)
		if err != nil {
			return cmd, p, fmt.Errorf("%s: %w", env.Path(p), err)
		}
		return cmd, p, nil
	}
	return chronyconf.Command{}, "", fmt.Errorf("chrony is not configured (no %s): %w", chronyConfigs[0], os.ErrNotExist)
}

// readChronyConf reads one file and, in place, the files its include and confdir
// directives name. depth stops include loops.
func readChronyConf(env *probes.Env, path string, depth int) ([]chronyconf.Directive, error) {
	if depth > 4 {
		return nil, fmt.Errorf("%s: includes nested too deeply", path)
	}
	b, err := env.ReadFile(path, chronyconf.MaxSize)
	if err != nil {
		return nil, err
	}
	ds, err := chronyconf.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", env.Path(path), err)
	}
	var out []chronyconf.Directive
	for _, d := range ds {
		out = append(out, d)
		var files []string
		switch d.Keyword {
		case "include":
			for _, g := range d.Args {
				m, _ := filepath.Glob(env.Path(g))
				files = append(files, unroot(env, m)...)
			}
		case "confdir":
			for _, dir := range d.Args {
				m, _ := filepath.Glob(filepath.Join(env.Path(dir), "*.conf"))
				files = append(files, unroot(env, m)...)
			}
		}
		sort.Strings(files)
		for _, f := range files {
			sub, err := readChronyConf(env, f, depth+1)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
			out = append(out, sub...)
		}
	}
	return out, nil
}

func unroot(env *probes.Env, paths []string) []string {
	if env.LiveRoot() {
		return paths
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		rel, _ := filepath.Rel(env.Root, p)
		out[i] = "/" + rel
	}
	return out
}

// dialChrony opens the Unix socket the way chronyc does (a client socket bound beside the
// server's, mode 0666 so chronyd, which may run unprivileged, can answer), else the UDP
// command port on localhost when the root is live. close removes the client socket.
func dialChrony(env *probes.Env, cmd chronyconf.Command) (conn net.Conn, via string, close func(), err error) {
	var lastErr error
	for _, sock := range candidates(env, cmd.Socket) {
		if _, err := os.Stat(sock); err != nil {
			lastErr = fmt.Errorf("no command socket %s (chronyd not running?)", sock)
			continue
		}
		local := filepath.Join(filepath.Dir(sock), fmt.Sprintf("clusterdoctor.%d.%d.sock", os.Getpid(), rand.Uint32()))
		c, err := net.DialUnix("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"}, &net.UnixAddr{Name: sock, Net: "unixgram"})
		if err != nil {
			lastErr = fmt.Errorf("connect to %s: %w", sock, err)
			continue
		}
		os.Chmod(local, 0o666)
		return c, sock, func() { c.Close(); os.Remove(local) }, nil
	}
	if cmd.Port != 0 && env.LiveRoot() {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cmd.Port))
		c, err := net.Dial("udp", addr)
		if err == nil {
			return c, "udp " + addr, func() { c.Close() }, nil
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = errors.New("no command socket configured")
	}
	return nil, "", nil, lastErr
}

func candidates(env *probes.Env, sock string) []string {
	if env.LiveRoot() {
		return []string{sock}
	}
	return []string{env.Path(sock), sock}
}
