package web

import (
	"fmt"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// mount is one JkMount (or a JkMountFile line): a path sent to a worker.
type mount struct {
	directive, path, worker, where string
}

// mounts are the JkMount directives and the lines of every JkMountFile. A JkMount httpd
// would refuse (it takes one or two arguments) is a failure naming it.
func mounts(env *probes.Env, conf *HTTPDConfig, fails *[]string) []mount {
	var out []mount
	for _, d := range conf.All("JkMount") {
		switch len(d.Args) {
		case 2:
			out = append(out, mount{"JkMount", d.Args[0], d.Args[1], d.Where()})
		case 1: // inside <Location>, the path is the section's; outside, httpd refuses it
			loc := ""
			for _, c := range d.Context {
				if f := strings.Fields(c); len(f) == 2 && strings.EqualFold(f[0], "Location") {
					loc = f[1]
				}
			}
			if loc == "" {
				*fails = append(*fails, fmt.Sprintf("JkMount at %s has one argument (%s) outside a <Location>: httpd refuses to start (\"JkMount needs a path when not defined in a location\")",
					d.Where(), d.Args[0]))
				continue
			}
			out = append(out, mount{"JkMount", loc, d.Args[0], d.Where()})
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
			out = append(out, mount{"JkMountFile", strings.TrimSpace(strings.TrimPrefix(path, "!")), worker, fmt.Sprintf("%s:%d", file, i+1)})
		}
	}
	return out
}
