package kafka

import (
	"testing"
)

func TestSourceDecode(t *testing.T) {
	jsonPart := &topicPart{cfg: &SourceConfig{Topic: "t", Format: "json", TextField: "doc.body", IDField: "id", URLField: "url", TimestampField: "ts", MetaFields: []string{"lang"}}}
	textPart := &topicPart{cfg: &SourceConfig{Topic: "t", Format: "text"}}
	cases := []struct {
		part    *topicPart
		value   string
		id      string
		text    string
		problem string
	}{
		{jsonPart, `{"id":"a1","doc":{"body":"hello"},"url":"u","ts":"2024","lang":"en"}`, "a1", "hello", ""},
		{jsonPart, `{"id":17,"doc":{"body":"numeric id"}}`, "17", "numeric id", ""},
		{jsonPart, `{"doc":{"body":"no id"}}`, "t/0/5", "no id", ""},
		{jsonPart, `{"doc":{"body":3}}`, "", "", "no_text"},
		{jsonPart, `{"doc":"flat"}`, "", "", "no_text"},
		{jsonPart, `not json`, "", "", "bad_json"},
		{jsonPart, `[1,2]`, "", "", "bad_json"},
		{textPart, "raw text\nvalue", "t/0/5", "raw text\nvalue", ""},
	}
	for i, c := range cases {
		r, problem, err := c.part.decode([]byte(c.value), "t/0/5")
		if problem != c.problem {
			t.Errorf("case %d: problem %q (%v), want %q", i, problem, err, c.problem)
			continue
		}
		if c.problem != "" {
			if err == nil {
				t.Errorf("case %d: a problem without an error", i)
			}
			continue
		}
		if r.ID != c.id || r.Text != c.text {
			t.Errorf("case %d: id %q text %q, want %q %q", i, r.ID, r.Text, c.id, c.text)
		}
	}
	r, _, _ := jsonPart.decode([]byte(`{"id":"a1","doc":{"body":"x"},"url":"u","ts":"2024","lang":"en"}`), "w")
	if r.URL != "u" || r.Timestamp != "2024" || r.Meta["lang"] != "en" {
		t.Errorf("fields: url %q timestamp %q meta %v", r.URL, r.Timestamp, r.Meta)
	}
}

func FuzzSourceDecode(f *testing.F) {
	f.Add([]byte(`{"id":"a1","text":"hello","url":"u","meta":{"x":[1,2]}}`))
	f.Add([]byte(`{"text":null}`))
	f.Add([]byte("\xff\xfe"))
	p := &topicPart{cfg: &SourceConfig{Topic: "t", Format: "json", TextField: "text", IDField: "id", URLField: "meta.x", MetaFields: []string{"meta"}}}
	f.Fuzz(func(t *testing.T, value []byte) {
		r, problem, err := p.decode(value, "t/0/0")
		if (err == nil) != (problem == "") || (err == nil) != (r != nil) {
			t.Fatalf("inconsistent result: record %v, problem %q, err %v", r, problem, err)
		}
	})
}
