package remote

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// stageScript makes a private directory where a program may run (the first of $TMPDIR or
// /tmp, /var/tmp and $HOME that is not mounted noexec), writes standard input to
// clusterdoctor there, and prints the directory and the file's sha256.
const stageScript = `umask 077
for base in "${TMPDIR:-/tmp}" /var/tmp "$HOME"; do
  d=$(mktemp -d "$base/clusterdoctor.XXXXXXXX" 2>/dev/null) || continue
  printf '#!/bin/sh\nexit 0\n' > "$d/try" && chmod 700 "$d/try" && "$d/try" 2>/dev/null && rm -f "$d/try" && break
  rm -rf -- "$d"; d=
done
if [ -z "$d" ]; then echo "no directory where a copied program may run (mktemp failed or every candidate is noexec)" >&2; exit 97; fi
cat > "$d/clusterdoctor" && chmod 700 "$d/clusterdoctor" || { rm -rf -- "$d"; exit 98; }
echo "$d"; sha256sum "$d/clusterdoctor" | cut -d' ' -f1`

// stage copies this binary to a private directory on the host and verifies its checksum.
func (s *Session) stage(ctx context.Context, sum string) error {
	f, err := os.Open(s.c.Self.Path) // streamed: the seat holds no copy per host
	if err != nil {
		return fmt.Errorf("read %s to copy it: %w", s.c.Self.Path, err)
	}
	defer f.Close()
	out, errOut, code, err := s.shell(ctx, stageScript, f)
	if err != nil {
		return err
	}
	lines := strings.Fields(string(out))
	if len(lines) >= 1 && strings.HasPrefix(lines[0], "/") {
		s.Staged = lines[0] // removed by Close whatever follows
	}
	if code != 0 || len(lines) != 2 {
		return &Unreachable{Host: s.Target.Name, Reason: "copying clusterdoctor there failed: " + lastLine(errOut, fmt.Sprintf("exit %d", code)),
			Hint: "install the clusterdoctor package on the host"}
	}
	if lines[1] != sum {
		return &Unreachable{Host: s.Target.Name, Reason: fmt.Sprintf("the copy of clusterdoctor there has sha256 %s, not %s", lines[1], sum),
			Hint: "the transfer was altered: check the host's disk space and what runs in its login shell"}
	}
	s.Bin = s.Staged + "/clusterdoctor"
	return nil
}
