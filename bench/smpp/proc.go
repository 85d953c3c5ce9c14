package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procUsage is what a process has spent so far: CPU time (user and
// system, from /proc/PID/stat, in clock ticks of 10ms) and read/write
// system calls (/proc/PID/io).
type procUsage struct {
	cpu      time.Duration
	syscalls int64
}

func (u procUsage) since(before procUsage) procUsage {
	return procUsage{cpu: u.cpu - before.cpu, syscalls: u.syscalls - before.syscalls}
}

// readProc reads the usage of process pid; zero when /proc cannot tell.
func readProc(pid int) procUsage {
	var u procUsage
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name, which may hold spaces: state is
		// field 3, utime 14, stime 15.
		if i := bytes.LastIndexByte(b, ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				u.cpu = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
			}
		}
	}
	if f, err := os.Open(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ": ")
			if k == "syscr" || k == "syscw" {
				n, _ := strconv.ParseInt(v, 10, 64)
				u.syscalls += n
			}
		}
	}
	return u
}
