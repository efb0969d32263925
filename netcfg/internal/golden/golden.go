// Package golden holds what the netcfg parsers' tests share: reading samples from
// testdata/, comparing output with golden files (go test -update rewrites them), seeding
// fuzz targets with the samples, and checking that bad input gives the error it should.
package golden

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Update rewrites golden files instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite golden files")

// Parse reads testdata/name with parse and fails the test on any error.
func Parse[T any](t testing.TB, parse func(io.Reader) (T, error), name string) T {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// Compare checks got against the golden file at path (rewriting it with -update).
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n%s\nwant\n%s", path, got, want)
	}
}

// Seed adds every file matching testdata/glob to the fuzz corpus.
func Seed(f *testing.F, glob string) {
	files, _ := filepath.Glob(filepath.Join("testdata", glob))
	if len(files) == 0 {
		f.Fatalf("no seeds match testdata/%s", glob)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// ParseErrors checks that each input (key) fails to parse with an error containing
// its value.
func ParseErrors[T any](t *testing.T, parse func(io.Reader) (T, error), cases map[string]string) {
	t.Helper()
	for in, says := range cases {
		if _, err := parse(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%.30q: %v; want an error saying %q", in, err, says)
		}
	}
}
