// Package ingest holds the readers that turn input files and streams into
// flow.Records: WARC/WET, JSONL, plain text, image–text tables, COCO
// captions, WebDataset shards and img2dataset folders.
//
// Image–text records carry the caption in Record.Text, so every text filter
// applies to captions unchanged, and the image in Record.Fields: "image"
// ([]byte, encoded as read or downloaded), "image_path" (string, local
// file or tar member), "image_url" (string, also Record.URL). Later stages
// add "width", "height", "original_width", "original_height",
// "image_format" (filter.image_decode) and "image_hash",
// "image_hash_mirror", "image_hash_algo" (dedup.image_hash). Downloading
// (fetch: {download: true}) is in imagefetch.go: bounded concurrency, timeouts, a
// size cap, retries, X-Robots-Tag opt-outs and no private addresses.
package ingest
