package ingest

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestParseHTTPResponse(t *testing.T) {
	tests := []struct {
		name        string
		block       string
		status      int
		contentType string
		body        string
		wantErr     bool
	}{
		{"crlf", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>x</p>", 200, "text/html", "<p>x</p>", false},
		{"lf only", "HTTP/1.0 404 Not Found\nContent-Type: text/plain\n\nnope", 404, "text/plain", "nope", false},
		{"no reason phrase", "HTTP/1.1 200\r\n\r\nbody", 200, "", "body", false},
		{"folded header", "HTTP/1.1 200 OK\r\nContent-Type: text/html;\r\n charset=utf-8\r\n\r\nb", 200, "text/html; charset=utf-8", "b", false},
		{"junk header line kept out", "HTTP/1.1 200 OK\r\nnot a header\r\nContent-Type: a/b\r\n\r\n", 200, "a/b", "", false},
		{"headers only", "HTTP/1.1 304 Not Modified\r\nETag: x", 304, "", "", false},
		{"not http", "<html>", 0, "", "", true},
		{"bad status", "HTTP/1.1 abc OK\r\n\r\n", 0, "", "", true},
	}
	for _, tt := range tests {
		resp, err := parseHTTPResponse([]byte(tt.block))
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if resp.Status != tt.status || resp.Header.Get("content-type") != tt.contentType || string(resp.Body) != tt.body {
			t.Errorf("%s: status %d, type %q, body %q", tt.name, resp.Status, resp.Header.Get("Content-Type"), resp.Body)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	page := strings.Repeat("<p>hello, world</p>\n", 50)
	compress := func(w func(*bytes.Buffer) interface {
		Write([]byte) (int, error)
		Close() error
	}) string {
		var b bytes.Buffer
		zw := w(&b)
		zw.Write([]byte(page))
		zw.Close()
		return b.String()
	}
	deflateRaw := compress(func(b *bytes.Buffer) interface {
		Write([]byte) (int, error)
		Close() error
	} {
		zw, _ := flate.NewWriter(b, 5)
		return zw
	})
	deflateZlib := compress(func(b *bytes.Buffer) interface {
		Write([]byte) (int, error)
		Close() error
	} {
		return zlib.NewWriter(b)
	})
	br := compress(func(b *bytes.Buffer) interface {
		Write([]byte) (int, error)
		Close() error
	} {
		return brotli.NewWriter(b)
	})
	gz := string(gzipBytes(t, []byte(page)))
	chunked := "5\r\n<p>he\r\n3\r\nllo\r\n0\r\n\r\n"
	tests := []struct {
		name    string
		headers string
		body    string
		want    string
		problem string
		wantErr bool
	}{
		{"identity", "", "plain", "plain", "", false},
		{"chunked", "Transfer-Encoding: chunked", chunked, "<p>hello", "", false},
		{"chunked cut short keeps what decoded", "Transfer-Encoding: chunked", "5\r\n<p>he\r\n3\r\nll", "<p>hell", "bad_chunked_encoding", false},
		{"not chunked after all", "Transfer-Encoding: chunked", "<html>", "<html>", "bad_chunked_encoding", false},
		{"gzip", "Content-Encoding: gzip", gz, page, "", false},
		{"gzip cut short", "Content-Encoding: gzip", gz[:len(gz)-20], "", "bad_content_encoding", false},
		{"deflate (zlib)", "Content-Encoding: deflate", deflateZlib, page, "", false},
		{"deflate (raw)", "Content-Encoding: deflate", deflateRaw, page, "", false},
		{"brotli", "Content-Encoding: br", br, page, "", false},
		{"zstd", "Content-Encoding: zstd", string(zstdBytes(t, []byte(page))), page, "", false},
		{"chunked gzip", "Transfer-Encoding: chunked\r\nContent-Encoding: gzip", "a\r\n" + gz[:10] + "\r\n" + strings.ToLower(strings.TrimLeft(hex(len(gz)-10), "0")) + "\r\n" + gz[10:] + "\r\n0\r\n\r\n", page, "", false},
		{"unknown encoding", "Content-Encoding: compress", "x", "", "", true},
		{"garbage gzip", "Content-Encoding: gzip", "not gzip", "", "", true},
	}
	for _, tt := range tests {
		head := "HTTP/1.1 200 OK\r\n"
		if tt.headers != "" {
			head += tt.headers + "\r\n"
		}
		resp, err := parseHTTPResponse([]byte(head + "\r\n" + tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, problem, err := decodeBody(resp, 1<<20)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if problem != tt.problem {
			t.Errorf("%s: problem %q, want %q", tt.name, problem, tt.problem)
		}
		if tt.want != "" && string(body) != tt.want {
			t.Errorf("%s: body %q", tt.name, body[:min(40, len(body))])
		}
		if tt.problem == "bad_content_encoding" && (len(body) == 0 || !strings.HasPrefix(page, string(body))) {
			t.Errorf("%s: kept %d bytes that are not the page's start", tt.name, len(body))
		}
	}
}

func hex(n int) string {
	const digits = "0123456789abcdef"
	s := ""
	for ; n > 0; n /= 16 {
		s = string(digits[n%16]) + s
	}
	return s
}

func TestDecodeHTML(t *testing.T) {
	asciiHead := "<html><head><title>t</title></head><body>" + strings.Repeat("plain ascii text ", 80)
	tests := []struct {
		name        string
		body        string
		contentType string
		charset     string
		want        string // a substring of the decoded page
		invalid     bool
	}{
		{"header charset", "<p>caf\xe9</p>", "text/html; charset=iso-8859-1", "windows-1252", "café", false},
		{"meta charset", "<meta charset=\"windows-1251\"><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>", "text/html", "windows-1251", "Привет", false},
		{"gbk by meta", "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><p>\xc4\xe3\xba\xc3</p>", "", "gbk", "你好", false},
		{"utf-8 BOM beats header", "\xef\xbb\xbf<p>ü</p>", "text/html; charset=iso-8859-1", "utf-8", "ü", false},
		{"undeclared utf-8 after an ascii kilobyte", asciiHead + "<p>日本語</p>", "text/html", "utf-8", "日本語", false},
		{"undeclared latin-1", asciiHead + "<p>caf\xe9</p>", "", "windows-1252", "café", false},
		{"declared utf-8, invalid bytes", "<p>bad \xff here</p>", "text/html; charset=utf-8", "utf-8", "bad \uFFFD here", true},
		{"unknown charset label is ignored", "<p>ok \xc3\xa9</p>", "text/html; charset=x-klingon", "utf-8", "ok é", false},
	}
	for _, tt := range tests {
		d := decodeHTML([]byte(tt.body), tt.contentType)
		if d.Charset != tt.charset || !strings.Contains(string(d.HTML), tt.want) || d.InvalidUTF8 != tt.invalid {
			t.Errorf("%s: charset %q, invalid %v, page %q", tt.name, d.Charset, d.InvalidUTF8, string(d.HTML)[max(0, len(d.HTML)-40):])
		}
	}
}
