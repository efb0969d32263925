package tomcat

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// MaxShellSize bounds a sourced shell file such as bin/setenv.sh.
const MaxShellSize = 1 << 20

// ShellVars are the variables a shell file that catalina.sh sources (bin/setenv.sh) or
// that a service reads (/etc/default/tomcat10) leaves set, as far as they can be known
// without running anything: top-level assignments, in order, each expanded with what came
// before. Assignments inside conditionals and values from command substitutions are not
// taken, and are listed in Skipped.
type ShellVars struct {
	File string
	Vars map[string]ShellVar
	// Exported are the variables an export statement names (export NAME=value, or a
	// plain export NAME): what a program the file's shell starts gets in its environment.
	Exported map[string]bool
	Skipped  []string
}

// ShellVar is a variable's last top-level value and the line that set it.
type ShellVar struct {
	Value string
	Line  int
}

// ParseShell reads a shell file; env holds the variables already set when it is sourced.
func ParseShell(r io.Reader, file string, env map[string]string) (*ShellVars, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxShellSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxShellSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", file, MaxShellSize)
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(string(b)), file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	sv := &ShellVars{File: file, Vars: map[string]ShellVar{}, Exported: map[string]bool{}}
	known := func(name string) string {
		if v, ok := sv.Vars[name]; ok {
			return v.Value
		}
		return env[name]
	}
	cfg := &expand.Config{Env: expand.FuncEnviron(known)}
	for _, st := range f.Stmts {
		exported := isExport(st)
		for _, as := range assignments(st) {
			line := int(as.Pos().Line())
			if as.Name == nil || as.Array != nil || as.Index != nil {
				continue
			}
			name := as.Name.Value
			if exported {
				sv.Exported[name] = true
			}
			if as.Naked {
				continue // "export NAME" exports the value it has; it sets none
			}
			val := ""
			if as.Value != nil {
				v, err := expand.Literal(cfg, as.Value)
				if err != nil {
					var ue expand.UnexpectedCommandError
					if errors.As(err, &ue) {
						sv.Skipped = append(sv.Skipped, fmt.Sprintf("%s:%d: %s is set by a command substitution, which is not run", file, line, name))
					} else {
						sv.Skipped = append(sv.Skipped, fmt.Sprintf("%s:%d: %s: %v", file, line, name, err))
					}
					continue
				}
				val = v
			}
			if as.Append {
				val = known(name) + val
			}
			sv.Vars[name] = ShellVar{Value: val, Line: line}
		}
		if st.Cmd != nil && containsAssignment(st.Cmd) && len(assignments(st)) == 0 {
			sv.Skipped = append(sv.Skipped, fmt.Sprintf("%s:%d: assignments inside a compound command are not evaluated", file, st.Pos().Line()))
		}
	}
	return sv, nil
}

// assignments returns the assignments of a plain "NAME=value" statement or of
// "export/declare/readonly NAME=value".
func assignments(st *syntax.Stmt) []*syntax.Assign {
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		if len(c.Args) == 0 {
			return c.Assigns
		}
	case *syntax.DeclClause:
		switch c.Variant.Value {
		case "export", "declare", "typeset", "readonly", "local":
			return c.Args
		}
	}
	return nil
}

// isExport reports whether a statement is an export clause.
func isExport(st *syntax.Stmt) bool {
	c, ok := st.Cmd.(*syntax.DeclClause)
	return ok && c.Variant.Value == "export"
}

func containsAssignment(n syntax.Node) bool {
	found := false
	syntax.Walk(n, func(n syntax.Node) bool {
		if _, ok := n.(*syntax.Assign); ok {
			found = true
		}
		return !found
	})
	return found
}

// JavaArgs splits option strings the way catalina.sh hands them to java: its final
// "eval exec java ... $JAVA_OPTS $CATALINA_OPTS ..." re-reads them as shell words, so
// quotes inside the values group words and are removed.
func JavaArgs(env map[string]string, opts ...string) ([]string, error) {
	cfg := &expand.Config{Env: expand.FuncEnviron(func(n string) string { return env[n] })}
	var out []string
	for _, o := range opts {
		var words []*syntax.Word
		for w, err := range syntax.NewParser().WordsSeq(strings.NewReader(o)) {
			if err != nil {
				return nil, err
			}
			words = append(words, w)
		}
		fields, err := expand.Fields(cfg, words...)
		if err != nil {
			return nil, err
		}
		out = append(out, fields...)
	}
	return out, nil
}

// SystemProperties picks the -Dname=value options out of a java command line, in order
// (a later one wins, as in the JVM).
func SystemProperties(args []string) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		if !strings.HasPrefix(a, "-D") || len(a) < 3 {
			continue
		}
		k, v, _ := strings.Cut(a[2:], "=")
		out[k] = v
	}
	return out
}
