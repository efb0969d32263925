package modjk

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) (*File, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f, b
}

// TestSeeds: the users' own workers.properties (seeds 000 and 003) and a Red Hat style
// one with a template read as mod_jk reads them, and come back byte for byte.
func TestSeeds(t *testing.T) {
	type worker struct {
		typ, host, route string
		port, ping       int
		sticky           bool
		members          []string
	}
	for _, c := range []struct {
		file    string
		list    []string
		workers map[string]worker
	}{
		{"seed-000.properties", []string{"lb"}, map[string]worker{
			"lb":      {typ: "lb", host: "localhost", port: 8009, route: "lb", ping: 10000, sticky: true, members: []string{"tomcat1", "tomcat2"}},
			"tomcat1": {typ: "ajp13", host: "192.168.56.103", port: 8009, route: "tomcat1", ping: 10000, sticky: true},
			"tomcat2": {typ: "ajp13", host: "192.168.56.104", port: 8009, route: "tomcat2", ping: 10000, sticky: true},
		}},
		{"seed-003.properties", []string{"worker1"}, map[string]worker{
			"worker1": {typ: "lb", host: "localhost", port: 8009, route: "worker1", ping: 10000, sticky: true, members: []string{"was1", "was2"}},
			"was2":    {typ: "ajp13", host: "192.168.0.24", port: 8009, route: "was2", ping: 10000, sticky: true},
		}},
		{"template.properties", []string{"loadbalancer", "status"}, map[string]worker{
			"node1":        {typ: "ajp13", host: "10.0.0.11", port: 8010, route: "node-a", ping: 2000, sticky: true},
			"node2":        {typ: "ajp13", host: "10.0.0.12", port: 8009, route: "node2", ping: 500, sticky: true},
			"loadbalancer": {typ: "lb", host: "localhost", port: 8009, route: "loadbalancer", ping: 10000, sticky: false, members: []string{"node1", "node2"}},
		}},
	} {
		f, raw := parseFile(t, c.file)
		if got := f.List(); !reflect.DeepEqual(got, c.list) {
			t.Errorf("%s: worker.list %v; want %v", c.file, got, c.list)
		}
		for name, want := range c.workers {
			w, ok := f.Worker(name)
			host, port, err := w.Address()
			sticky, _ := w.Sticky()
			got := worker{typ: w.Type(), host: host, port: port, route: w.Route(), ping: w.PingTimeout(), sticky: sticky, members: w.BalanceWorkers()}
			if !ok || err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: worker %s = %+v (%v, defined %v); want %+v", c.file, name, got, err, ok, want)
			}
		}
		var out bytes.Buffer
		if err := f.Write(&out); err != nil || !bytes.Equal(out.Bytes(), raw) {
			t.Errorf("%s: does not round-trip", c.file)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, says string }{
		{strings.Repeat("#", MaxSize+1), "larger than"},
	} {
		if _, err := Parse(strings.NewReader(c.in)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Parse(%.20q) = %v; want an error saying %q", c.in, err, c.says)
		}
	}
	f, _ := Parse(strings.NewReader("worker.a.port=99999\nworker.b.host=h:x\n"))
	for _, n := range []string{"a", "b"} {
		if w, _ := f.Worker(n); func() error { _, _, err := w.Address(); return err }() == nil {
			t.Errorf("worker %s: a bad port is accepted", n)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"seed-000.properties", "seed-003.properties", "template.properties"} {
		b, _ := os.ReadFile(filepath.Join("testdata", n))
		f.Add(b)
	}
	f.Add([]byte("worker.a.reference=worker.b\nworker.b.reference=worker.a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if file.Write(&out); !bytes.Equal(out.Bytes(), b) {
			t.Fatal("does not round-trip")
		}
		for _, n := range append(file.Names(), file.List()...) {
			w, _ := file.Worker(n)
			w.Address()
			w.Sticky()
			w.Route()
			w.BalanceWorkers()
		}
	})
}

// TestAsModJKReads: comments from the first '#', lines without '=' ignored, lists that
// accumulate and properties whose last value wins (jk_map.c, jk_util.c).
func TestAsModJKReads(t *testing.T) {
	f, err := Parse(strings.NewReader("worker.list=a # first\njust words\nworker.list=b\n" +
		"worker.lb.balance_workers=a\nworker.lb.balance_workers=b\nworker.a.port=8009\nworker.a.port=8010#again\n"))
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := f.Worker("lb")
	a, _ := f.Worker("a")
	_, port, _ := a.Address()
	if got := f.List(); !reflect.DeepEqual(got, []string{"a", "b"}) || !reflect.DeepEqual(lb.BalanceWorkers(), []string{"a", "b"}) || port != 8010 {
		t.Errorf("list %v, balance_workers %v, port %d; want [a b], [a b], 8010", got, lb.BalanceWorkers(), port)
	}
}
