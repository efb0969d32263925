// Package docs holds the documentation the binary prints itself: checks.md is both the
// check reference on GitHub and what `clusterdoctor explain CHECK-ID` prints, so the two
// cannot drift apart.
package docs

import (
	_ "embed"
	"strings"
)

//go:embed checks.md
var checks string

// Check is checks.md's section about id (its heading "## `id`" left out), and whether
// there is one.
func Check(id string) (string, bool) {
	heading := "## `" + id + "`\n"
	i := strings.Index(checks, heading)
	if i < 0 {
		return "", false
	}
	section := checks[i+len(heading):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	return strings.TrimSpace(section) + "\n", true
}
