// Package textfile is the line-preserving core of the netcfg parsers: it reads a small
// configuration file into its lines, remembering whether the last one ended with a
// newline, and writes them back byte for byte, so an edit touches only what it changes.
package textfile

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Lines is a file as lines, without their newlines (a CR before one is kept).
type Lines struct {
	Lines []string
	// NoFinalNewline records that the last line had no newline.
	NoFinalNewline bool
}

// Read reads at most max bytes; a larger input is an error naming what it is.
func Read(r io.Reader, max int64, what string) (Lines, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return Lines{}, fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(b)) > max {
		return Lines{}, fmt.Errorf("%s larger than %d bytes", what, max)
	}
	var l Lines
	text := string(b)
	if text != "" && !strings.HasSuffix(text, "\n") {
		l.NoFinalNewline = true
		text += "\n"
	}
	if text != "" {
		l.Lines = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	}
	return l, nil
}

// Insert puts new lines after line i (-1: at the start; len-1: at the end). Lines added at
// the end end with a newline, as does the line before them.
func (l *Lines) Insert(i int, add ...string) {
	if i == len(l.Lines)-1 {
		l.NoFinalNewline = false
	}
	l.Lines = append(l.Lines[:i+1], append(append([]string(nil), add...), l.Lines[i+1:]...)...)
}

// Write writes the lines back as they were read, plus any inserted.
func (l *Lines) Write(w io.Writer) error {
	var b bytes.Buffer
	for i, s := range l.Lines {
		b.WriteString(s)
		if i < len(l.Lines)-1 || !l.NoFinalNewline {
			b.WriteByte('\n')
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}
