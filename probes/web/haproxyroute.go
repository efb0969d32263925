package web

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/netcfg/haproxy"
)

// HAProxy's choice of backend for a request, as its frontends make it: the first
// use_backend whose condition holds, else default_backend. Conditions are modelled for
// the ACLs that route by path and host (path, path_beg, path_end, path_sub, path_dir,
// hdr(host) and its _beg, _end, _dom and _sub forms, -i, named and anonymous ACLs, !, or
// and ||); anything else is said to be unmodelled, and --member names the members.

// bindPorts are the ports a frontend's or listen's bind lines take (":80", "*:80",
// "10.0.0.1:80", "ipv4@:80", "10.0.0.1:8080-8082", several after commas).
func bindPorts(s *haproxy.Section) []int {
	var out []int
	for _, l := range s.All("bind") {
		args := l.Args()
		if len(args) == 0 {
			continue
		}
		for _, a := range strings.Split(args[0], ",") {
			if i := strings.Index(a, "@"); i >= 0 {
				a = a[i+1:]
			}
			_, port, err := net.SplitHostPort(a)
			if err != nil {
				continue
			}
			from, to, isRange := strings.Cut(port, "-")
			lo, err1 := strconv.Atoi(from)
			hi := lo
			if isRange {
				hi, _ = strconv.Atoi(to)
			}
			for p := lo; err1 == nil && p <= hi && p-lo < 1024; p++ {
				out = appendNew(out, p)
			}
		}
	}
	return out
}

// hapRequest is what a condition is evaluated on.
type hapRequest struct {
	host string // the Host header, as the client sends it (with a port that is not 80)
	path string
}

// backendFor is the proxy section HAProxy gives a request on port to: known is false
// when a condition it meets is not modelled (why says which).
func (c *haproxyConfig) backendFor(port int, r hapRequest) (be *haproxy.Section, known bool, why string) {
	for _, fe := range append(c.cfg.Of("frontend"), c.cfg.Of("listen")...) {
		if !slices.Contains(bindPorts(fe), port) {
			continue
		}
		if fe.Kind == "listen" && len(fe.All("server")) > 0 && len(fe.All("use_backend")) == 0 && len(fe.All("default_backend")) == 0 {
			return fe, true, ""
		}
		acls := c.acls(fe)
		for _, l := range fe.All("use_backend") {
			args := l.Args()
			if len(args) == 0 {
				continue
			}
			holds, ok, what := evalCondition(args[1:], acls, r)
			if !ok {
				return nil, false, fmt.Sprintf("%s %s decides by %s (%s), which is not modelled: name the members with --member", fe.Kind, fe.Name, what, c.where(fe, l.Line))
			}
			if holds {
				return c.cfg.Section([]string{"backend", "listen"}, args[0]), true, ""
			}
		}
		if l, ok := fe.Last("default_backend"); ok && len(l.Args()) > 0 {
			return c.cfg.Section([]string{"backend", "listen"}, l.Args()[0]), true, ""
		}
		if fe.Kind == "listen" && len(fe.All("server")) > 0 {
			return fe, true, ""
		}
		return nil, true, fmt.Sprintf("%s %s takes port %d but sends the request to no backend", fe.Kind, fe.Name, port)
	}
	return nil, true, ""
}

// acls are a frontend's named ACLs: every line of one name counts (they are ORed).
func (c *haproxyConfig) acls(fe *haproxy.Section) map[string][][]string {
	out := map[string][][]string{}
	for _, l := range fe.All("acl") {
		if args := l.Args(); len(args) >= 2 {
			out[args[0]] = append(out[args[0]], args[1:])
		}
	}
	return out
}

// evalCondition evaluates "if|unless TERMS": terms are ANDed, "or"/"||" separate ORed
// groups; a term is [!]NAME or [!]{ CRITERION VALUES }. No condition holds.
func evalCondition(words []string, acls map[string][][]string, r hapRequest) (holds, known bool, what string) {
	if len(words) == 0 {
		return true, true, ""
	}
	negate := false
	switch words[0] {
	case "if":
	case "unless":
		negate = true
	default:
		return false, false, strings.Join(words, " ")
	}
	words = words[1:]
	any, all := false, true
	for len(words) > 0 {
		w := words[0]
		if w == "or" || w == "||" {
			any = any || all
			all = true
			words = words[1:]
			continue
		}
		not := strings.HasPrefix(w, "!")
		w = strings.TrimPrefix(w, "!")
		if w == "" && len(words) > 1 { // "! name"
			words = words[1:]
			w = words[0]
		}
		var v, ok bool
		var what string
		if w == "{" {
			end := slices.Index(words, "}")
			if end < 0 {
				return false, false, "an anonymous ACL without its closing brace"
			}
			v, ok, what = evalACL(words[1:end], r)
			words = words[end+1:]
		} else {
			defs, found := acls[w]
			if !found {
				return false, false, "ACL " + w + ", which is not defined in the frontend"
			}
			for _, d := range defs {
				m, dok, dwhat := evalACL(d, r)
				if !dok {
					return false, false, dwhat
				}
				v = v || m
			}
			ok = true
			words = words[1:]
		}
		if !ok {
			return false, false, what
		}
		all = all && (v != not)
	}
	holds = any || all
	return holds != negate, true, ""
}

// evalACL evaluates one ACL: CRITERION [-i] [-m beg|end|dom|sub|str] VALUES...
func evalACL(words []string, r hapRequest) (holds, known bool, what string) {
	if len(words) == 0 {
		return false, false, "an empty ACL"
	}
	crit, rest := strings.ToLower(words[0]), words[1:]
	fold, match := false, ""
	var values []string
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case "-i":
			fold = true
		case "-m":
			if i+1 < len(rest) {
				match = rest[i+1]
				i++
			}
		case "--":
		default:
			values = append(values, rest[i])
		}
	}
	var subject string
	switch {
	case strings.HasPrefix(crit, "path"):
		subject = r.path
		if m, ok := strings.CutPrefix(crit, "path_"); ok {
			match = m
		} else if crit == "path" && match == "" {
			match = "str"
		}
	case strings.HasPrefix(crit, "hdr") || strings.HasPrefix(crit, "req.hdr"):
		name, form := headerCriterion(crit)
		if name != "host" {
			return false, false, "criterion " + words[0]
		}
		subject, fold = r.host, true // header values compared as HAProxy's hdr does; host names fold
		if form != "" {
			match = form
		} else if match == "" {
			match = "str"
		}
	default:
		return false, false, "criterion " + words[0]
	}
	if fold {
		subject = strings.ToLower(subject)
	}
	for _, v := range values {
		if fold {
			v = strings.ToLower(v)
		}
		ok, known := matches(match, subject, v)
		if !known {
			return false, false, "match -m " + match
		}
		if ok {
			return true, true, ""
		}
	}
	return false, true, ""
}

// headerCriterion splits hdr_beg(host) into the header's name and the match form.
func headerCriterion(crit string) (name, form string) {
	open, close := strings.Index(crit, "("), strings.LastIndex(crit, ")")
	if open < 0 || close < open {
		return "", ""
	}
	name = strings.ToLower(strings.TrimSpace(strings.Split(crit[open+1:close], ",")[0]))
	head := strings.TrimPrefix(crit[:open], "req.")
	form, _ = strings.CutPrefix(head, "hdr_")
	if form == "hdr" {
		form = ""
	}
	return name, form
}

// matches applies one of HAProxy's match methods (-m str|beg|end|sub|dir|dom).
func matches(method, subject, v string) (ok, known bool) {
	switch method {
	case "str":
		return subject == v, true
	case "beg":
		return strings.HasPrefix(subject, v), true
	case "end":
		return strings.HasSuffix(subject, v), true
	case "sub":
		return strings.Contains(subject, v), true
	case "dir", "dom":
		sep := "/"
		if method == "dom" {
			sep = "."
		}
		for _, part := range strings.FieldsFunc(subject, func(r rune) bool { return string(r) == sep || (method == "dom" && r == ':') }) {
			if part == strings.Trim(v, sep) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}
