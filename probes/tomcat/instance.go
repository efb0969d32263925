// Package tomcat holds the tomcat.* checks: the Tomcat instances on the host found and
// read the way Tomcat reads itself (server.xml with its ${...} properties, the installed
// jars, the deployed applications, the logs), the cluster settings derived from them, and
// the checks that judge them as the installed version will.
package tomcat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Instance is one Tomcat: a CATALINA_BASE and the CATALINA_HOME it runs from, read as that
// Tomcat reads them. Paths are host paths (under --root they name the image's files).
type Instance struct {
	// Base is CATALINA_BASE; Home is CATALINA_HOME ("" when it could not be found).
	Base, Home string
	// How says how the instance was found: "running (pid 4242)", "--tomcat", ...
	How string
	// PID and User are set when the instance runs.
	PID  int
	User string
	// Args is the running JVM's command line.
	Args []string
	// NetNS is the running JVM's network namespace ("net:[4026531840]"; "" unknown).
	NetNS string

	// Props are the system properties the JVM has (or would have).
	Props *Props
	// ServerFile is the server.xml read; Raw is it as written, Server as Tomcat builds it.
	ServerFile string
	Raw        *conf.Element
	Server     *conf.Server
	// Err is why server.xml could not be read (a *conf.ParseError names file:line).
	Err error
	// Version is the installed release, from VersionFrom; VersionErr why it is unknown.
	Version     Version
	VersionFrom string
	VersionErr  error
	// Notes are what could not be taken into account (setenv.sh lines not evaluated).
	Notes []string
	// StartEnv is the environment a start of this instance gives the JVM, as far as its
	// files say: the service's environment file (/etc/default/tomcatN, which the unit
	// reads as EnvironmentFile) and what bin/setenv.sh exports; from says where.
	StartEnv     map[string]string
	StartEnvFrom map[string]string

	env          *probes.Env
	classesOnce  sync.Once
	classes      *ClassPath
	appsOnce     sync.Once
	apps         []*App
	appsErr      error
	socketsOnce  sync.Once
	sockets      []Listener
	socketsError error
}

// Limits on the files read for an instance.
const (
	maxFile = conf.MaxSize
)

// ClassPath returns the server class path's classes, read once per run.
func (in *Instance) ClassPath() *ClassPath {
	in.classesOnce.Do(func() { in.classes = loadClassPath(in.env, in) })
	return in.classes
}

// Label names the instance in findings: its CATALINA_BASE, and the PID when it runs.
func (in *Instance) Label() string {
	if in.PID > 0 {
		return fmt.Sprintf("%s (pid %d)", in.Base, in.PID)
	}
	return in.Base
}

// Rel shortens a path inside CATALINA_BASE to "conf/server.xml" for messages.
func (in *Instance) Rel(p string) string {
	if r, err := filepath.Rel(in.Base, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// Engines lists the engines of every service.
func (in *Instance) Engines() []*conf.Engine {
	if in.Server == nil {
		return nil
	}
	var out []*conf.Engine
	for _, s := range in.Server.Services {
		if s.Engine != nil {
			out = append(out, s.Engine)
		}
	}
	return out
}

// Cluster returns the cluster Tomcat runs for the instance: the engine's, else the first
// host's, with the engine it is in. Nil when none is configured.
func (in *Instance) Cluster() (*conf.Cluster, *conf.Engine) {
	for _, e := range in.Engines() {
		if c := e.Cluster(); c != nil {
			return c, e
		}
		for _, h := range e.Hosts {
			if c := h.Cluster(); c != nil {
				return c, e
			}
		}
	}
	return nil, nil
}

// Connectors lists every connector of every service.
func (in *Instance) Connectors() []*conf.Connector {
	if in.Server == nil {
		return nil
	}
	var out []*conf.Connector
	for _, s := range in.Server.Services {
		out = append(out, s.Connectors...)
	}
	return out
}

// load reads the instance's properties, server.xml and version.
func (in *Instance) load(env *probes.Env, opt Options) {
	in.env = env
	in.Props = newProps()
	in.Props.Set("catalina.base", in.Base, "catalina.sh")
	if in.Home != "" {
		in.Props.Set("catalina.home", in.Home, "catalina.sh")
	}
	if in.PID > 0 {
		for k, v := range conf.SystemProperties(in.Args) {
			in.Props.Set(k, v, fmt.Sprintf("pid %d command line", in.PID))
		}
	} else {
		in.loadStartOptions(env, opt)
	}
	in.loadCatalinaProperties(env)
	in.loadServer(env)
	if in.Home != "" {
		in.Version, in.VersionFrom, in.VersionErr = readVersion(env, in.Home)
	} else {
		in.VersionErr = errors.New("CATALINA_HOME not found (give it with --tomcat-home)")
	}
}

// loadStartOptions gathers the -D options an instance that is not running would start
// with: JAVA_OPTS and CATALINA_OPTS of the caller's environment and of the service's
// settings file, then bin/setenv.sh, which catalina.sh sources (CATALINA_BASE's, else
// CATALINA_HOME's), all as catalina.sh finally splits them.
func (in *Instance) loadStartOptions(env *probes.Env, opt Options) {
	vars := map[string]string{"CATALINA_BASE": in.Base, "CATALINA_HOME": in.Home,
		"JAVA_OPTS": opt.JavaOpts, "CATALINA_OPTS": opt.CatalinaOpts}
	from := map[string]string{"JAVA_OPTS": "JAVA_OPTS", "CATALINA_OPTS": "CATALINA_OPTS"}
	files := serviceFiles(env, in.Base)
	setenv := filepath.Join(in.Base, "bin", "setenv.sh")
	if _, err := os.Stat(env.HostPath(setenv)); err != nil && in.Home != "" {
		setenv = filepath.Join(in.Home, "bin", "setenv.sh")
	}
	files = append(files, setenv)
	for _, f := range files {
		b, err := readHost(env, f, conf.MaxShellSize)
		if err != nil {
			continue
		}
		sv, err := conf.ParseShell(bytes.NewReader(b), f, vars)
		if err != nil {
			in.Notes = append(in.Notes, err.Error())
			continue
		}
		in.Notes = append(in.Notes, sv.Skipped...)
		service := f != setenv
		for name, v := range sv.Vars {
			if service || sv.Exported[name] {
				if in.StartEnv == nil {
					in.StartEnv, in.StartEnvFrom = map[string]string{}, map[string]string{}
				}
				in.StartEnv[name], in.StartEnvFrom[name] = v.Value, fmt.Sprintf("%s:%d", in.Rel(f), v.Line)
			}
			vars[name] = v.Value
			if name == "JAVA_OPTS" || name == "CATALINA_OPTS" {
				from[name] = fmt.Sprintf("%s:%d", in.Rel(f), v.Line)
			}
		}
	}
	if name := filepath.Base(in.Base); strings.HasPrefix(name, "tomcat") {
		// the unit's Environment= comes before its EnvironmentFile (a service file above)
		uv, uf := unitEnvironment(env, name)
		for k, v := range uv {
			if _, set := in.StartEnv[k]; !set {
				if in.StartEnv == nil {
					in.StartEnv, in.StartEnvFrom = map[string]string{}, map[string]string{}
				}
				in.StartEnv[k], in.StartEnvFrom[k] = v, uf[k]
			}
		}
	}
	for _, name := range []string{"JAVA_OPTS", "CATALINA_OPTS"} {
		args, err := conf.JavaArgs(vars, vars[name])
		if err != nil {
			in.Notes = append(in.Notes, fmt.Sprintf("%s (%s) cannot be split as catalina.sh does: %v", name, from[name], err))
			continue
		}
		for k, v := range conf.SystemProperties(args) {
			in.Props.Set(k, v, from[name])
		}
	}
}

// serviceFiles are the settings files distribution packages source before catalina.sh:
// Debian's /etc/default/tomcatN, RHEL's /etc/sysconfig/tomcat and /etc/tomcat/tomcat.conf.
func serviceFiles(env *probes.Env, base string) []string {
	name := filepath.Base(base) // tomcat10 for /var/lib/tomcat10
	if !strings.HasPrefix(name, "tomcat") {
		return nil
	}
	return []string{"/etc/default/" + name, "/etc/sysconfig/" + name, "/etc/" + name + "/" + name + ".conf"}
}

// loadCatalinaProperties applies conf/catalina.properties (or the file catalina.config
// names). Tomcat sets every entry as a system property, over what the command line set.
func (in *Instance) loadCatalinaProperties(env *probes.Env) {
	path := filepath.Join(in.Base, "conf", "catalina.properties")
	if c, ok := in.Props.Get("catalina.config"); ok {
		if p := configPath(c.Value); p != "" {
			path = p
		}
	}
	b, err := readHost(env, path, conf.MaxPropertiesSize)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			in.Notes = append(in.Notes, fmt.Sprintf("%s: %v", path, err))
		}
		return
	}
	props, err := conf.ParseProperties(bytes.NewReader(b))
	if err != nil {
		in.Notes = append(in.Notes, fmt.Sprintf("%s: %v", path, err))
		return
	}
	for _, e := range props.Entries {
		in.Props.Set(e.Key, e.Value, fmt.Sprintf("%s:%d", in.Rel(path), e.Line))
	}
}

// configPath turns catalina.config (a file: URL or a file name) into a path.
func configPath(v string) string {
	if u, err := url.Parse(v); err == nil && u.Scheme == "file" {
		return u.Path
	}
	if strings.Contains(v, "://") {
		return "" // http and the like: not read
	}
	return v
}

// loadServer reads server.xml (or the file "-config FILE" on the command line names),
// following external entities, and builds the server with the properties replaced.
func (in *Instance) loadServer(env *probes.Env) {
	in.ServerFile = filepath.Join(in.Base, "conf", "server.xml")
	for i, a := range in.Args {
		if a == "-config" && i+1 < len(in.Args) {
			p := in.Args[i+1]
			if !filepath.IsAbs(p) {
				p = filepath.Join(in.Base, p)
			}
			in.ServerFile = p
		}
	}
	b, err := readHost(env, in.ServerFile, maxFile)
	if err != nil {
		in.Err = err
		return
	}
	include := func(systemID, from string) ([]byte, string, error) {
		p := strings.TrimPrefix(systemID, "file:")
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(from), p)
		}
		b, err := readHost(env, p, maxFile)
		return b, p, err
	}
	raw, err := conf.ParseXML(bytes.NewReader(b), in.ServerFile, include)
	if err != nil {
		in.Err = err
		return
	}
	in.Raw = raw
	in.Server, in.Err = conf.NewServer(conf.Resolve(raw, in.Props.Lookup))
}

// readHost reads a host file under the Env's root, links resolved inside it.
func readHost(env *probes.Env, p string, limit int64) ([]byte, error) {
	f, err := os.Open(env.HostPath(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, limit)
	}
	return b, nil
}

// sortInstances puts running instances first, then by CATALINA_BASE.
func sortInstances(list []*Instance) {
	sort.SliceStable(list, func(i, j int) bool {
		if (list[i].PID > 0) != (list[j].PID > 0) {
			return list[i].PID > 0
		}
		return list[i].Base < list[j].Base
	})
}
