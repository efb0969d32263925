package tomcat

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"
)

// TestContentSameForWARAndDirectory: a WAR and the directory Tomcat unpacks it to have
// one digest; a jar that differs is named by its fingerprint, a class by its path.
func TestContentSameForWARAndDirectory(t *testing.T) {
	files := map[string]string{
		"WEB-INF/web.xml":                 "<web-app/>",
		"WEB-INF/classes/shop/Cart.class": "cafebabe cart v1",
		"WEB-INF/classes/app.properties":  "a=1",
		"WEB-INF/lib/commons-lang3-3.jar": "jar bytes",
		"WEB-INF/lib/shop-model-1.0.jar":  "model v1",
		"index.jsp":                       "<%= 1 %>",
	}
	dir := t.TempDir()
	war := filepath.Join(dir, "shop.war")
	unpacked := filepath.Join(dir, "shop")
	f, _ := os.Create(war)
	z := zip.NewWriter(f)
	for name, body := range files {
		w, _ := z.Create(name)
		w.Write([]byte(body))
		p := filepath.Join(unpacked, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	z.Close()
	f.Close()
	fromWAR, fromDir := map[string]string{}, map[string]string{}
	if _, err := warFingerprints(war, fromWAR); err != nil {
		t.Fatal(err)
	}
	if _, err := dirFingerprints(unpacked, fromDir); err != nil {
		t.Fatal(err)
	}
	a, b := summarize(fromWAR, ""), summarize(fromDir, "")
	if a.Digest != b.Digest || a.Files != 4 || len(a.Libs) != 2 || len(a.Classes) != 2 {
		t.Fatalf("WAR %+v, directory %+v", a, b)
	}
	os.WriteFile(filepath.Join(unpacked, "WEB-INF/lib/shop-model-1.0.jar"), []byte("model v2"), 0o644)
	os.WriteFile(filepath.Join(unpacked, "WEB-INF/classes/shop/Cart.class"), []byte("cafebabe cart v2"), 0o644)
	changed := map[string]string{}
	dirFingerprints(unpacked, changed)
	c := summarize(changed, "")
	if c.Digest == a.Digest || c.Libs["shop-model-1.0.jar"] == a.Libs["shop-model-1.0.jar"] || c.Libs["commons-lang3-3.jar"] != a.Libs["commons-lang3-3.jar"] ||
		c.Classes["shop/Cart.class"] == a.Classes["shop/Cart.class"] || c.ClassesDigest == a.ClassesDigest {
		t.Errorf("changed: %+v\nwas %+v", c, a)
	}
}

// TestContentReadsOnlyWhatChanged: a second fingerprint of an unchanged directory reads no
// file (the agent runs preflight every interval); a file rewritten with the same size and
// mtime is read again and its new fingerprint taken.
func TestContentReadsOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "WEB-INF", "lib")
	os.MkdirAll(lib, 0o755)
	for _, name := range []string{"a.jar", "b.jar"} {
		os.WriteFile(filepath.Join(lib, name), []byte("version 1 of "+name), 0o644)
	}
	first := map[string]string{}
	dirFingerprints(dir, first)
	before := fileReads.Load()
	again := map[string]string{}
	dirFingerprints(dir, again)
	if fileReads.Load() != before || again["WEB-INF/lib/a.jar"] != first["WEB-INF/lib/a.jar"] {
		t.Errorf("unchanged files read again (%d reads) or fingerprinted otherwise: %v, %v", fileReads.Load()-before, first, again)
	}
	p := filepath.Join(lib, "b.jar")
	st, _ := os.Stat(p)
	os.WriteFile(p, []byte("version 2 of b.jar"), 0o644)
	os.Chtimes(p, st.ModTime(), st.ModTime()) // same size, same mtime: only ctime tells
	changed := map[string]string{}
	dirFingerprints(dir, changed)
	if fileReads.Load() != before+1 || changed["WEB-INF/lib/b.jar"] == first["WEB-INF/lib/b.jar"] || changed["WEB-INF/lib/a.jar"] != first["WEB-INF/lib/a.jar"] {
		t.Errorf("after b.jar changed: %d reads, %v (was %v)", fileReads.Load()-before, changed, first)
	}
}
