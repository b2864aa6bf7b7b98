// Package ingest holds the readers that turn input files and streams into
// flow.Records: WARC/WET, JSONL, plain text, image–text tables, WebDataset.
package ingest
