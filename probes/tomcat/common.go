package tomcat

import (
	"errors"
	"fmt"
	"strings"
	"time"

	conf "github.com/clusterdoctor/clusterdoctor/netcfg/tomcat"
	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Timeout is the deadline of a tomcat.* check that reads files only: the instances are
// read before the run, the checks judge them (jars and applications are read on demand).
const Timeout = 5 * time.Second

// noTomcat is the skip every tomcat.* check gives on a host without Tomcat.
func noTomcat(id string, f *Found) probes.Result {
	looked := "nothing was looked at"
	if f != nil && len(f.Looked) > 0 {
		looked = "looked at " + strings.Join(f.Looked, "; ")
	}
	return probes.SkipResult(id, "no Tomcat instance found on this host").
		With(looked, "name it with --tomcat CATALINA_BASE (and --tomcat-home CATALINA_HOME if it differs)", nil)
}

// unreadable is the unknown a check gives when server.xml cannot be read: the file and
// line Tomcat's parser would stop at.
func unreadable(id string, in *Instance) probes.Result {
	where := in.ServerFile
	var pe *conf.ParseError
	if errors.As(in.Err, &pe) {
		where = fmt.Sprintf("%s:%d", pe.File, pe.Line)
	}
	return probes.UnknownResult(id, fmt.Sprintf("cannot read %s: %v", in.Rel(in.ServerFile), in.Err)).
		With("Tomcat itself refuses a server.xml it cannot parse and does not start", "fix "+where, map[string]any{"file": where})
}

// each runs judge on every readable instance, and returns unknown for the first one whose
// server.xml cannot be read (its checks cannot be told).
func each(id string, f *Found, judge func(in *Instance) probes.Result) []probes.Result {
	var out []probes.Result
	for _, in := range f.Instances {
		if in.Server == nil {
			out = append(out, unreadable(id, in))
			continue
		}
		out = append(out, judge(in))
	}
	return nameOnce(f, out)
}

// nameOnce drops the instance's name from the head of the line when there is only one.
func nameOnce(f *Found, out []probes.Result) []probes.Result {
	if len(f.Instances) == 1 && len(out) == 1 {
		// one Tomcat: name it once, in the evidence, not at the head of every line
		in := f.Instances[0]
		out[0].Summary = strings.TrimPrefix(out[0].Summary, in.Label()+": ")
		if out[0].Evidence == nil {
			out[0].Evidence = map[string]any{}
		}
		out[0].Evidence["base"] = in.Base
	}
	return out
}

// merge folds the per-instance results of one check into one (probes.Merge).
func merge(id string, rs []probes.Result) probes.Result { return probes.Merge(id, "instances", rs) }

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// pos names an element for a finding: "conf/server.xml:31" relative to CATALINA_BASE.
func (in *Instance) pos(e *conf.Element) string {
	if e == nil {
		return in.Rel(in.ServerFile)
	}
	return fmt.Sprintf("%s:%d", in.Rel(e.File), e.Line)
}

// attrFrom says where an attribute's value came from, for values with ${...}.
func (in *Instance) attrFrom(e *conf.Element, name string) string {
	for _, a := range e.Attrs {
		if a.Name == name && a.Raw != "" {
			if src := in.Props.Sources(a.Raw); len(src) > 0 {
				return fmt.Sprintf(" (%s=%q: %s)", name, a.Raw, strings.Join(src, ", "))
			}
			return fmt.Sprintf(" (%s=%q)", name, a.Raw)
		}
	}
	return ""
}
