package container

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// joined are the namespaces a command started in a node shares with it: the network (its
// interfaces, routes, sockets, rule sets) and UTS (its host name, as getLocalHost() reads
// it). Not the mount namespace, which a threaded process cannot join: its files are read
// through /proc/PID/root.
var joined = []struct {
	name string
	flag int
}{{"net", unix.CLONE_NEWNET}, {"uts", unix.CLONE_NEWUTS}}

// StartIn starts cmd in the network and UTS namespaces of pid, as `nsenter --net --uts
// --target PID` does: the calling goroutine's thread joins them, forks the command (which
// inherits them) and returns to its own. A thread that cannot return is never reused.
func StartIn(pid int, cmd *exec.Cmd) error {
	var theirs, ours []*os.File
	defer func() {
		for _, f := range append(theirs, ours...) {
			f.Close()
		}
	}()
	for _, ns := range joined {
		t, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name))
		if err != nil {
			return fmt.Errorf("open the %s namespace of pid %d: %w", ns.name, pid, err)
		}
		theirs = append(theirs, t)
		o, err := os.Open("/proc/thread-self/ns/" + ns.name)
		if err != nil {
			return fmt.Errorf("open this thread's %s namespace: %w", ns.name, err)
		}
		ours = append(ours, o)
	}
	runtime.LockOSThread()
	for i, ns := range joined {
		if err := unix.Setns(int(theirs[i].Fd()), ns.flag); err != nil {
			if restore(ours[:i]) {
				runtime.UnlockOSThread()
			}
			return fmt.Errorf("join the %s namespace of pid %d: %w", ns.name, pid, err)
		}
	}
	err := cmd.Start()
	if restore(ours) {
		runtime.UnlockOSThread()
	} // else the thread stays locked and ends with this goroutine
	if err != nil {
		return fmt.Errorf("start %s in the namespaces of pid %d: %w", cmd.Path, pid, err)
	}
	return nil
}

// restore returns the thread to the namespaces in ours; false when it could not.
func restore(ours []*os.File) bool {
	ok := true
	for i, f := range ours {
		if unix.Setns(int(f.Fd()), joined[i].flag) != nil {
			ok = false
		}
	}
	return ok
}
