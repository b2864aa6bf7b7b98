// Package ingest holds the readers that turn input files and streams into
// flow.Records: WARC/WET, JSONL, plain text, image–text tables, WebDataset.
//
// # Text sources
//
// Three sources are registered (see pipelines/README.md for every
// parameter):
//
//   - warc: WARC 1.0/1.1 and the older 0.17/0.18 files, plain, gzip (one or
//     many members) or zstd. Common Crawl WET "conversion" records become
//     documents as they are; "response" records have their HTTP message
//     parsed (chunked transfer coding, gzip/deflate/br/zstd content coding),
//     are decoded to UTF-8 (byte order mark, Content-Type charset, <meta>,
//     else UTF-8 when valid, else windows-1252) and their main text is
//     extracted with go-trafilatura, the Go port of the extractor FineWeb
//     uses (favor precision, no comments, deduplicate). "resource" records
//     (HTML or plain text) on request.
//   - jsonl: JSON lines, plain, gzip or zstd; text, id, url and timestamp
//     fields are configurable and may be dotted paths into nested objects.
//   - text: plain text files, one document per file, per blank-line
//     separated block, or per line.
//
// Compression is recognised by magic bytes, not file names. A path is a
// file, a directory (files below it with the source's extensions) or a glob
// with ** for any depth; files are read in sorted order, one part each, so
// the engine reads several at once and output stays the same.
//
// # Records
//
// Record.ID is the WARC-Record-ID (as written, "<urn:uuid:…>"), the JSONL
// id field, or FILE:LINE (FILE relative to the input's root); the text
// source uses FILE for whole files. Record.Source is that relative file
// name. Record.Timestamp is WARC-Date in RFC 3339, UTC. The warc source sets
// these Meta keys:
//
//	warc_type      conversion, response or resource
//	warc_language  WARC-Identified-Content-Language, when present ("eng", "spa,eng")
//	content_type   media type of an HTML or text payload (response, resource)
//	charset        the charset an HTML page was decoded from
//
// The jsonl source copies the fields named in meta_fields under their
// path; JSON numbers stay json.Number, so they are written back unchanged.
//
// # Bad input
//
// Nothing in the input can stop a source or panic it. Every problem is
// counted by kind in stats.json (the source's "errors") and the first few
// of each kind are logged with FILE record N (ID) or FILE line N:
//
//	corrupt_gzip, truncated_gzip   damaged gzip member: reading resumes at the next member
//	corrupt_zstd, truncated_zstd   damaged zstd stream: the rest of the file is lost
//	truncated_record               a WARC record cut by the end of input or of a gzip member
//	corrupt_record                 a WARC record in (or confirmed by) a damaged gzip member
//	wrong_content_length           Content-Length disagrees with the next record boundary; recovered
//	bad_content_length             Content-Length missing or not a number; record found by boundary
//	record_too_large               content block over max_record_mb; skipped
//	bad_header                     WARC header unreadable (over 1 MiB, or cut by damage)
//	garbage_between_records        bytes that belong to no record, skipped to the next one
//	missing_record_id, bad_date    record kept, id from its position, date as written
//	invalid_utf8                   text repaired with U+FFFD and kept
//	bad_http_response, bad_http_body, bad_chunked_encoding, bad_content_encoding
//	skipped_not_http, skipped_http_status, skipped_not_html, skipped_not_text, skipped_no_text
//	extract_failed                 the HTML extractor failed on the page
//	bad_json, missing_text, line_too_long     (jsonl)
//	document_too_long, truncated_document     (text)
//	empty_file                     a file with nothing in it
//
// A record is handed on only after the bytes that follow it have been read
// cleanly, so a record whose gzip member fails its CRC is dropped, not
// passed on with corrupted text. (In a file compressed as one single member
// that check can only cover the last record before the damage.)
package ingest
