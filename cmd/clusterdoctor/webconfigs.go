package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// webConfigFlags name web server configurations to read instead of finding them: a
// server that is not running yet, one in a container image, or one of several.
type webConfigFlags struct {
	httpd, nginx, haproxy []string
}

func (f *webConfigFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.httpd, "httpd-conf", nil, "web host: read this httpd main file (-f) instead of the running servers' (repeatable)")
	fs.StringArrayVar(&f.nginx, "nginx-conf", nil, "web host: read this nginx.conf (-c) instead of the running servers' (repeatable)")
	fs.StringArrayVar(&f.haproxy, "haproxy-conf", nil, "web host: read this haproxy.cfg or directory (-f) instead of the running servers' (repeatable)")
}

// configs are the files given, each made absolute and required to exist under root.
// Equivalent by hand: apache2ctl -f FILE -S, nginx -t -c FILE, haproxy -c -f FILE.
func (f *webConfigFlags) configs(root string) ([]probes.WebConfig, error) {
	var out []probes.WebConfig
	for _, g := range []struct {
		flag, kind string
		paths      []string
	}{{"--httpd-conf", "httpd", f.httpd}, {"--nginx-conf", "nginx", f.nginx}, {"--haproxy-conf", "haproxy", f.haproxy}} {
		for _, p := range g.paths {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, &probes.UsageError{Flag: g.flag, Value: p, Problem: err.Error()}
			}
			if _, err := os.Stat(filepath.Join(root, abs)); err != nil {
				return nil, &probes.UsageError{Flag: g.flag, Value: p, Problem: plainOpenError(err)}
			}
			out = append(out, probes.WebConfig{Kind: g.kind, Path: abs})
		}
	}
	return out, nil
}
