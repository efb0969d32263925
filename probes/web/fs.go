package web

import (
	"os"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// hostPath turns a path found under the Env's root (by a glob) back into the host path
// the configuration names, for reading it through the Env and for reports.
func hostPath(env *probes.Env, p string) string {
	if env.LiveRoot() {
		return p
	}
	return "/" + strings.TrimPrefix(strings.TrimPrefix(p, env.Root), "/")
}
