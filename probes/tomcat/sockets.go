package tomcat

import (
	"context"

	"github.com/clusterdoctor/clusterdoctor/probes/ports"
)

// Listener is a TCP socket a running instance listens on.
type Listener = ports.Holder

// Listening lists the TCP sockets the running instance holds open for listening, read
// once per run: the kernel's word on what Tomcat really bound (the receiver's address
// and port after autoBind, the connectors). Empty when the instance does not run.
func (in *Instance) Listening(ctx context.Context) ([]Listener, error) {
	in.socketsOnce.Do(func() {
		if in.PID <= 0 {
			return
		}
		all, err := ports.Listening(ctx, in.env, func(int) bool { return true }, in.PID)
		if err != nil {
			in.socketsError = err
			return
		}
		for _, h := range all {
			if h.PID == in.PID {
				in.sockets = append(in.sockets, h)
			}
		}
	})
	return in.sockets, in.socketsError
}
