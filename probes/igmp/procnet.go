package igmp

import (
	"bufio"
	"io"
	"strings"
)

// KernelQuerierVersion reads /proc/net/igmp's Querier column for iface: "V1" or "V2"
// while the kernel has heard an IGMPv1 or v2 query recently (RFC 3376's Older Version
// Querier Present timeout) or is forced to that version, else "V3", which it says both for
// an IGMPv3 querier and for none at all. Empty: iface is not listed.
func KernelQuerierVersion(r io.Reader, iface string) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '\t' || line[0] == ' ' {
			continue // a group line of the device above
		}
		dev, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(dev)
		if len(f) != 2 || f[1] != iface {
			continue
		}
		if cols := strings.Fields(rest); len(cols) >= 2 {
			return cols[1]
		}
	}
	return ""
}
