// Package imageutil is the image code shared by the stages that touch
// pictures (ingest, filter, dedup, pack): decoding that looks at an image's
// declared size before it allocates anything (decompression bombs),
// img2dataset's resize modes (a plane resampler of its own for the
// bilinear and Catmull-Rom kernels, golang.org/x/image/draw for
// approx_bilinear), JPEG re-encoding, a luminance grid for perceptual
// hashes and small inline thumbnails for reports.
//
// Formats: JPEG, PNG, GIF (first frame) and WebP. Every function takes bytes
// and returns errors; none panics on bad input (the fuzz target checks).
package imageutil
