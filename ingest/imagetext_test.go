package ingest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/flow"
)

func imageBytes(t testing.TB, name string) []byte {
	t.Helper()
	return mustRead(t, testdata("images", name))
}

func hasImage(r *flow.Record) bool {
	b, ok := r.Fields[FieldImage].([]byte)
	return ok && len(b) > 0
}

func TestImageTextTSVLocalAndURLs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "cat.jpg", imageBytes(t, "chelsea.jpg"))
	table := "url\tcaption\tid\n" +
		"cat.jpg\ta tabby cat\tc1\n" +
		"missing.jpg\ta missing picture\tc2\n" +
		"\tno image here\tc3\n" +
		"https://example.invalid/a.jpg\ta remote picture\tc4\n" +
		"cat.jpg\t\tc5\n"
	path := writeFile(t, dir, "pairs.tsv", []byte(table))
	cfg := DefaultImageTextTableConfig()
	cfg.Path, cfg.IDColumn = path, "id"
	src, err := NewImageTextTableSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, stats := runSource(t, src, 2)
	if len(recs) != 2 || recs[0].ID != "c1" || recs[1].ID != "c4" {
		t.Fatalf("records %v", recordIDs(recs))
	}
	if !hasImage(recs[0]) || recs[0].Text != "a tabby cat" || recs[0].Fields[FieldImagePath] != "cat.jpg" {
		t.Errorf("local pair: %+v", recs[0].Fields[FieldImagePath])
	}
	if hasImage(recs[1]) || recs[1].URL != "https://example.invalid/a.jpg" {
		t.Errorf("URL without download must carry the URL and no bytes")
	}
	for kind, n := range map[string]int64{problemImageMissing: 1, problemNoImageColumn: 1, problemMissingCap: 1} {
		if stats.Errors[kind] != n {
			t.Errorf("%s: %d, want %d (all: %v)", kind, stats.Errors[kind], n, stats.Errors)
		}
	}
}

// The shared Conceptual Captions sample: no header, caption then URL.
func TestImageTextCC3MTable(t *testing.T) {
	cfg := DefaultImageTextTableConfig()
	cfg.Path, cfg.Header, cfg.CaptionColumn, cfg.ImageColumn = testdata("captions", "cc3m-val-first500.tsv"), false, "0", "1"
	src, err := NewImageTextTableSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, stats := runSource(t, src, 2)
	if len(recs) != 500 || len(stats.Errors) != 0 {
		t.Fatalf("%d records, problems %v", len(recs), stats.Errors)
	}
	if recs[1].Text != "an angler fishes river on a snowy day ." || !strings.HasPrefix(recs[1].URL, "http://www.standard.net/") {
		t.Errorf("row 2: %q %q", recs[1].Text, recs[1].URL)
	}
	cfg.CaptionColumn = "caption"
	cfg.Format = "tsv"
	if _, err := NewImageTextTableSource(cfg, nil); err == nil {
		t.Error("a column name without a header was accepted")
	}
}

func TestImageTextCSVAndJSONL(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.png", imageBytes(t, "coins.png"))
	csvPath := writeFile(t, dir, "pairs.csv", []byte("image,caption\na.png,\"coins, old and silver\"\n"))
	cfg := DefaultImageTextTableConfig()
	cfg.Path, cfg.ImageColumn = csvPath, "image"
	src, _ := NewImageTextTableSource(cfg, nil)
	recs, _ := runSource(t, src, 1)
	if len(recs) != 1 || recs[0].Text != "coins, old and silver" || !hasImage(recs[0]) {
		t.Fatalf("csv: %v", recordIDs(recs))
	}
	// The bundled Chinese captions, JSONL with image names under testdata/images.
	cfg = DefaultImageTextTableConfig()
	cfg.Path, cfg.ImageColumn, cfg.IDColumn, cfg.ImageDir = testdata("captions", "bundled-photos.zh.jsonl"), "image", "id", testdata("images")
	src, err := NewImageTextTableSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, stats := runSource(t, src, 2)
	if len(recs) != 23 || len(stats.Errors) != 0 || recs[0].ID != "astronaut-0" || !strings.Contains(recs[0].Text, "宇航员") || !hasImage(recs[0]) {
		t.Fatalf("zh jsonl: %d records %v", len(recs), stats.Errors)
	}
}

func TestCOCOCaptions(t *testing.T) {
	cfg := DefaultCOCOConfig()
	cfg.Path, cfg.ImageDir = testdata("captions", "bundled-photos.en.coco.json"), testdata("images")
	src, err := NewCOCOSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	recs, stats := runSource(t, src, 2)
	if len(recs) != 23 || len(stats.Errors) != 0 {
		t.Fatalf("%d records, %v", len(recs), stats.Errors)
	}
	if recs[0].Fields[FieldImagePath] != "astronaut.jpg" || !hasImage(recs[0]) || recs[0].MetaString("image_id") != "1" {
		t.Errorf("first: %v %v", recs[0].Fields[FieldImagePath], recs[0].Meta)
	}
	// The real COCO val subset names images we do not have: every caption
	// is counted as image_missing, none is lost silently.
	cfg.Path = testdata("captions", "coco-val2017-first40.json")
	src, _ = NewCOCOSource(cfg, nil)
	recs, stats = runSource(t, src, 2)
	if len(recs) != 0 || stats.Errors[problemImageMissing] != 200 {
		t.Errorf("coco val: %d records, %v", len(recs), stats.Errors)
	}
	cfg.ImageDir = ""
	if _, err := NewCOCOSource(cfg, nil); err == nil {
		t.Error("no image_dir and no download accepted")
	}
}

func tarOf(t testing.TB, members [][2]string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m[0], Mode: 0o644, Size: int64(len(m[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m[1]))
	}
	tw.Close()
	return b.Bytes()
}

func TestWebDatasetAndImg2Dataset(t *testing.T) {
	cat, coffee := string(imageBytes(t, "chelsea.jpg")), string(imageBytes(t, "coffee.jpg"))
	members := [][2]string{
		{"000000000.jpg", cat}, {"000000000.txt", "a cat\n"}, {"000000000.json", `{"url":"https://example.invalid/cat.jpg","key":"000000000","status":"success"}`},
		{"000000001.jpg", coffee}, {"000000001.json", `{"caption":"a coffee cup","key":"000000001"}`},
		{"000000002.txt", "caption without image"},
		{"000000003.jpg", cat},
	}
	dir := t.TempDir()
	writeFile(t, dir, "00000.tar", tarOf(t, members))
	src, err := NewWebDatasetSource(DefaultWebDatasetConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	src.path = filepath.Join(dir, "00000.tar")
	recs, stats := runSource(t, src, 1)
	if len(recs) != 2 || recs[0].Text != "a cat" || recs[0].URL != "https://example.invalid/cat.jpg" || recs[1].Text != "a coffee cup" || !hasImage(recs[1]) {
		t.Fatalf("records %v", recordIDs(recs))
	}
	if stats.Errors[problemNoImageColumn] != 1 || stats.Errors[problemMissingCap] != 1 {
		t.Errorf("problems %v", stats.Errors)
	}
	// The same samples as img2dataset's "files" layout give the same records.
	filesDir := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(filepath.Join(filesDir, "00000"), 0o755)
	for _, m := range members {
		writeFile(t, filepath.Join(filesDir, "00000"), m[0], []byte(m[1]))
	}
	writeFile(t, filesDir, "00000.parquet", []byte("ignored"))
	comp, _ := flow.Lookup(flow.KindSource, "img2dataset")
	c := comp.NewConfig().(*Img2DatasetConfig)
	c.Path = filesDir
	built, err := comp.Build(c, &flow.Env{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := runSource(t, built.(flow.Source), 2)
	if len(files) != 2 || files[0].Text != "a cat" || files[1].Text != "a coffee cup" || files[0].ID != "00000:000000000" {
		t.Errorf("files layout: %v", recordIDs(files))
	}
}

func recordIDs(rs []*flow.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// A local HTTP server plays the web: it serves images, a robots opt-out,
// an oversized body, a flaky endpoint and a slow one.
func TestImageDownload(t *testing.T) {
	cat := imageBytes(t, "chelsea.jpg")
	var flaky atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/cat.jpg", func(w http.ResponseWriter, r *http.Request) { w.Write(cat) })
	mux.HandleFunc("/noai.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Robots-Tag", "noai, noimageai")
		w.Write(cat)
	})
	mux.HandleFunc("/other-agent.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Robots-Tag", "googlebot: noindex")
		w.Write(cat)
	})
	mux.HandleFunc("/huge.jpg", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 3<<20)) })
	mux.HandleFunc("/flaky.jpg", func(w http.ResponseWriter, r *http.Request) {
		if flaky.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write(cat)
	})
	mux.HandleFunc("/slow.jpg", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	names := []string{"cat.jpg", "noai.jpg", "other-agent.jpg", "huge.jpg", "flaky.jpg", "missing.jpg", "slow.jpg", "cat.jpg"}
	var rows strings.Builder
	rows.WriteString("url\tcaption\n")
	for i, n := range names {
		fmt.Fprintf(&rows, "%s/%s\tpicture %d\n", srv.URL, n, i)
	}
	path := writeFile(t, t.TempDir(), "urls.tsv", []byte(rows.String()))

	cfg := DefaultImageTextTableConfig()
	cfg.Path, cfg.Download, cfg.AllowPrivate, cfg.MaxImageMB, cfg.TimeoutSeconds, cfg.Concurrency = path, true, true, 2, 1, 4
	src, err := NewImageTextTableSource(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	src.loader.fetch.backoff = time.Millisecond
	recs, stats := runSource(t, src, 2)
	got := recordIDs(recs)
	want := []string{"urls.tsv:2", "urls.tsv:4", "urls.tsv:6", "urls.tsv:9"} // cat, other-agent, flaky (retried), cat
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("kept %v, want %v", got, want)
	}
	for _, r := range recs {
		if !bytes.Equal(r.Fields[FieldImage].([]byte), cat) {
			t.Errorf("%s: wrong bytes", r.ID)
		}
	}
	for kind, n := range map[string]int64{fetchRefusedRobots: 1, fetchTooBig: 1, fetchHTTPStatus: 1, fetchFailed: 1} {
		if stats.Errors[kind] != n {
			t.Errorf("%s: %d, want %d (all %v)", kind, stats.Errors[kind], n, stats.Errors)
		}
	}

	// Without allow_private the same server is refused: it is on loopback,
	// whether named by IP or by a host name that resolves to it.
	cfg.AllowPrivate = false
	src, _ = NewImageTextTableSource(cfg, nil)
	recs, stats = runSource(t, src, 2)
	if len(recs) != 0 || stats.Errors[fetchRefusedAddress] != int64(len(names)) {
		t.Errorf("loopback: %d records, %v", len(recs), stats.Errors)
	}
	localhost := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	f := newFetcher(cfg.FetchConfig)
	if res := f.fetch(t.Context(), localhost+"/cat.jpg"); res.problem != fetchRefusedAddress {
		t.Errorf("localhost: %+v", res.problem)
	}
}

func TestPublicAddressAndRobotsTag(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fd00::1": false, "::ffff:127.0.0.1": false,
		"93.184.216.34": true, "2606:4700::1111": true,
	} {
		a, _ := netipParse(addr)
		if publicAddress(a) != want {
			t.Errorf("%s: public %v, want %v", addr, !want, want)
		}
	}
	for _, c := range []struct {
		values []string
		want   string
	}{
		{[]string{"noai"}, "noai"},
		{[]string{"index, follow", "NoImageAI"}, "noimageai"},
		{[]string{"googlebot: noindex"}, ""},
		{[]string{"corpusflow: noai"}, "noai"},
		{[]string{"unavailable_after: 25 Jun 2010 15:00:00 PST"}, ""},
		{nil, ""},
	} {
		if got := disallowedByRobotsTag(c.values); got != c.want {
			t.Errorf("%v: %q, want %q", c.values, got, c.want)
		}
	}
}

func FuzzImageTextTable(f *testing.F) {
	f.Add([]byte("url\tcaption\na.jpg\tx\n"), false)
	f.Add([]byte("image,caption\n\"a.png\",\"b, c\"\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, asCSV bool) {
		dir := t.TempDir()
		name := "t.tsv"
		if asCSV {
			name = "t.csv"
		}
		cfg := DefaultImageTextTableConfig()
		cfg.Path = writeFile(t, dir, name, data)
		if asCSV {
			cfg.ImageColumn = "image"
		}
		src, err := NewImageTextTableSource(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		readAllPartsLenient(t, src)
	})
}

func FuzzWebDataset(f *testing.F) {
	f.Add(tarOf(f, [][2]string{{"a.jpg", "xx"}, {"a.txt", "cap"}, {"b.json", `{"caption":1}`}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, _ := NewWebDatasetSource(DefaultWebDatasetConfig(), nil)
		src.path = writeFile(t, t.TempDir(), "s.tar", data)
		readAllPartsLenient(t, src)
	})
}

func FuzzCOCO(f *testing.F) {
	f.Add(mustRead(f, testdata("captions", "bundled-photos.en.coco.json")))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseCOCO(data) // must not panic; errors are fine
	})
}

// readAllPartsLenient reads every part, accepting part errors (a fuzzed
// file may be unreadable as a whole); it checks only that nothing panics
// and that captions are valid UTF-8.
func readAllPartsLenient(t *testing.T, src flow.Source) {
	parts, err := src.Parts()
	if err != nil {
		return
	}
	rep := flow.NewSourceReport("fuzz", nil)
	for _, p := range parts {
		p.Read(t.Context(), func(r *flow.Record) error {
			if r.ID == "" || !utf8.ValidString(r.Text) || !utf8.ValidString(r.ID) || !utf8.ValidString(r.URL) {
				t.Fatalf("record %q: no id or invalid UTF-8", r.ID)
			}
			return nil
		}, rep)
	}
}

func netipParse(s string) (netip.Addr, error) { return netip.ParseAddr(s) }
