package tomcat

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// Version is a Tomcat release number, 10.1.60 say.
type Version struct {
	Major, Minor, Patch int
}

// IsZero reports whether the version is unknown.
func (v Version) IsZero() bool { return v == Version{} }

func (v Version) String() string {
	if v.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Series is "10.1": releases of one series share their features.
func (v Version) Series() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less orders versions.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)`)

// ParseVersion finds the first N.N.N in s ("10.1.60.0", "Apache Tomcat/9.0.85").
func ParseVersion(s string) (Version, bool) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	c, _ := strconv.Atoi(m[3])
	return Version{a, b, c}, true
}

// Since is a change that reached each series at a given release: series listed map to the
// first release that has it; a series newer than every listed one has it from its first
// release, an older or unlisted one in between does not have it.
type Since map[string]int

// In reports whether v has the change.
func (s Since) In(v Version) bool {
	if p, ok := s[v.Series()]; ok {
		return v.Patch >= p
	}
	newest := Version{}
	for series := range s {
		sv, _ := ParseVersion(series + ".0")
		if newest.Less(sv) {
			newest = sv
		}
	}
	return newest.Less(Version{v.Major, v.Minor, 0})
}

// Facts about releases, read from the apache/tomcat tags and changelogs.
var (
	// ajpLoopback: the AJP connector listens on loopback and requires a secret by default
	// (CVE-2020-1938, "Ghostcat").
	ajpLoopback = Since{"7.0": 100, "8.5": 51, "9.0": 31, "10.0": 0}
	// portOffset: <Server portOffset> shifts the shutdown port and every connector's.
	portOffset = Since{"8.5": 76, "9.0": 13}
	// noJvmRouteProperty: StandardEngine no longer takes its jvmRoute from the jvmRoute
	// system property (-DjvmRoute) when the Engine sets none (10.1.0-M17, changelog
	// "Remove the jvmRoute system property").
	noJvmRouteProperty = Since{"10.1": 0}
	// encryptReplay: EncryptInterceptor's replay protection, a change of its wire format.
	encryptReplay = Since{"9.0": 119, "10.1": 56, "11.0": 23}
	// encryptGCM: EncryptInterceptor's default encryptionAlgorithm becomes
	// AES/GCM/NoPadding (was AES/CBC/PKCS5Padding), another break between nodes.
	encryptGCM = Since{"9.0": 121, "10.1": 58, "11.0": 25}
)

// serverInfo is where catalina.jar keeps the version Tomcat reports.
const serverInfo = "org/apache/catalina/util/ServerInfo.properties"

// maxServerInfo bounds that entry; it is a few hundred bytes.
const maxServerInfo = 64 << 10

// readVersion reads the version of the Tomcat in home (CATALINA_HOME): server.number in
// lib/catalina.jar's ServerInfo.properties, the file Tomcat itself reads. An override in
// CATALINA_BASE/lib, which admins add to hide the version from error pages, is not what
// is installed and is not read. Else the RELEASE-NOTES of a tarball install.
func readVersion(env *probes.Env, home string) (Version, string, error) {
	jar := filepath.Join(home, "lib", "catalina.jar")
	v, err := versionFromJar(env.HostPath(jar))
	if err == nil {
		return v, jar, nil
	}
	notes := filepath.Join(home, "RELEASE-NOTES")
	if nv, nerr := versionFromNotes(env.HostPath(notes)); nerr == nil {
		return nv, notes, nil
	}
	return Version{}, "", fmt.Errorf("%s: %w", jar, err)
}

func versionFromJar(path string) (Version, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return Version{}, err
	}
	defer z.Close()
	f, err := z.Open(serverInfo)
	if err != nil {
		return Version{}, fmt.Errorf("no %s in it", serverInfo)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxServerInfo))
	if err != nil {
		return Version{}, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if num, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "server.number="); ok {
			if v, ok := ParseVersion(num); ok {
				return v, nil
			}
		}
	}
	return Version{}, fmt.Errorf("no server.number in %s", serverInfo)
}

// versionFromNotes reads "Apache Tomcat Version 9.0.85" from RELEASE-NOTES (or the
// gzipped copy a distribution keeps under /usr/share/doc).
func versionFromNotes(path string) (Version, error) {
	f, err := os.Open(path)
	if err != nil {
		return Version{}, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return Version{}, err
		}
		r = gz
	}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "Apache Tomcat Version "); ok {
			if v, ok := ParseVersion(rest); ok {
				return v, nil
			}
		}
	}
	return Version{}, fmt.Errorf("no version line")
}
