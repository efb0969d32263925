package ansible

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// parseINI reads the INI form: [group], [group:vars] and [group:children] sections; host
// lines "name[:port] key=value ..." (values may be quoted; # starts a comment); hosts before
// any section are "ungrouped".
func (inv *Inventory) parseINI(lines []string) error {
	section, kind := "ungrouped", "hosts"
	for i, raw := range lines {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 || strings.TrimSpace(line[end+1:]) != "" && !isComment(line[end+1:]) {
				return &Error{n, fmt.Sprintf("%q is not a section header ([group], [group:vars] or [group:children])", line)}
			}
			name, k, _ := strings.Cut(line[1:end], ":")
			if name == "" || strings.ContainsAny(name, " \t") {
				return &Error{n, fmt.Sprintf("%q: a group name without spaces is wanted", line)}
			}
			switch k {
			case "":
				k = "hosts"
			case "vars", "children":
			default:
				return &Error{n, fmt.Sprintf("section %q: %q is not vars or children", line, k)}
			}
			section, kind = name, k
			inv.group(section)
			continue
		}
		fields, err := splitFields(line)
		if err != nil {
			return &Error{n, err.Error()}
		}
		if len(fields) == 0 {
			continue
		}
		g := inv.group(section)
		switch kind {
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return &Error{n, fmt.Sprintf("[%s:vars] wants key=value, not %q", section, line)}
			}
			g.Vars[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
		case "children":
			if len(fields) != 1 {
				return &Error{n, fmt.Sprintf("[%s:children] wants one group name per line, not %q", section, line)}
			}
			inv.group(fields[0])
			if !slices.Contains(g.Children, fields[0]) {
				g.Children = append(g.Children, fields[0])
			}
		default:
			if err := inv.iniHost(g, fields, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// iniHost adds one host line's hosts (a range names several) to g, with its variables.
func (inv *Inventory) iniHost(g *Group, fields []string, n int) error {
	vars := map[string]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return &Error{n, fmt.Sprintf("host %s: %q is not key=value", fields[0], f)}
		}
		vars[k] = v
	}
	pattern, port := fields[0], ""
	if i := strings.LastIndexByte(pattern, ':'); i > 0 && !strings.Contains(pattern[i:], "]") && strings.Count(pattern, ":") == 1 {
		pattern, port = pattern[:i], pattern[i+1:]
		if _, err := strconv.Atoi(port); err != nil {
			return &Error{n, fmt.Sprintf("host %s: port %q is not a number", fields[0], port)}
		}
	}
	names, err := expandRange(pattern)
	if err != nil {
		return &Error{n, fmt.Sprintf("host %s: %v", fields[0], err)}
	}
	for _, name := range names {
		h := inv.host(name, n)
		for k, v := range vars {
			h.Vars[k] = v
		}
		if port != "" {
			h.Vars["ansible_port"] = port
		}
		inv.addToGroup(g, name)
	}
	return nil
}

func isComment(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s[0] == '#' || s[0] == ';'
}

// splitFields splits a host line as Ansible's shlex does: on blanks outside quotes, up to
// an unquoted # that starts a word. Quotes are removed.
func splitFields(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return out, nil
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote", quote)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// maxRange bounds what one pattern may expand to: a typo such as [1:100000000] is an
// error, not a hang.
const maxRange = 10000

// expandRange expands Ansible's host ranges: was[1:3], web[01:10:2].example.com, db-[a:c].
func expandRange(pattern string) ([]string, error) {
	open := strings.IndexByte(pattern, '[')
	if open < 0 {
		return []string{pattern}, nil
	}
	end := strings.IndexByte(pattern[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("unclosed [ in a host range")
	}
	end += open
	parts := strings.Split(pattern[open+1:end], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("a host range is [START:END] or [START:END:STEP]")
	}
	step := 1
	if len(parts) == 3 {
		s, err := strconv.Atoi(parts[2])
		if err != nil || s < 1 {
			return nil, fmt.Errorf("range step %q is not a positive number", parts[2])
		}
		step = s
	}
	var items []string
	if a, errA := strconv.Atoi(parts[0]); errA == nil {
		b, err := strconv.Atoi(parts[1])
		if err != nil || b < a || a < 0 {
			return nil, fmt.Errorf("range %s:%s is not from a smaller number to a larger", parts[0], parts[1])
		}
		if (b-a)/step >= maxRange {
			return nil, fmt.Errorf("range %s:%s names more than %d hosts", parts[0], parts[1], maxRange)
		}
		width := 0
		if len(parts[0]) > 1 && parts[0][0] == '0' {
			width = len(parts[0])
		}
		for i := a; i <= b; i += step {
			items = append(items, fmt.Sprintf("%0*d", width, i))
		}
	} else {
		if len(parts[0]) != 1 || len(parts[1]) != 1 || parts[0] > parts[1] {
			return nil, fmt.Errorf("range %s:%s is neither numbers nor two letters in order", parts[0], parts[1])
		}
		for c := parts[0][0]; c <= parts[1][0]; c += byte(step) {
			items = append(items, string(c))
			if int(c)+step > 255 {
				break
			}
		}
	}
	rest, err := expandRange(pattern[end+1:])
	if err != nil {
		return nil, err
	}
	if len(items)*len(rest) > maxRange {
		return nil, fmt.Errorf("the ranges name more than %d hosts", maxRange)
	}
	var out []string
	for _, it := range items {
		for _, r := range rest {
			out = append(out, pattern[:open]+it+r)
		}
	}
	return out, nil
}
