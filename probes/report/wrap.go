package report

import (
	"strings"
	"unicode/utf8"
)

// Wrap fits text to a terminal width columns wide. A longer line is broken at spaces and
// continued under the column its text starts at (after the status and ID columns: the
// last gap of two spaces or more in the line's first half), so the columns stay readable:
//
//	FAIL     firewall.ports  firewalld zone public on cl0 does not open 45564/udp,
//	                         4000-4100/tcp
//
// A word longer than the room left (a long path) is cut. ANSI colour sequences take no
// room. Width 0 leaves text as it is.
func Wrap(text string, width int) string {
	if width <= 0 {
		return text
	}
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	for _, line := range lines {
		body := strings.TrimSuffix(line, "\n")
		for i, l := range wrapLine(body, width) {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(l)
		}
		if strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func wrapLine(line string, width int) []string {
	if visibleWidth(line) <= width {
		return []string{line}
	}
	indent := hangingIndent(line, width)
	prefix, rest := splitAtColumn(line, indent)
	var out []string
	cur, curW, fresh := prefix, visibleWidth(prefix), false // fresh: a continuation line with no word yet
	flush := func() {
		out = append(out, strings.TrimRight(cur, " "))
		cur, curW, fresh = strings.Repeat(" ", indent), indent, true
	}
	for _, tok := range tokens(rest) {
		w, ww := tok.word, visibleWidth(tok.word)
		gap := len(tok.gap)
		if fresh {
			gap = 0
		}
		if curW > indent && curW+gap+ww > width {
			flush()
			gap = 0
		}
		for curW+gap+ww > width { // longer than a whole line's room: cut it
			head, tail := splitAtColumn(w, width-curW-gap)
			cur += strings.Repeat(" ", gap) + head
			flush()
			w, ww, gap = tail, visibleWidth(tail), 0
		}
		cur, curW, fresh = cur+strings.Repeat(" ", gap)+w, curW+gap+ww, false
	}
	if !fresh || len(out) == 0 {
		out = append(out, strings.TrimRight(cur, " "))
	}
	return out
}

// token is a word and the spaces before it, as the line has them.
type token struct{ gap, word string }

func tokens(s string) []token {
	var out []token
	for s != "" {
		trimmed := strings.TrimLeft(s, " ")
		gap := s[:len(s)-len(trimmed)]
		if trimmed == "" {
			break
		}
		end := strings.IndexByte(trimmed, ' ')
		if end < 0 {
			end = len(trimmed)
		}
		out = append(out, token{gap, trimmed[:end]})
		s = trimmed[end:]
	}
	return out
}

// hangingIndent is the column a wrapped line continues at: the end of the last gap of
// two or more spaces in the line's first half, else its own indentation and two more.
func hangingIndent(line string, width int) int {
	col, gap, indent, seenText := 0, 0, -1, false
	for i := 0; i < len(line) && col <= width/2; {
		if n := escapeLen(line[i:]); n > 0 {
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		i += size
		if r == ' ' {
			gap++
		} else {
			if seenText && gap >= 2 {
				indent = col
			}
			seenText, gap = true, 0
		}
		col++
	}
	if indent < 0 {
		lead := len(line) - len(strings.TrimLeft(line, " "))
		indent = min(lead+2, width/2)
	}
	return indent
}

// splitAtColumn splits s where col visible columns have been taken.
func splitAtColumn(s string, col int) (string, string) {
	n := 0
	for i := 0; i < len(s); {
		if e := escapeLen(s[i:]); e > 0 {
			i += e
			continue
		}
		if n == col {
			return s[:i], s[i:]
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s, ""
}

// visibleWidth is how many columns s takes on a terminal: its runes, not its colour
// sequences.
func visibleWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if e := escapeLen(s[i:]); e > 0 {
			i += e
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// escapeLen is the length of the ANSI CSI sequence s starts with ("\x1b[31m"), else 0.
func escapeLen(s string) int {
	if len(s) < 2 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; c >= 0x40 && c <= 0x7e {
			return i + 1
		}
	}
	return 0
}
