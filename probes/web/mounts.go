package web

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// mount is one JkMount (or a JkMountFile line): a path sent to a worker.
type mount struct {
	directive, path, worker, where string
	// vhost is the <VirtualHost> it is in; nil for the main server's.
	vhost *VHost
}

// mounts are the JkMount directives and the lines of every JkMountFile. A JkMount httpd
// would refuse (it takes one or two arguments) is a failure naming it.
func mounts(env *probes.Env, conf *HTTPDConfig, fails *[]string) []mount {
	var out []mount
	for _, d := range conf.All("JkMount") {
		switch len(d.Args) {
		case 2:
			out = append(out, mount{"JkMount", d.Args[0], d.Args[1], d.Where(), d.VHost})
		case 1: // inside <Location>, the path is the section's; outside, httpd refuses it
			loc := locationOf(d.Context)
			if loc == "" {
				*fails = append(*fails, fmt.Sprintf("JkMount at %s has one argument (%s) outside a <Location>: httpd refuses to start (\"JkMount needs a path when not defined in a location\")",
					d.Where(), d.Args[0]))
				continue
			}
			out = append(out, mount{"JkMount", loc, d.Args[0], d.Where(), d.VHost})
		default:
			*fails = append(*fails, fmt.Sprintf("JkMount at %s has %d arguments (%s): httpd refuses to start (\"JkMount takes 1-2 arguments\"; a comment must be on a line of its own)",
				d.Where(), len(d.Args), strings.Join(d.Args, " ")))
		}
	}
	for _, d := range conf.All("JkMountFile") {
		if len(d.Args) != 1 {
			continue
		}
		file := conf.Abs(d.Args[0])
		b, err := env.ReadFile(file, 1<<20)
		if err != nil {
			*fails = append(*fails, fmt.Sprintf("JkMountFile %s (%s) cannot be read: %v", file, d.Where(), err))
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			line, _, _ = strings.Cut(line, "#")
			path, worker, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok {
				continue
			}
			worker = strings.TrimSpace(worker)
			if strings.HasPrefix(worker, "!") || worker == "" {
				continue // an exclusion (!/static/*=lb)
			}
			out = append(out, mount{"JkMountFile", strings.TrimSpace(strings.TrimPrefix(path, "!")), worker, fmt.Sprintf("%s:%d", file, i+1), d.VHost})
		}
	}
	return out
}

// mountServers are the servers mod_jk applies a mount in (nil for the main server): its
// virtual host; for one of the main server, the main server and the virtual hosts mod_jk
// copies the main server's mounts into (JkMountCopy On in the virtual host, or
// JkMountCopy All in the main server; a virtual host's own setting wins).
func (c *HTTPDConfig) mountServers(m mount) []*VHost {
	if m.vhost != nil {
		return []*VHost{m.vhost}
	}
	servers := []*VHost{nil}
	all, _ := c.setting("JkMountCopy", nil)
	for _, v := range c.VHosts {
		copied, set := c.setting("JkMountCopy", v)
		if copied == "on" || copied == "all" || !set && all == "all" {
			servers = append(servers, v)
		}
	}
	return servers
}

// mountPorts are the ports on which mod_jk applies a mount.
func (c *HTTPDConfig) mountPorts(m mount) []int { return c.portsOf(c.mountServers(m)) }

// lostMount says, by port, why a main server's mount does not apply there: a virtual
// host takes every request on the port, mod_jk does not copy the mount into it, and none
// of the virtual host's own mounts (among all) covers its path. A virtual host with its
// own identical JkMount is the common way to write it, and mod_jk serves it there.
func (c *HTTPDConfig) lostMount(m mount, all []mount) map[int]string {
	if m.vhost != nil {
		return nil
	}
	applied := c.mountPorts(m)
	out := map[int]string{}
	for _, pc := range c.catchers() {
		if !slices.Contains(applied, pc.port) && !ownMount(all, pc.vhost, m.path) {
			out[pc.port] = fmt.Sprintf("%s %s %s (%s) is the main server's, and <VirtualHost %s> (%s) takes every request on port %d: mod_jk applies the main server's mounts in a virtual host only with JkMountCopy On inside it (or JkMountCopy All in the main server), so httpd serves %s there itself",
				m.directive, m.path, m.worker, m.where, strings.Join(pc.vhost.Addrs, " "), pc.vhost.Where, pc.port, m.path)
		}
	}
	return out
}

// ownMount reports whether one of virtual host v's own mounts covers path (a mount
// pattern itself: /app/* is covered by /app/* and by /*).
func ownMount(all []mount, v *VHost, path string) bool {
	return slices.ContainsFunc(all, func(o mount) bool { return o.vhost == v && Serves(o.path, path) })
}
