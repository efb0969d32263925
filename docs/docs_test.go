package docs

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clusterdoctor/clusterdoctor/probes/preflight"
)

// TestEveryCheckHasASection: every check preflight runs has its section and its row in
// checks.md, and the file has none of a check that does not exist.
func TestEveryCheckHasASection(t *testing.T) {
	ids := preflight.IDs()
	for _, id := range ids {
		text, ok := Check(id)
		if !ok || !strings.Contains(text, "What it establishes") {
			t.Errorf("%s: no section (%q)", id, text)
		}
		if !strings.Contains(checks, "| [`"+id+"`](#"+strings.ReplaceAll(id, ".", "")+") |") {
			t.Errorf("%s: no row in the table", id)
		}
	}
	for _, m := range regexp.MustCompile("(?m)^## `([^`]+)`$").FindAllStringSubmatch(checks, -1) {
		if !slices.Contains(ids, m[1]) {
			t.Errorf("checks.md has a section for %s, which is no check", m[1])
		}
	}
	if text, _ := Check("tomcat.jvmroute"); strings.Contains(text, "## ") {
		t.Errorf("a section runs into the next: %q", text)
	}
}
