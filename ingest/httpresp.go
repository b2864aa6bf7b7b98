package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"io"
	"mime"
	"net/http/httputil"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// httpResponse is an HTTP response as a crawler stored it in a WARC
// response record.
type httpResponse struct {
	Status int
	Header warcHeader // same shape: ordered, case-insensitive fields
	Body   []byte
}

var errNotHTTP = errors.New("block does not start with an HTTP status line")

// parseHTTPResponse splits a response record's block into status, header
// fields and body. It is lenient where crawled servers are sloppy (LF-only
// line ends, header lines without a colon) and strict only about what it
// needs: a status line.
func parseHTTPResponse(block []byte) (*httpResponse, error) {
	headEnd, bodyStart := bytes.Index(block, []byte("\r\n\r\n")), 4
	if lf := bytes.Index(block, []byte("\n\n")); lf >= 0 && (headEnd < 0 || lf < headEnd) {
		headEnd, bodyStart = lf, 2
	}
	if headEnd < 0 { // headers only, no body
		headEnd, bodyStart = len(block), 0
	}
	lines := bytes.Split(block[:headEnd], []byte("\n"))
	status := trimEOL(lines[0])
	if !bytes.HasPrefix(status, []byte("HTTP/")) {
		return nil, errNotHTTP
	}
	fields := strings.Fields(string(status))
	if len(fields) < 2 {
		return nil, fmt.Errorf("status line %q has no status code", truncateForMessage(status))
	}
	code, err := strconv.Atoi(fields[1])
	if err != nil || code < 100 || code > 999 {
		return nil, fmt.Errorf("status line %q has no status code", truncateForMessage(status))
	}
	resp := &httpResponse{Status: code, Body: block[min(headEnd+bodyStart, len(block)):]}
	if len(lines) > 1 {
		parseFields(string(block[len(lines[0])+1:headEnd]), &resp.Header)
	}
	return resp, nil
}

// decodeBody undoes the transfer and content encodings the crawler stored.
// (Common Crawl stores bodies already decoded and renames the headers to
// X-Crawler-*, so those are left alone.) A body cut short, as crawlers cut
// long payloads, keeps what decoded: the problem kind is returned with it.
// A body that cannot be decoded at all returns an error.
func decodeBody(resp *httpResponse, limit int64) (body []byte, problem string, err error) {
	body = resp.Body
	if hasToken(resp.Header.Get("Transfer-Encoding"), "chunked") {
		decoded, derr := io.ReadAll(io.LimitReader(httputil.NewChunkedReader(bytes.NewReader(body)), limit))
		switch {
		case derr == nil:
			body = decoded
		case len(decoded) > 0:
			body, problem = decoded, "bad_chunked_encoding"
		default:
			// Not chunked after all (the header lied, or a proxy decoded
			// it): use the body as stored.
			problem = "bad_chunked_encoding"
		}
	}
	encoding := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if encoding == "" || encoding == "identity" || encoding == "none" {
		return body, problem, nil
	}
	var r io.Reader
	switch encoding {
	case "gzip", "x-gzip":
		zr, zerr := kgzip.NewReader(bytes.NewReader(body))
		if zerr != nil {
			return nil, problem, fmt.Errorf("Content-Encoding gzip: %w", zerr)
		}
		r = zr
	case "deflate":
		// "deflate" is meant to be zlib-wrapped, but many servers send raw
		// deflate; try zlib first.
		if zr, zerr := zlib.NewReader(bytes.NewReader(body)); zerr == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(body))
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "zstd":
		zr, zerr := zstd.NewReader(bytes.NewReader(body), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if zerr != nil {
			return nil, problem, fmt.Errorf("Content-Encoding zstd: %w", zerr)
		}
		defer zr.Close()
		r = zr
	default:
		return nil, problem, fmt.Errorf("unsupported Content-Encoding %q", encoding)
	}
	decoded, derr := io.ReadAll(io.LimitReader(r, limit))
	if derr != nil {
		if len(decoded) == 0 {
			return nil, problem, fmt.Errorf("Content-Encoding %s: %w", encoding, derr)
		}
		return decoded, "bad_content_encoding", nil
	}
	return decoded, problem, nil
}

// mediaType returns the lower-case media type of a Content-Type value
// ("text/html" from "text/html; charset=UTF-8").
func mediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func isHTMLType(mt string) bool {
	return mt == "text/html" || mt == "application/xhtml+xml"
}

func hasToken(header, token string) bool {
	for _, t := range strings.Split(header, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

func truncateForMessage(b []byte) string {
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
