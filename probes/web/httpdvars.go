package web

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// httpdEnviron is the environment httpd expands ${NAME} from where no Define names it:
// the running process's own (/proc/PID/environ), or, for a configuration no httpd runs
// yet, what Debian's apache2ctl sources before it starts httpd (ServerRoot/envvars, the
// APACHE_RUN_USER, APACHE_LOG_DIR and APACHE_RUN_DIR its apache2.conf uses). Nil when
// neither can be read: then ${NAME} stays as written.
func httpdEnviron(env *probes.Env, pid int, serverRoot string) map[string]string {
	if pid > 0 {
		environ, _ := env.Environ(pid)
		return environ
	}
	file := filepath.Join(serverRoot, "envvars")
	b, err := env.ReadFile(file, tomcat.MaxShellSize)
	if err != nil {
		return nil
	}
	sv, err := tomcat.ParseShell(bytes.NewReader(b), file, nil)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range sv.Vars {
		out[k] = v.Value
	}
	return out
}

// expand substitutes ${NAME} in one argument as httpd does while it reads each line
// (ap_resolve_env): a variable set by an earlier Define NAME VALUE, else httpd's
// environment. One that is neither stays as written; httpd warns "AH00111: Config
// variable ${NAME} is not defined".
func (c *HTTPDConfig) expand(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		name := s[i+2 : i+j]
		b.WriteString(s[:i])
		if v, ok := c.vars[name]; ok {
			b.WriteString(v)
		} else if v, ok := c.environ[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// define applies Define and UnDefine as httpd does when it reads them: Define NAME sets a
// parameter <IfDefine> tests, Define NAME VALUE also a variable; UnDefine drops both.
func (c *HTTPDConfig) define(d Directive) {
	name := d.Args[0]
	if d.Is("UnDefine") {
		delete(c.vars, name)
		if c.defined != nil {
			delete(c.defined, name)
		}
		return
	}
	if c.defined != nil {
		c.defined[name] = true
	}
	if len(d.Args) > 1 {
		c.vars[name] = d.Args[1]
	}
}
