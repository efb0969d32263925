// Package modjk reads mod_jk's workers.properties as mod_jk reads it: worker.list (which
// may be given more than once and accumulates), worker.NAME.PROPERTY lines, templates
// (worker.NAME.reference=worker.OTHER), the host:port form of host, and mod_jk's
// defaults. Every value keeps its line; Write gives the file back byte for byte.
package modjk

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/internal/textfile"
)

// MaxSize caps the input: a workers.properties is a few kilobytes.
const MaxSize = 1 << 20

// Defaults mod_jk applies (the Tomcat Connectors reference, workers.html).
const (
	DefaultType        = "ajp13"
	DefaultHost        = "localhost"
	DefaultPort        = 8009
	DefaultPingTimeout = 10000 // ms
)

// Value is one property as written, with its line (1-based).
type Value struct {
	Text string
	Line int
}

// Worker is one worker's properties, templates applied.
type Worker struct {
	Name  string
	Props map[string]Value
}

// File is a parsed workers.properties.
type File struct {
	text    textfile.Lines
	list    []Value
	workers map[string]*Worker
	order   []string
}

// Parse reads workers.properties as jk_map_read_properties does: everything from the
// first '#' on a line is a comment (also after a value, as the seeds write them), a line
// without '=' is ignored, worker.list and balance_workers given twice accumulate, any
// other property given twice keeps the last value.
func Parse(r io.Reader) (*File, error) {
	text, err := textfile.Read(r, MaxSize, "workers.properties")
	if err != nil {
		return nil, err
	}
	f := &File{text: text, workers: map[string]*Worker{}}
	for i, raw := range text.Lines {
		line, _, _ := strings.Cut(strings.TrimSuffix(raw, "\r"), "#")
		key, val, ok := strings.Cut(line, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" || val == "" {
			continue
		}
		v := Value{Text: val, Line: i + 1}
		switch {
		case key == "worker.list":
			f.list = append(f.list, v)
		case strings.HasPrefix(key, "worker."):
			rest := strings.TrimPrefix(key, "worker.")
			dot := strings.LastIndex(rest, ".")
			if dot <= 0 || dot == len(rest)-1 {
				continue // worker.maintain and other global properties
			}
			name, prop := rest[:dot], rest[dot+1:]
			w := f.workers[name]
			if w == nil {
				w = &Worker{Name: name, Props: map[string]Value{}}
				f.workers[name] = w
				f.order = append(f.order, name)
			}
			if old, dup := w.Props[prop]; dup && (prop == "balance_workers" || prop == "balanced_workers") {
				v = Value{Text: old.Text + "," + v.Text, Line: old.Line}
			}
			w.Props[prop] = v
		}
	}
	return f, nil
}

// Write writes the file back as it was read.
func (f *File) Write(w io.Writer) error { return f.text.Write(w) }

// List is worker.list: every name, in order, from every worker.list line.
func (f *File) List() []string {
	var out []string
	for _, v := range f.list {
		out = append(out, splitList(v.Text)...)
	}
	return out
}

// ListLine is the line of the first worker.list (0: none).
func (f *File) ListLine() int {
	if len(f.list) == 0 {
		return 0
	}
	return f.list[0].Line
}

// Names are the workers defined, in the order they first appear.
func (f *File) Names() []string { return append([]string(nil), f.order...) }

// Worker returns a worker with its template (reference) applied, and whether any
// property of it is written.
func (f *File) Worker(name string) (*Worker, bool) {
	w, ok := f.workers[name]
	if !ok {
		return &Worker{Name: name, Props: map[string]Value{}}, false
	}
	out := &Worker{Name: name, Props: map[string]Value{}}
	seen := map[string]bool{}
	for cur := w; cur != nil && !seen[cur.Name]; {
		seen[cur.Name] = true
		for k, v := range cur.Props {
			if _, set := out.Props[k]; !set && k != "reference" {
				out.Props[k] = v
			}
		}
		ref, ok := cur.Props["reference"]
		if !ok {
			break
		}
		cur = f.workers[strings.TrimPrefix(ref.Text, "worker.")]
	}
	return out, true
}

// Get is a property's value and line; ok is false when it is not written.
func (w *Worker) Get(prop string) (Value, bool) {
	v, ok := w.Props[prop]
	return v, ok
}

// Type is the worker type (ajp13 by default).
func (w *Worker) Type() string {
	if v, ok := w.Props["type"]; ok {
		return strings.ToLower(v.Text)
	}
	return DefaultType
}

// Address is host and port, from host (which may carry ":port") and port, with mod_jk's
// defaults.
func (w *Worker) Address() (string, int, error) {
	host, port := DefaultHost, DefaultPort
	if v, ok := w.Props["host"]; ok {
		host = v.Text
		if h, p, found := strings.Cut(v.Text, ":"); found && !strings.Contains(p, ":") {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return "", 0, fmt.Errorf("line %d: host %q: the port is not 1-65535", v.Line, v.Text)
			}
			return h, n, nil
		}
	}
	if v, ok := w.Props["port"]; ok {
		n, err := strconv.Atoi(v.Text)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("line %d: port %q is not 1-65535", v.Line, v.Text)
		}
		port = n
	}
	return host, port, nil
}

// Route is the route the balancer expects in the session id: route, else jvm_route,
// else the worker's name.
func (w *Worker) Route() string {
	for _, k := range []string{"route", "jvm_route"} {
		if v, ok := w.Props[k]; ok && v.Text != "" {
			return v.Text
		}
	}
	return w.Name
}

// PingTimeout is ping_timeout in milliseconds (10000 by default).
func (w *Worker) PingTimeout() int {
	if v, ok := w.Props["ping_timeout"]; ok {
		if n, err := strconv.Atoi(v.Text); err == nil && n > 0 {
			return n
		}
	}
	return DefaultPingTimeout
}

// Sticky reports sticky_session (true by default): ok is false for a value mod_jk does
// not read as a boolean.
func (w *Worker) Sticky() (sticky, ok bool) {
	v, set := w.Props["sticky_session"]
	if !set {
		return true, true
	}
	return Bool(v.Text)
}

// BalanceWorkers are an lb worker's members (balance_workers, or the older
// balanced_workers).
func (w *Worker) BalanceWorkers() []string {
	for _, k := range []string{"balance_workers", "balanced_workers"} {
		if v, ok := w.Props[k]; ok {
			return splitList(v.Text)
		}
	}
	return nil
}

// Bool reads mod_jk's booleans: true, yes, on, 1 and false, no, off, 0, any case.
func Bool(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}
