package tomcat

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Options say where to look for Tomcat. The command fills them from flags and from its
// own environment; probes never read either.
type Options struct {
	// Base is --tomcat (a CATALINA_BASE); Home is --tomcat-home.
	Base, Home string
	// EnvBase and EnvHome are the caller's $CATALINA_BASE and $CATALINA_HOME.
	EnvBase, EnvHome string
	// JavaOpts and CatalinaOpts are the caller's $JAVA_OPTS and $CATALINA_OPTS, which
	// catalina.sh started from that shell would use.
	JavaOpts, CatalinaOpts string
}

// Found is every Tomcat instance on the host, and what was looked at to find them.
type Found struct {
	Instances []*Instance
	Looked    []string
	// Nodes are the JVMs in other network namespaces (containers, lab hosts), found from
	// the host's own namespace: each is a node of its own, checked in its namespace. One
	// per namespace: the JVMs that share it are that node's instances.
	Nodes []Node
	// Elsewhere counts the JVMs in other network namespaces, found from a namespace that
	// is not the host's own (a container's): another host's business, never this one's.
	Elsewhere int
}

// Node is a Tomcat JVM in another network namespace than this process's.
type Node struct {
	// PID is the JVM's process (the first found in the namespace); NetNS the namespace.
	PID   int
	NetNS string
	// Base is its CATALINA_BASE as the JVM names it, inside its own mount namespace.
	Base string
}

// Primary is the instance whose cluster settings the run takes: the first one with a
// <Cluster> (running instances come first), else the first.
func (f *Found) Primary() *Instance {
	if f == nil || len(f.Instances) == 0 {
		return nil
	}
	for _, in := range f.Instances {
		if c, _ := in.Cluster(); c != nil {
			return in
		}
	}
	return f.Instances[0]
}

// PIDs lists the running instances' processes.
func (f *Found) PIDs() []int {
	if f == nil {
		return nil
	}
	var out []int
	for _, in := range f.Instances {
		if in.PID > 0 {
			out = append(out, in.PID)
		}
	}
	return out
}

// usualBases are where Tomcat is installed by hand and by packages.
var usualBases = []string{"/usr/local/tomcat*", "/opt/tomcat*", "/opt/apache-tomcat*", "/var/lib/tomcat*", "/usr/share/tomcat*"}

// bootstrapClass is the main class of every Tomcat JVM.
const bootstrapClass = "org.apache.catalina.startup.Bootstrap"

// maxCmdline bounds what is read of a process's command line.
const maxCmdline = 256 << 10

// Discover finds the Tomcat instances: with --tomcat only that one; else the running
// JVMs (their -Dcatalina.base and -Dcatalina.home), then $CATALINA_BASE, then the usual
// install places, all under the Env's root. An explicit --tomcat that is not a
// CATALINA_BASE is a usage error.
func Discover(ctx context.Context, env *probes.Env, opt Options) (*Found, error) {
	f := &Found{}
	seen := map[string]*Instance{}
	add := func(in *Instance) {
		key := realPath(env, filepath.Join(in.Base, "conf"))
		if _, dup := seen[key]; dup {
			return // running instances come first and say more
		}
		seen[key] = in
		f.Instances = append(f.Instances, in)
	}
	if opt.Base != "" {
		if err := isBase(env, opt.Base); err != nil {
			return nil, &probes.UsageError{Flag: "--tomcat", Value: opt.Base, Problem: err.Error()}
		}
		if opt.Home != "" {
			if err := isHome(env, opt.Home); err != nil {
				return nil, &probes.UsageError{Flag: "--tomcat-home", Value: opt.Home, Problem: err.Error()}
			}
		}
		in := &Instance{Base: filepath.Clean(opt.Base), Home: opt.Home, How: "--tomcat"}
		local, _ := partition(env, running(ctx, env))
		for _, r := range local { // the same base running here: take its PID and options
			if realPath(env, r.Base) == realPath(env, in.Base) {
				in.PID, in.User, in.Args, in.NetNS, in.How = r.PID, r.User, r.Args, r.NetNS, "--tomcat, "+r.How
				if in.Home == "" {
					in.Home = r.Home
				}
			}
		}
		f.Looked = []string{"--tomcat " + opt.Base}
		add(in)
	} else {
		f.Looked = append(f.Looked, "running JVMs ("+env.Path("/proc")+")")
		local, others := partition(env, running(ctx, env))
		for _, in := range local {
			add(in)
		}
		if env.NetNS.InInitial() {
			f.Nodes = nodesOf(others)
		} else if f.Elsewhere = len(others); f.Elsewhere > 0 {
			f.Looked = append(f.Looked, fmt.Sprintf("not %d JVMs of other network namespaces (other hosts' business)", f.Elsewhere))
		}
		if opt.EnvBase != "" {
			f.Looked = append(f.Looked, "$CATALINA_BASE="+opt.EnvBase)
			if isBase(env, opt.EnvBase) == nil {
				add(&Instance{Base: filepath.Clean(opt.EnvBase), Home: opt.EnvHome, How: "$CATALINA_BASE"})
			}
		}
		f.Looked = append(f.Looked, strings.Join(usualBases, " "))
		for _, in := range installed(env) {
			add(in)
		}
	}
	for _, in := range f.Instances {
		if in.Home == "" {
			in.Home = findHome(env, in.Base, opt)
		}
		in.load(env, opt)
	}
	sortInstances(f.Instances)
	return f, nil
}

// isBase tells whether dir is a CATALINA_BASE: it has conf/server.xml.
func isBase(env *probes.Env, dir string) error {
	st, err := os.Stat(env.HostPath(dir))
	switch {
	case err != nil:
		return fmt.Errorf("no such directory")
	case !st.IsDir():
		return fmt.Errorf("not a directory")
	}
	if _, err := os.Stat(env.HostPath(filepath.Join(dir, "conf", "server.xml"))); err != nil {
		return fmt.Errorf("not a CATALINA_BASE: no conf/server.xml in it")
	}
	return nil
}

// isHome tells whether dir is a CATALINA_HOME: it has lib/catalina.jar.
func isHome(env *probes.Env, dir string) error {
	if _, err := os.Stat(env.HostPath(filepath.Join(dir, "lib", "catalina.jar"))); err != nil {
		return fmt.Errorf("not a CATALINA_HOME: no lib/catalina.jar in it")
	}
	return nil
}

// findHome pairs a CATALINA_BASE with its CATALINA_HOME: --tomcat-home; the base itself
// (a tarball install); Debian's /var/lib/tomcatN with /usr/share/tomcatN; the caller's
// $CATALINA_HOME; else the one home installed in the usual places.
func findHome(env *probes.Env, base string, opt Options) string {
	cands := []string{opt.Home, base}
	if strings.HasPrefix(base, "/var/lib/tomcat") {
		cands = append(cands, "/usr/share/"+filepath.Base(base))
	}
	cands = append(cands, opt.EnvHome)
	for _, c := range cands {
		if c != "" && isHome(env, c) == nil {
			return filepath.Clean(c)
		}
	}
	var homes []string
	for _, pat := range usualBases {
		matches, _ := filepath.Glob(env.Path(pat))
		for _, m := range matches {
			p := hostPathOf(env, m)
			if isHome(env, p) == nil {
				homes = append(homes, p)
			}
		}
	}
	if len(homes) == 1 {
		return homes[0]
	}
	return ""
}

// installed finds CATALINA_BASEs in the usual places. A packaged conf directory
// (/etc/tomcat10) is found through the base that links to it (/var/lib/tomcat10/conf).
func installed(env *probes.Env) []*Instance {
	var out []*Instance
	for _, pat := range usualBases {
		matches, _ := filepath.Glob(env.Path(pat))
		sort.Strings(matches)
		for _, m := range matches {
			if p := hostPathOf(env, m); isBase(env, p) == nil {
				out = append(out, &Instance{Base: p, How: "installed in " + p})
			}
		}
	}
	return out
}

// hostPathOf turns a path under the Env's root back into the host path.
func hostPathOf(env *probes.Env, p string) string {
	if env.LiveRoot() {
		return p
	}
	rel, err := filepath.Rel(env.Root, p)
	if err != nil {
		return p
	}
	return "/" + rel
}

// realPath resolves links inside the Env's root, to tell two names of one directory apart
// from two directories.
func realPath(env *probes.Env, p string) string {
	r, err := filepath.EvalSymlinks(env.HostPath(p))
	if err != nil {
		return env.HostPath(p)
	}
	return r
}

// partition sorts running JVMs into this network namespace's and the others. A JVM whose
// namespace cannot be read (another user's, without root) is taken for this host's.
func partition(env *probes.Env, all []*Instance) (local, others []*Instance) {
	for _, in := range all {
		if in.NetNS == "" || env.NetNS.Self == "" || in.NetNS == env.NetNS.Self {
			local = append(local, in)
		} else {
			others = append(others, in)
		}
	}
	return local, others
}

// nodesOf groups the JVMs of other namespaces by namespace, in PID order.
func nodesOf(others []*Instance) []Node {
	sort.Slice(others, func(i, j int) bool { return others[i].PID < others[j].PID })
	var out []Node
	seen := map[string]bool{}
	for _, in := range others {
		if !seen[in.NetNS] {
			seen[in.NetNS] = true
			out = append(out, Node{PID: in.PID, NetNS: in.NetNS, Base: in.Base})
		}
	}
	return out
}

// running lists the Tomcat JVMs: processes whose command line runs Bootstrap (not its
// "stop" command) with -Dcatalina.base.
func running(ctx context.Context, env *probes.Env) []*Instance {
	procs, err := os.ReadDir(env.Path("/proc"))
	if err != nil {
		return nil
	}
	var out []*Instance
	for _, d := range procs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || ctx.Err() != nil {
			continue
		}
		b, err := env.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid), maxCmdline)
		if err != nil || !bytes.Contains(b, []byte(bootstrapClass)) {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if args[len(args)-1] == "stop" {
			continue
		}
		in := &Instance{PID: pid, Args: args, How: fmt.Sprintf("running (pid %d)", pid)}
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "-Dcatalina.base="); ok {
				in.Base = filepath.Clean(v)
			}
			if v, ok := strings.CutPrefix(a, "-Dcatalina.home="); ok {
				in.Home = filepath.Clean(v)
			}
		}
		if in.Base == "" {
			in.Base = in.Home // catalina.sh sets both; a hand-made command line may not
		}
		if in.Base == "" {
			continue
		}
		in.User = processUser(env, pid)
		in.NetNS, _ = os.Readlink(env.Path(fmt.Sprintf("/proc/%d/ns/net", pid)))
		out = append(out, in)
	}
	return out
}

// processUser names the real user of a process, from /etc/passwd when it can.
func processUser(env *probes.Env, pid int) string {
	b, err := env.ReadFile(fmt.Sprintf("/proc/%d/status", pid), 64<<10)
	if err != nil {
		return ""
	}
	uid := ""
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				uid = f[0]
			}
		}
	}
	if uid == "" {
		return ""
	}
	pw, err := env.ReadFile("/etc/passwd", 4<<20)
	if err == nil {
		sc := bufio.NewScanner(bytes.NewReader(pw))
		for sc.Scan() {
			f := strings.Split(sc.Text(), ":")
			if len(f) > 2 && f[2] == uid {
				return f[0]
			}
		}
	}
	return "uid " + uid
}
