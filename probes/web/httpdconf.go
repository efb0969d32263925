// Package web checks the web tier in front of the Tomcats: the balancer's configuration as
// the web server reads it, and each member reached the way the balancer reaches it.
package web

import (
	"bytes"
	"fmt"
	"path/filepath"
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
}

// LoadHTTPD finds and reads httpd's configuration under the Env's root; nil when no
// httpd is installed.
func LoadHTTPD(env *probes.Env) *HTTPDConfig {
	for _, m := range httpdMains {
		if _, err := env.ReadFile(m.file, confLimit); err != nil {
			continue
		}
		c := &HTTPDConfig{Main: m.file, ServerRoot: m.root}
		seen := map[string]bool{}
		c.read(env, m.file, 0, seen, nil)
		return c
	}
	return nil
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
	f, err := httpd.Parse(bytes.NewReader(b))
	if err != nil {
		c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", file, err))
		return
	}
	type section struct {
		httpd.Section
		vh *VHost
	}
	var vhosts []section
	for _, s := range f.Sections {
		if strings.EqualFold(s.Name, "VirtualHost") {
			v := &VHost{Addrs: s.Args, Where: fmt.Sprintf("%s:%d", file, s.Line)}
			vhosts = append(vhosts, section{s, v})
			c.VHosts = append(c.VHosts, v)
		}
	}
	for _, d := range f.Directives {
		in := vh
		for _, s := range vhosts {
			if s.Holds(d) {
				in = s.vh
			}
		}
		switch {
		case d.Is("ServerRoot") && len(d.Args) == 1:
			c.ServerRoot = d.Args[0]
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
