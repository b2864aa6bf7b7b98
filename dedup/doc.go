// Package dedup removes duplicates within a corpus (exact, line/span, MinHash,
// image perceptual hashes) and test-set leakage against downstream test sets,
// and models the leakage audit report.
package dedup
