package pack

import "github.com/corpusflow/corpusflow/internal/atomicfile"

// Shards and manifests are written through internal/atomicfile: a
// temporary file in the directory, synced, made 0644, renamed, the
// directory synced. Its temporaries start with tempPrefix, so a reader
// never mistakes one for a shard, and a fresh or resumed run sweeps up what
// a crash left behind.
const tempPrefix = atomicfile.TempPrefix

// isTemp reports whether a directory entry is one of those temporaries.
func isTemp(name string) bool { return atomicfile.IsTemp(name) }
