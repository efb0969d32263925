package tomcat

import (
	"strings"
	"testing"
)

// TestDeclaredEncodings: a document is read in the encoding its declaration names, as
// the JVM's parser reads it; one Java would not read is a clear error with the line.
func TestDeclaredEncodings(t *testing.T) {
	doc := func(enc, text string) string {
		return "<?xml version=\"1.0\" encoding=\"" + enc + "\"?>\n<web-app>\n  <display-name>" + text + "</display-name>\n  <distributable/>\n</web-app>\n"
	}
	for _, c := range []struct{ name, src, want, err string }{
		{"ISO-8859-1", doc("ISO-8859-1", "Caf\xe9"), "Café", ""},
		{"latin1 in lower case", doc("iso-8859-1", "Caf\xe9"), "Café", ""},
		{"windows-1252", doc("windows-1252", "\x93quoted\x94"), "\u201cquoted\u201d", ""},
		{"EUC-KR", doc("EUC-KR", "\xc7\xd1"), "한", ""},
		{"US-ASCII", doc("US-ASCII", "plain"), "plain", ""},
		{"UTF-8", doc("UTF-8", "Café"), "Café", ""},
		{"unknown", doc("x-no-such", "x"), "", `encoding "x-no-such": not one Java reads`},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, err := ParseWebXML(strings.NewReader(c.src), "web.xml")
			root, _ := ParseXML(strings.NewReader(c.src), "web.xml", nil)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "web.xml:") {
					t.Fatalf("err = %v; want web.xml:LINE: ... %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !w.Distributable {
				t.Errorf("distributable not read")
			}
			if got := root.Children[0].Text; got != c.want {
				t.Errorf("display-name = %q; want %q", got, c.want)
			}
		})
	}
}
