package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/corpusflow/corpusflow/flow"
)

func init() {
	register(command{name: "version", summary: "print the version", run: runVersion})
}

func runVersion(args []string) int {
	rev := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " (" + s.Value[:12] + ")"
			}
		}
	}
	fmt.Printf("corpusflow %s%s %s %s/%s\n", flow.Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
