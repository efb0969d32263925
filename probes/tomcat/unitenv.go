package tomcat

import (
	"bytes"
	"path/filepath"
	"sort"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// unitDirs are where systemd finds a unit and its drop-ins, the first one winning for the
// unit file itself.
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// unitEnvironment is the Environment= of a service unit and its drop-ins (NAME.service.d/
// *.conf, read in name order after the unit, as systemd reads them), with where each
// variable was set: what systemd gives the JVM it starts, besides the unit's
// EnvironmentFile (read with the service files).
func unitEnvironment(env *probes.Env, name string) (vars, from map[string]string) {
	var files []string
	for _, d := range unitDirs {
		p := filepath.Join(d, name+".service")
		if _, err := env.ReadFile(p, 1<<20); err == nil {
			files = append(files, p)
			break
		}
	}
	var dropins []string
	for _, d := range unitDirs {
		matches, _ := filepath.Glob(env.Path(filepath.Join(d, name+".service.d", "*.conf")))
		for _, m := range matches {
			dropins = append(dropins, filepath.Join(d, name+".service.d", filepath.Base(m)))
		}
	}
	sort.SliceStable(dropins, func(i, j int) bool { return filepath.Base(dropins[i]) < filepath.Base(dropins[j]) })
	vars, from = map[string]string{}, map[string]string{}
	for _, f := range append(files, dropins...) {
		b, err := env.ReadFile(f, 1<<20)
		if err != nil {
			continue
		}
		opts, err := unit.DeserializeOptions(bytes.NewReader(b))
		if err != nil {
			continue
		}
		for _, o := range opts {
			if o.Section != "Service" || o.Name != "Environment" {
				continue
			}
			if strings.TrimSpace(o.Value) == "" {
				vars, from = map[string]string{}, map[string]string{} // an empty assignment resets the list
				continue
			}
			for _, w := range unitWords(o.Value) {
				if k, v, ok := strings.Cut(w, "="); ok && k != "" {
					vars[k], from[k] = v, f
				}
			}
		}
	}
	return vars, from
}

// unitWords splits an Environment= value as systemd does: words separated by spaces,
// double or single quotes around a word, a backslash escaping the next character.
func unitWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote, escaped := false, byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case c == '\\':
			escaped, in = true, true
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}
