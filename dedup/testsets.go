package dedup

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// TestSetSpec declares one downstream test set to check the corpus against.
type TestSetSpec struct {
	Name      string `yaml:"name" required:"true" help:"name in the report (xquad_en)"`
	Type      string `yaml:"type" required:"true" choices:"squad,jsonl,tsv,text" help:"file format"`
	Path      string `yaml:"path" required:"true" path:"input" help:"the test set file"`
	Questions bool   `yaml:"questions" help:"squad: also check each question as an item (its qas id)"`
	TextField string `yaml:"text_field" help:"jsonl: field holding the item text (default text)"`
	IDField   string `yaml:"id_field" help:"jsonl: field holding the item id (default: line number)"`
	Column    string `yaml:"column" help:"tsv: column name (header) or 0-based index holding the text (default: first column)"`
	IDColumn  string `yaml:"id_column" help:"tsv: column name or index holding the id (default: row number)"`
	Split     string `yaml:"split" choices:"line,block" help:"text: one item per line, or per blank-line-separated block (default line)"`
}

// TestItem is one unit of a test set that must not leak: a SQuAD context
// paragraph, a question, a sentence.
type TestItem struct {
	ID   string
	Text string
}

// BadLine is a line of a test set file that was skipped because it could
// not be read (a JSONL line that is not a JSON object).
type BadLine struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

// testSetFile is what loading a test set found.
type testSetFile struct {
	items    []TestItem
	skipped  int       // records without text, and bad lines
	badLines []BadLine // in file order
}

// LoadTestSet reads a test set file. A malformed file is an error naming the
// file and the place; a record that cannot be used (no text, or a JSONL line
// that is not JSON) is skipped and counted in skipped.
func LoadTestSet(spec TestSetSpec) (items []TestItem, skipped int, err error) {
	f, err := loadTestSet(spec)
	return f.items, f.skipped, err
}

func loadTestSet(spec TestSetSpec) (testSetFile, error) {
	var f testSetFile
	data, err := os.ReadFile(spec.Path)
	if err != nil {
		return f, fmt.Errorf("test set %s: %w", spec.Name, err)
	}
	switch spec.Type {
	case "squad":
		f.items, f.skipped, err = parseSQuAD(data, spec.Questions)
	case "jsonl":
		f.items, f.skipped, f.badLines, err = parseJSONL(data, spec.TextField, spec.IDField)
	case "tsv":
		f.items, f.skipped, err = parseTSV(data, spec.Column, spec.IDColumn)
	case "text":
		f.items, f.skipped = parseText(data, spec.Split == "block")
	default:
		err = fmt.Errorf("unknown type %q (choices: squad, jsonl, tsv, text)", spec.Type)
	}
	if err != nil {
		return testSetFile{}, fmt.Errorf("test set %s (%s): %w", spec.Name, spec.Path, err)
	}
	return f, nil
}

type squadFile struct {
	Data []struct {
		Title      string `json:"title"`
		Paragraphs []struct {
			Context string `json:"context"`
			QAs     []struct {
				ID       json.RawMessage `json:"id"`
				Question string          `json:"question"`
			} `json:"qas"`
		} `json:"paragraphs"`
	} `json:"data"`
}

// parseSQuAD makes one item per context paragraph, id "title/index" (index
// within the article), and with questions one per question, id its qas id.
func parseSQuAD(data []byte, questions bool) ([]TestItem, int, error) {
	var f squadFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, 0, fmt.Errorf("not SQuAD JSON: %w", err)
	}
	if f.Data == nil {
		return nil, 0, fmt.Errorf(`not SQuAD JSON: no "data" list`)
	}
	var items []TestItem
	skipped := 0
	for ai, art := range f.Data {
		title := art.Title
		if title == "" {
			title = "article-" + strconv.Itoa(ai)
		}
		for pi, p := range art.Paragraphs {
			if strings.TrimSpace(p.Context) == "" {
				skipped++
			} else {
				items = append(items, TestItem{ID: title + "/" + strconv.Itoa(pi), Text: p.Context})
			}
			if !questions {
				continue
			}
			for qi, qa := range p.QAs {
				id := strings.Trim(string(qa.ID), `"`)
				if id == "" || id == "null" {
					id = fmt.Sprintf("%s/%d/q%d", title, pi, qi)
				}
				if strings.TrimSpace(qa.Question) == "" {
					skipped++
					continue
				}
				items = append(items, TestItem{ID: id, Text: qa.Question})
			}
		}
	}
	return items, skipped, nil
}

// parseJSONL reads one JSON object per line. A line that is not a JSON
// object is skipped, counted and returned in bad, so one broken line does
// not cost the whole test set; a line too long to read is an error.
func parseJSONL(data []byte, textField, idField string) (items []TestItem, skipped int, bad []BadLine, err error) {
	if textField == "" {
		textField = "text"
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			skipped++
			bad = append(bad, BadLine{Line: line, Err: "not a JSON object: " + err.Error()})
			continue
		}
		text, _ := obj[textField].(string)
		if strings.TrimSpace(text) == "" {
			skipped++
			continue
		}
		id := strconv.Itoa(line)
		if idField != "" {
			switch v := obj[idField].(type) {
			case string:
				id = v
			case float64:
				id = strconv.FormatFloat(v, 'f', -1, 64)
			case nil:
			default:
				id = fmt.Sprint(v)
			}
		}
		items = append(items, TestItem{ID: id, Text: text})
	}
	if err := sc.Err(); err != nil {
		return nil, 0, nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return items, skipped, bad, nil
}

// parseTSV reads a tab-separated file whose first row is a header. Quotes
// are not special (GLUE files contain bare quotes).
func parseTSV(data []byte, column, idColumn string) ([]TestItem, int, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("header: %w", err)
	}
	find := func(name string, def int) (int, error) {
		if name == "" {
			return def, nil
		}
		for i, h := range header {
			if h == name {
				return i, nil
			}
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(header) {
			return i, nil
		}
		return 0, fmt.Errorf("no column %q (header: %s)", name, strings.Join(header, ", "))
	}
	textCol, err := find(column, 0)
	if err != nil {
		return nil, 0, err
	}
	idCol, err := find(idColumn, -1)
	if err != nil {
		return nil, 0, err
	}
	var items []TestItem
	skipped := 0
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("row %d: %w", row, err)
		}
		if textCol >= len(rec) || strings.TrimSpace(rec[textCol]) == "" {
			skipped++
			continue
		}
		id := strconv.Itoa(row)
		if idCol >= 0 && idCol < len(rec) && rec[idCol] != "" {
			id = rec[idCol]
		}
		items = append(items, TestItem{ID: id, Text: rec[textCol]})
	}
	return items, skipped, nil
}

// parseText makes one item per non-blank line (id: line number) or per
// blank-line-separated block (id: number of its first line).
func parseText(data []byte, blocks bool) ([]TestItem, int) {
	var items []TestItem
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var block []string
	first := 0
	end := func() {
		if len(block) > 0 {
			items = append(items, TestItem{ID: strconv.Itoa(first), Text: strings.Join(block, "\n")})
			block = nil
		}
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			end()
			continue
		}
		if !blocks {
			items = append(items, TestItem{ID: strconv.Itoa(i + 1), Text: l})
			continue
		}
		if len(block) == 0 {
			first = i + 1
		}
		block = append(block, l)
	}
	end()
	return items, 0
}
