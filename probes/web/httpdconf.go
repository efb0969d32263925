// Package web checks the web tier in front of the Tomcats: the balancer's configuration as
// the web server reads it, and each member reached the way the balancer reaches it.
package web

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/httpd"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// httpdMains are where the distributions keep httpd's main file, with its ServerRoot.
var httpdMains = []struct{ file, root string }{
	{"/etc/apache2/apache2.conf", "/etc/apache2"}, // Debian, Ubuntu
	{"/etc/httpd/conf/httpd.conf", "/etc/httpd"},  // RHEL, Rocky, CentOS
}

// Bounds on what one configuration may pull in.
const (
	maxConfFiles = 512
	maxDepth     = 16
	confLimit    = 4 << 20
)

// Directive is an httpd directive with the file it is in and the server it configures.
type Directive struct {
	httpd.Directive
	File string
	// VHost is the <VirtualHost> it is in; nil for the main server.
	VHost *VHost
}

// Where is FILE:LINE.
func (d Directive) Where() string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// HTTPDConfig is httpd's configuration with its includes followed, in the order httpd
// reads it.
type HTTPDConfig struct {
	Main, ServerRoot string
	Directives       []Directive
	// VHosts are the <VirtualHost> sections, in the order httpd reads them.
	VHosts []*VHost
	// Problems are files that could not be read or parsed, with where.
	Problems []string
	// PID is the running httpd whose command line named Main (0: the distribution's
	// file, no httpd running).
	PID int
	// loaded are the modules loaded so far as httpd reads (moduleName), for <IfModule>.
	loaded map[string]bool
	// defined are the parameters <IfDefine> tests (-D and Define so far); nil when no
	// running httpd says, and every <IfDefine> is then read as holding.
	defined map[string]bool
	// vars are the variables Define NAME VALUE has set so far; environ is httpd's
	// environment (httpdEnviron). ${NAME} is expanded from them, in that order.
	vars, environ map[string]string
	// env reads the files as the httpd process sees them (its mount namespace).
	env *probes.Env
}

// Label names the configuration in findings: its main file, and the httpd that reads it.
func (c *HTTPDConfig) Label() string {
	if c.PID > 0 {
		return fmt.Sprintf("%s (httpd pid %d)", c.Main, c.PID)
	}
	return c.Main
}

// HTTPDs reads the configuration of every httpd running in this network namespace as
// that process reads it (see runningServers); with none running, the distribution's.
func HTTPDs(env *probes.Env) []*HTTPDConfig {
	var out []*HTTPDConfig
	seen := map[string]bool{}
	for _, p := range runningServers(env) {
		if p.kind != "httpd" {
			continue
		}
		root, file, defines := httpdMain(env, p)
		opts := options(p.args, "Cc") // directives before and after the main file
		key := fmt.Sprint(root, "\x00", file, "\x00", defines, "\x00", opts)
		if file == "" || seen[key] {
			continue
		}
		seen[key] = true
		// as httpd started without -D has none defined (a file named by --httpd-conf too)
		c := loadHTTPDWith(viewOf(env, p.pid), file, root, append([]string{}, defines...), opts['C'], opts['c'], httpdEnviron(env, p.pid, root))
		c.PID = p.pid
		out = append(out, c)
	}
	if len(out) == 0 && len(env.WebConfigs) == 0 {
		if c := LoadHTTPD(env); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// LoadHTTPD reads httpd's configuration at the distributions' paths under the Env's
// root; nil when no httpd is installed.
func LoadHTTPD(env *probes.Env) *HTTPDConfig {
	for _, m := range httpdMains {
		if _, err := env.ReadFile(m.file, confLimit); err == nil {
			return loadHTTPD(env, m.file, m.root, nil)
		}
	}
	return nil
}

// loadHTTPD reads main and what it includes, ServerRoot root, as an httpd started with
// the -D parameters defines reads it (defines nil: not known).
func loadHTTPD(env *probes.Env, main, root string, defines []string) *HTTPDConfig {
	return loadHTTPDWith(env, main, root, defines, nil, nil, httpdEnviron(env, 0, root))
}

// loadHTTPDWith reads main as loadHTTPD does, with the directives of httpd's -C before it
// and of -c after it, as httpd takes them, and ${NAME} expanded from environ where no
// Define sets it.
func loadHTTPDWith(env *probes.Env, main, root string, defines, before, after []string, environ map[string]string) *HTTPDConfig {
	c := &HTTPDConfig{Main: main, ServerRoot: root, loaded: map[string]bool{}, env: env, vars: map[string]string{}, environ: environ}
	for _, name := range compiledIn {
		c.loaded[name] = true
	}
	if defines != nil {
		c.defined = map[string]bool{}
		for _, d := range defines {
			c.defined[d] = true
		}
	}
	seen := map[string]bool{}
	if len(before) > 0 {
		c.readText(env, "-C", []byte(strings.Join(before, "\n")), 0, seen, nil)
	}
	c.read(env, main, 0, seen, nil)
	if len(after) > 0 {
		c.readText(env, "-c", []byte(strings.Join(after, "\n")), 0, seen, nil)
	}
	return c
}

// read reads one file and what it includes; vh is the <VirtualHost> an Include of it
// is in (an included file's directives belong to it).
func (c *HTTPDConfig) read(env *probes.Env, file string, depth int, seen map[string]bool, vh *VHost) {
	if depth > maxDepth || len(seen) >= maxConfFiles || seen[file] {
		if !seen[file] {
			c.Problems = append(c.Problems, fmt.Sprintf("%s: not read, the includes go deeper than %d files", file, maxConfFiles))
		}
		return
	}
	seen[file] = true
	b, err := env.ReadFile(file, confLimit)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", file, err))
		return
	}
	c.readText(env, file, b, depth, seen, vh)
}

// readText reads the directives of one file's text (or of httpd's -C and -c, named so).
func (c *HTTPDConfig) readText(env *probes.Env, file string, b []byte, depth int, seen map[string]bool, vh *VHost) {
	f, err := httpd.Parse(bytes.NewReader(b))
	if err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", file, err))
		return
	}
	// A <VirtualHost> counts from where httpd reads it, and only where the <IfModule>
	// sections around it hold then (a LoadModule further down comes too late for them).
	type section struct {
		httpd.Section
		vh      *VHost
		decided bool
	}
	var vhosts []*section
	for _, s := range f.Sections {
		if strings.EqualFold(s.Name, "VirtualHost") {
			vhosts = append(vhosts, &section{Section: s, vh: &VHost{Addrs: s.Args, Where: fmt.Sprintf("%s:%d", file, s.Line)}})
		}
	}
	decide := func(upTo int) {
		for _, s := range vhosts {
			if !s.decided && s.Line < upTo {
				s.decided = true
				if c.holds(s.Context) {
					for i, a := range s.vh.Addrs {
						s.vh.Addrs[i] = c.expand(a)
					}
					c.VHosts = append(c.VHosts, s.vh)
				} else {
					s.vh = nil
				}
			}
		}
	}
	for _, d := range f.Directives {
		decide(d.Line)
		if !c.holds(d.Context) {
			continue // httpd skips what an <IfModule> of a module it has not loaded holds
		}
		if slices.ContainsFunc(d.Args, func(a string) bool { return strings.Contains(a, "${") }) {
			args := make([]string, len(d.Args))
			for i, a := range d.Args {
				args[i] = c.expand(a)
			}
			d.Args = args
		}
		in := vh
		for _, s := range vhosts {
			if s.Holds(d) && s.vh != nil {
				in = s.vh
			}
		}
		switch {
		case d.Is("ServerRoot") && len(d.Args) == 1:
			c.ServerRoot = d.Args[0]
		case d.Is("LoadModule") && len(d.Args) > 0:
			c.loaded[moduleName(d.Args[0])] = true
		case (d.Is("Define") || d.Is("UnDefine")) && len(d.Args) > 0:
			c.define(Directive{Directive: d})
		case (d.Is("Include") || d.Is("IncludeOptional")) && len(d.Args) == 1:
			files := c.glob(env, d.Args[0])
			if len(files) == 0 && d.Is("Include") && !strings.ContainsAny(d.Args[0], "*?[") {
				c.Problems = append(c.Problems, fmt.Sprintf("%s:%d: Include %s: no such file (httpd refuses to start)", file, d.Line, d.Args[0]))
			}
			for _, inc := range files {
				c.read(env, inc, depth+1, seen, in)
			}
			continue
		}
		c.Directives = append(c.Directives, Directive{Directive: d, File: file, VHost: in})
	}
	decide(math.MaxInt)
}

// compiledIn are the modules httpd has without LoadModule (`apache2 -l` on Debian 12; RHEL's
// httpd has fewer and loads the others), by moduleName.
var compiledIn = []string{"core", "so", "watchdog", "http_core", "log_config", "logio", "version", "unixd"}

// holds reports whether httpd reads what sections with this context hold: every
// <IfModule [!]MODULE> around them holds for the modules loaded so far, and every
// <IfDefine [!]PARAMETER> for the running httpd's -D parameters and the Defines so far.
func (c *HTTPDConfig) holds(context []string) bool {
	for _, s := range context {
		f := strings.Fields(s)
		if len(f) != 2 {
			continue
		}
		name := strings.Trim(f[1], `"'`)
		negated := strings.HasPrefix(name, "!")
		name = strings.TrimPrefix(name, "!")
		switch {
		case strings.EqualFold(f[0], "IfModule") && c.loaded[moduleName(name)] == negated:
			return false
		case strings.EqualFold(f[0], "IfDefine") && c.defined != nil && c.defined[name] == negated:
			return false
		}
	}
	return true
}

// moduleName is the name <IfModule> and LoadModule share, from either of the forms httpd
// takes: the identifier (jk_module, mpm_event_module) or the source file (mod_jk.c,
// event.c): "jk", "mpm_event".
func moduleName(s string) string {
	s = strings.ToLower(s)
	if file, ok := strings.CutSuffix(s, ".c"); ok {
		switch file {
		case "prefork", "worker", "event":
			return "mpm_" + file
		}
		return strings.TrimPrefix(file, "mod_")
	}
	return strings.TrimSuffix(s, "_module")
}

// glob expands an Include pattern relative to ServerRoot, in httpd's (sorted) order; a
// directory includes every file in it.
func (c *HTTPDConfig) glob(env *probes.Env, pattern string) []string {
	p := c.Abs(pattern)
	matches, _ := filepath.Glob(env.Path(p))
	var out []string
	for _, m := range matches {
		rel := hostPath(env, m)
		if isDir(m) {
			entries, _ := filepath.Glob(filepath.Join(m, "*"))
			for _, e := range entries {
				out = append(out, filepath.Join(rel, filepath.Base(e)))
			}
			continue
		}
		out = append(out, rel)
	}
	sort.Strings(out)
	return out
}

// Abs makes a path relative to ServerRoot absolute, as httpd does.
func (c *HTTPDConfig) Abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.ServerRoot, p)
}

// All returns the directives named name, in order.
func (c *HTTPDConfig) All(name string) []Directive {
	var out []Directive
	for _, d := range c.Directives {
		if d.Is(name) {
			out = append(out, d)
		}
	}
	return out
}

// Last is the directive that wins for a server-wide setting (the last one read).
func (c *HTTPDConfig) Last(name string) (Directive, bool) {
	all := c.All(name)
	if len(all) == 0 {
		return Directive{}, false
	}
	return all[len(all)-1], true
}
