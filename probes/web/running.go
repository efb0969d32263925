package web

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// A web server is read as the running process reads its configuration: the files its
// command line names (httpd -d, -f, -D; nginx -p, -c), relative paths resolved against
// the binary's compiled defaults (httpd -V, nginx -V), through the process's own mount
// namespace (/proc/PID/root). Only servers in this network namespace are this host's.
// Without a running server, the distributions' paths are read.

// serverProc is a running httpd or nginx master, as its command line started it.
type serverProc struct {
	kind string // "httpd" or "nginx"
	pid  int
	args []string
}

// maxProcs bounds the processes looked at for web servers.
const maxProcs = 1 << 16

// runningServers lists the httpd, nginx and haproxy processes of this network namespace,
// parents only (httpd's children and nginx's workers repeat their parent), in PID order;
// once per run.
func runningServers(env *probes.Env) []serverProc {
	if len(env.WebConfigs) > 0 {
		return givenServers(env.WebConfigs)
	}
	return probes.Once(env, "web.runningServers", func() []serverProc { return findServers(env) })
}

// givenServers are the configurations the operator named, as if a server had been
// started on each (pid 0: none runs): httpd -d ROOT -f FILE, its ServerRoot the file's
// directory, or the one above a conf/ directory (/etc/apache2, /usr/local/apache2; a
// ServerRoot directive in the file wins, as it does for httpd); nginx -c FILE; haproxy -f.
func givenServers(given []probes.WebConfig) []serverProc {
	var out []serverProc
	for _, g := range given {
		switch g.Kind {
		case "httpd":
			root := filepath.Dir(g.Path)
			if filepath.Base(root) == "conf" {
				root = filepath.Dir(root)
			}
			out = append(out, serverProc{kind: "httpd", args: []string{"httpd", "-d", root, "-f", g.Path}})
		case "nginx":
			out = append(out, serverProc{kind: "nginx", args: []string{"nginx", "-c", g.Path}})
		case "haproxy":
			out = append(out, serverProc{kind: "haproxy", args: []string{"haproxy", "-f", g.Path}})
		}
	}
	return out
}

func findServers(env *probes.Env) []serverProc {
	ents, err := os.ReadDir(env.Path("/proc"))
	if err != nil {
		return nil
	}
	var out []serverProc
	for i, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || i > maxProcs {
			continue
		}
		b, err := env.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid), 64<<10)
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		kind := serverKind(args)
		if kind == "" || !sameNetns(env, pid) {
			continue
		}
		if title, ok := strings.CutPrefix(args[0], "nginx: master process "); ok {
			args = strings.Fields(title) // nginx rewrites its argv into one title
		}
		out = append(out, serverProc{kind: kind, pid: pid, args: args})
	}
	// httpd's children have their parent's command line: keep the parents.
	pids := map[int]bool{}
	for _, p := range out {
		pids[p.pid] = true
	}
	var parents []serverProc
	for _, p := range out {
		if !pids[env.ParentPID(p.pid)] {
			parents = append(parents, p)
		}
	}
	sort.Slice(parents, func(i, j int) bool { return parents[i].pid < parents[j].pid })
	return parents
}

// serverKind tells httpd (apache2, httpd, or a binary named so by its vendor) and nginx's
// master from their command lines; "" for anything else.
func serverKind(args []string) string {
	switch {
	case strings.HasPrefix(args[0], "nginx: master process "):
		return "nginx"
	case strings.HasPrefix(args[0], "nginx:"): // workers, cache managers
		return ""
	}
	switch filepath.Base(args[0]) {
	case "apache2", "httpd", "httpd.worker", "httpd.event":
		return "httpd"
	case "nginx":
		return "nginx"
	case "haproxy":
		return "haproxy"
	}
	return ""
}

// sameNetns reports whether pid runs in this process's network namespace (yes when it
// cannot tell).
func sameNetns(env *probes.Env, pid int) bool {
	ns, err := os.Readlink(env.Path(fmt.Sprintf("/proc/%d/ns/net", pid)))
	return err != nil || env.NetNS.Self == "" || ns == env.NetNS.Self
}

// viewOf is the Env through which a process's files are read: this one where the
// process shares our mount namespace (or its root cannot be opened), else one rooted at
// /proc/PID/root, which shows its own.
func viewOf(env *probes.Env, pid int) *probes.Env {
	if !env.LiveRoot() {
		return env
	}
	ours, err1 := os.Readlink("/proc/self/ns/mnt")
	theirs, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	root := fmt.Sprintf("/proc/%d/root", pid)
	if err1 != nil || err2 != nil || ours == theirs {
		return env
	}
	if _, err := os.Stat(root + "/"); err != nil {
		return env
	}
	v := *env
	v.Root = root
	return &v
}

// compiledTimeout bounds `BINARY -V`.
const compiledTimeout = 2 * time.Second

// compiledDefaults runs the process's own binary with -V and returns what it prints
// (httpd: -D NAME="value" lines; nginx: configure arguments on stderr), once per run.
// Equivalent to: /proc/PID/exe -V.
func compiledDefaults(env *probes.Env, pid int) string {
	return probes.Once(env, fmt.Sprintf("web.compiledDefaults.%d", pid), func() string {
		ctx, cancel := context.WithTimeout(context.Background(), compiledTimeout)
		defer cancel()
		out, _ := exec.CommandContext(ctx, fmt.Sprintf("/proc/%d/exe", pid), "-V").CombinedOutput()
		return string(out)
	})
}

// httpdCompiled reads HTTPD_ROOT and SERVER_CONFIG_FILE from httpd -V.
func httpdCompiled(v string) (root, file string) {
	sc := bufio.NewScanner(strings.NewReader(v))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if val, ok := strings.CutPrefix(line, `-D HTTPD_ROOT=`); ok {
			root = strings.Trim(val, `"`)
		}
		if val, ok := strings.CutPrefix(line, `-D SERVER_CONFIG_FILE=`); ok {
			file = strings.Trim(val, `"`)
		}
	}
	return root, file
}

// nginxCompiled reads --prefix and --conf-path from nginx -V's configure arguments.
func nginxCompiled(v string) (prefix, conf string) {
	for _, f := range strings.Fields(v) {
		if val, ok := strings.CutPrefix(f, "--prefix="); ok {
			prefix = val
		}
		if val, ok := strings.CutPrefix(f, "--conf-path="); ok {
			conf = val
		}
	}
	return prefix, conf
}

// options reads the values of the one-letter options in letters from a command line,
// written "-x VALUE" or "-xVALUE", in order (httpd's -d, -f, -D; nginx's -p, -c;
// haproxy's -f). Other options are passed over.
func options(args []string, letters string) map[byte][]string {
	out := map[byte][]string{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || !strings.ContainsRune(letters, rune(a[1])) {
			continue
		}
		val := a[2:]
		if val == "" {
			if i+1 >= len(args) {
				continue
			}
			i++
			val = args[i]
		}
		out[a[1]] = append(out[a[1]], val)
	}
	return out
}

// last is the value given last of an option ("" for none): httpd and nginx take the last.
func last(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[len(vals)-1]
}

// httpdMain resolves a running httpd's ServerRoot and main file as httpd does: -d, else
// the compiled HTTPD_ROOT; -f, else the compiled SERVER_CONFIG_FILE; a relative file is
// relative to the ServerRoot.
func httpdMain(env *probes.Env, p serverProc) (root, file string, defines []string) {
	opts := options(p.args, "dfD")
	root, file, defines = last(opts['d']), last(opts['f']), opts['D']
	if root == "" || file == "" {
		croot, cfile := httpdCompiled(compiledDefaults(env, p.pid))
		if root == "" {
			root = croot
		}
		if file == "" {
			file = cfile
		}
	}
	if root == "" {
		root = "/"
	}
	if file == "" {
		return filepath.Clean(root), "", defines // no -f, and the binary did not say
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	return filepath.Clean(root), filepath.Clean(file), defines
}

// nginxMainOf resolves a running nginx's main file as nginx does: -c, else the compiled
// --conf-path; a relative one is relative to -p, else the compiled --prefix.
func nginxMainOf(env *probes.Env, p serverProc) string {
	opts := options(p.args, "pc")
	prefix, conf := last(opts['p']), last(opts['c'])
	if conf == "" || !filepath.IsAbs(conf) && prefix == "" {
		cprefix, cconf := nginxCompiled(compiledDefaults(env, p.pid))
		if conf == "" {
			conf = cconf
		}
		if prefix == "" {
			prefix = cprefix
		}
	}
	if conf == "" {
		return ""
	}
	if !filepath.IsAbs(conf) {
		conf = filepath.Join(prefix, conf)
	}
	return filepath.Clean(conf)
}

// nginxGlobal is the value of nginx's -g: directives for the main context. A master's
// command line is read from its process title, split at spaces, so the value runs up to
// the next option of nginx's.
func nginxGlobal(args []string) string {
	var out []string
	in := false
	for _, a := range args[1:] {
		switch {
		case a == "-g":
			in = true
		case strings.HasPrefix(a, "-g"):
			in, out = true, append(out, a[2:])
		case len(a) == 2 && a[0] == '-' && strings.ContainsRune("cpeqstTvV?", rune(a[1])):
			in = false
		case in:
			out = append(out, a)
		}
	}
	return strings.Join(out, " ")
}
