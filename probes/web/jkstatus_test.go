package web

import (
	"strings"
	"testing"
)

// jkStatusSample is the shape of mod_jk's status worker answering ?mime=prop.
const jkStatusSample = "worker.result.type=OK\nworker.result.message=Action finished\nworker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=tomcat1,tomcat2,tomcat3\n" +
	"worker.tomcat1.type=ajp13\nworker.tomcat1.activation=ACT\nworker.tomcat1.state=OK/IDLE\n" +
	"worker.tomcat2.type=ajp13\nworker.tomcat2.activation=DIS\nworker.tomcat2.state=OK\n" +
	"worker.tomcat3.type=ajp13\nworker.tomcat3.activation=ACT\nworker.tomcat3.state=ERR\n"

func TestParseJKStatus(t *testing.T) {
	got, err := parseJKStatus(strings.NewReader(jkStatusSample))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"tomcat1": "", "tomcat2": "disabled (DIS", "tomcat3": "in error (ERR"} {
		st := got[name]
		if !strings.HasPrefix(st.String(), want) || st.sends() != (want == "") {
			t.Errorf("%s = %+v (%q, sends %v); want %q", name, st, st, st.sends(), want)
		}
	}
	if _, err := parseJKStatus(strings.NewReader("<html>not found</html>")); err == nil {
		t.Error("an answer that is not a status worker's parsed")
	}
}

// FuzzParseJKStatus: any answer gives states or an error.
func FuzzParseJKStatus(f *testing.F) {
	f.Add(jkStatusSample)
	f.Fuzz(func(t *testing.T, in string) { parseJKStatus(strings.NewReader(in)) })
}
