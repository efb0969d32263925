package fixes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/clusterdoctor/clusterdoctor/probes"
	"github.com/clusterdoctor/clusterdoctor/probes/routecfg"
)

// PersistRoute plans the persistent half of fix route --persist from what routecfg found:
// a file edit shown as a unified diff, or, when NetworkManager runs, the profile change
// and reapply through its D-Bus API.
type PersistRoute struct {
	Owner *routecfg.Owner
	Iface string
	Env   *probes.Env
}

// Plan returns the notes and steps; no steps when the route is already persistent.
func (r PersistRoute) Plan() *Plan {
	o := r.Owner
	p := &Plan{}
	for _, f := range o.Found {
		p.Notes = append(p.Notes, "detected: "+f)
	}
	switch {
	case o.Present:
		p.Notes = append(p.Notes, "persistent: already kept by "+o.Describe())
	case o.NM != nil:
		p.Steps = r.networkManagerSteps()
	case o.Edit.Changed():
		p.Steps = []Step{r.fileStep(o.Edit)}
	}
	return p
}

// networkManagerSteps save the route in the profile and, if the profile is active,
// reapply it (nmcli connection modify ID +ipv4.routes DST; nmcli device reapply IFACE).
// Rolling back restores the profile and reapplies that.
func (r PersistRoute) networkManagerSteps() []Step {
	c, prof := r.Owner.NM.Client, r.Owner.NM.Profile
	dst := r.Owner.Request().Dst
	file := prof.Filename
	show := fmt.Sprintf("nmcli connection modify %s +ipv4.routes %s   # over D-Bus (Update2, saved to disk)", quoteArg(prof.ID), dst)
	if file != "" {
		show += fmt.Sprintf("\n# NetworkManager rewrites %s in its own layout; the original is kept as %s", file, BackupPath(file))
	}
	steps := []Step{{
		Show: show,
		Name: fmt.Sprintf("save NetworkManager profile %q", prof.ID),
		Apply: func(context.Context) error {
			if file != "" {
				if _, err := BackupOnce(r.Env.Path(file)); err != nil {
					return err
				}
			}
			return c.AddRoute(prof, dst)
		},
		Undo: func(context.Context) error {
			if err := c.Restore(prof); err != nil {
				return err
			}
			if prof.Active {
				return c.Reapply(prof)
			}
			return nil
		},
	}}
	if prof.Active {
		steps = append(steps, Step{
			Show:  "nmcli device reapply " + r.Iface + "   # over D-Bus: the link stays up",
			Name:  "reapply NetworkManager profile " + quoteArg(prof.ID),
			Apply: func(context.Context) error { return c.Reapply(prof) },
		})
	}
	return steps
}

// fileStep writes an edit atomically (backup beside an existing file); undo puts the old
// content back or removes the new file and the directories made for it.
func (r PersistRoute) fileStep(e *routecfg.Edit) Step {
	path := r.Env.HostPath(e.Path) // a link in an image resolves inside it
	var made []string
	return Step{
		Show: Diff(e.Path, e.Old, e.New),
		Name: "write " + e.Path,
		Apply: func(context.Context) error {
			cur, err := os.ReadFile(path)
			switch {
			case e.Old == nil && err == nil:
				return fmt.Errorf("%s appeared since it was read; run the fix again", e.Path)
			case e.Old != nil && (err != nil || !bytes.Equal(cur, e.Old)):
				return fmt.Errorf("%s changed since it was read; run the fix again", e.Path)
			}
			if made, err = mkdirAll(filepath.Dir(path)); err != nil {
				return fmt.Errorf("create %s: %w", filepath.Dir(e.Path), err)
			}
			if _, err := WriteFileAtomic(path, e.New, os.FileMode(e.Perm), e.Old != nil); err != nil {
				removeDirs(made)
				return err
			}
			return nil
		},
		Undo: func(context.Context) error {
			if e.Old == nil {
				err := os.Remove(path)
				removeDirs(made)
				return err
			}
			_, err := WriteFileAtomic(path, e.Old, os.FileMode(e.Perm), false)
			return err
		},
	}
}

// Diff is a unified diff of a file edit, labelled with the host path.
func Diff(path string, old, new []byte) string {
	from := "a" + path
	if old == nil {
		from = "/dev/null"
	}
	return strings.TrimSuffix(udiff.Unified(from, "b"+path, string(old), string(new)), "\n")
}

// mkdirAll makes dir and missing parents (0755), returning the ones it made, deepest last.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		missing = append([]string{d}, missing...)
	}
	for i, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			removeDirs(missing[:i])
			return nil, err
		}
	}
	return missing, nil
}

// removeDirs removes directories made by mkdirAll, deepest first, if empty.
func removeDirs(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		os.Remove(made[i])
	}
}

// quoteArg quotes a profile name for a shell line when it needs it.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$`\\!*?[]{}();&|<>#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
