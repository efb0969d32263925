package fixes

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Step is one change: what it does in iproute2 or diff form, how to do it, how to undo it.
type Step struct {
	// Show is printed by --dry-run and before applying: "ip route replace ..." or a diff.
	Show string
	// Name is a one-line name for errors ("write /etc/..."); Show when empty.
	Name string
	// Apply makes the change.
	Apply func(ctx context.Context) error
	// Undo reverts a successful Apply; nil when there is nothing to revert.
	Undo func(ctx context.Context) error
}

// Plan is what a fix would do on this host. No steps means it is already in place.
type Plan struct {
	// Notes explain what was found (the backend detected, what is already in place).
	Notes []string
	Steps []Step
}

// Show writes the plan: notes as comments, then each step.
func (p *Plan) Show(w io.Writer) {
	for _, n := range p.Notes {
		fmt.Fprintf(w, "# %s\n", n)
	}
	for _, s := range p.Steps {
		fmt.Fprintln(w, s.Show)
	}
	if len(p.Steps) == 0 {
		fmt.Fprintln(w, "# already in place: nothing to change")
	}
}

// Apply runs the steps in order. If one fails, the ones already applied are undone in
// reverse order, and the error says what state the host is in.
func (p *Plan) Apply(ctx context.Context) error {
	for i, s := range p.Steps {
		if err := s.Apply(ctx); err != nil {
			undoErr := undo(ctx, p.Steps[:i])
			if undoErr != nil {
				return fmt.Errorf("%s: %w; rolling back also failed, the host is partly changed: %v", s.name(), err, undoErr)
			}
			if i == 0 {
				return fmt.Errorf("%s: %w; nothing was changed", s.name(), err)
			}
			return fmt.Errorf("%s: %w; the %d earlier change(s) were rolled back, the host is as it was", s.name(), err, i)
		}
	}
	return nil
}

func (s Step) name() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Show
}

func undo(ctx context.Context, done []Step) error {
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		if done[i].Undo != nil {
			if err := done[i].Undo(ctx); err != nil {
				errs = append(errs, fmt.Errorf("undo %q: %w", done[i].name(), err))
			}
		}
	}
	return errors.Join(errs...)
}
