package fixes

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestApplyRollsBack: when a step fails, the applied ones are undone in reverse order
// and the error says the host is as it was.
func TestApplyRollsBack(t *testing.T) {
	var log []string
	step := func(name string, fail bool) Step {
		return Step{Show: name,
			Apply: func(context.Context) error {
				if fail {
					return errors.New("boom")
				}
				log = append(log, "apply "+name)
				return nil
			},
			Undo: func(context.Context) error { log = append(log, "undo "+name); return nil }}
	}
	p := &Plan{Steps: []Step{step("route", false), step("file", false), step("reapply", true)}}
	err := p.Apply(context.Background())
	if err == nil || !strings.Contains(err.Error(), "2 earlier change(s) were rolled back, the host is as it was") {
		t.Fatalf("Apply = %v", err)
	}
	if got := strings.Join(log, ", "); got != "apply route, apply file, undo file, undo route" {
		t.Fatalf("log: %s", got)
	}
	first := &Plan{Steps: []Step{step("x", true)}}
	if err := first.Apply(context.Background()); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("first step failing: %v", err)
	}
	broken := &Plan{Steps: []Step{{Show: "a", Apply: func(context.Context) error { return nil },
		Undo: func(context.Context) error { return errors.New("stuck") }}, step("b", true)}}
	if err := broken.Apply(context.Background()); err == nil || !strings.Contains(err.Error(), "the host is partly changed") {
		t.Fatalf("failed rollback: %v", err)
	}
}
