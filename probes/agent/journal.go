package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// NewLogger logs to the journal with structured fields when stderr is connected to it
// (a systemd service), else as text lines on w.
func NewLogger(w io.Writer) *slog.Logger {
	if ok, _ := journal.StderrIsJournalStream(); ok && journal.Enabled() {
		return slog.New(&journalHandler{})
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// journalHandler sends each record with its attributes as journal fields
// (CLUSTERDOCTOR_FAIL=2, ...), so `journalctl CLUSTERDOCTOR_FAILING=...` finds them.
type journalHandler struct {
	attrs []slog.Attr
}

func (h *journalHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *journalHandler) Handle(_ context.Context, r slog.Record) error {
	vars := map[string]string{"SYSLOG_IDENTIFIER": "clusterdoctor"} // journalctl -t clusterdoctor
	add := func(a slog.Attr) {
		vars["CLUSTERDOCTOR_"+strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(a.Key))] = a.Value.String()
	}
	for _, a := range h.attrs {
		add(a)
	}
	var text strings.Builder
	text.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		add(a)
		fmt.Fprintf(&text, " %s=%s", a.Key, a.Value)
		return true
	})
	prio := journal.PriInfo
	switch {
	case r.Level >= slog.LevelError:
		prio = journal.PriErr
	case r.Level >= slog.LevelWarn:
		prio = journal.PriWarning
	}
	return journal.Send(text.String(), prio, vars)
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &journalHandler{attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *journalHandler) WithGroup(string) slog.Handler { return h }
