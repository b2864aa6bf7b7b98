//go:build unix

package pack

import "syscall"

// cpuSeconds is the user+system CPU time of this process so far. On a
// shared, loaded machine wall-clock throughput mostly measures the other
// jobs; throughput per CPU-second measures the work.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
