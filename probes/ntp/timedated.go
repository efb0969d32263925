package ntp

import (
	"context"
	"fmt"

	"github.com/clusterdoctor/clusterdoctor/probes"
)

// timedatedSynced asks systemd-timedated (timedatectl show -p NTPSynchronized).
func timedatedSynced(ctx context.Context, env *probes.Env) (bool, error) {
	if env.SystemBus == nil {
		return false, fmt.Errorf("no system bus")
	}
	conn, err := env.SystemBus(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	v, err := conn.Object("org.freedesktop.timedate1", "/org/freedesktop/timedate1").
		GetProperty("org.freedesktop.timedate1.NTPSynchronized")
	if err != nil {
		return false, fmt.Errorf("timedated: %w", err)
	}
	synced, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("timedated: NTPSynchronized is %s, not a boolean", v.Signature())
	}
	return synced, nil
}
