package dedup

import (
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// Duplicates by the stage's own rule must share a partition key, or a
// distributed run would keep both.
func TestExactPartitionKeyFollowsTheDedupRule(t *testing.T) {
	cases := []struct {
		cfg  ExactConfig
		a, b flow.Record
		same bool
	}{
		{ExactConfig{Key: "text"}, flow.Record{Text: "Hello  World"}, flow.Record{Text: "hello world"}, true},
		{ExactConfig{Key: "text"}, flow.Record{Text: "hello world"}, flow.Record{Text: "hello there"}, false},
		{ExactConfig{Key: "text", DigitsToZero: true}, flow.Record{Text: "page 12"}, flow.Record{Text: "page 99"}, true},
		{ExactConfig{Key: "text", StripPunctuation: true}, flow.Record{Text: "hi, you!"}, flow.Record{Text: "hi you"}, true},
		{ExactConfig{Key: "url"}, flow.Record{URL: "https://www.example.org/a/?utm_source=x"}, flow.Record{URL: "http://example.org/a"}, true},
		{ExactConfig{Key: "url"}, flow.Record{URL: "https://example.org/a"}, flow.Record{URL: "https://example.org/b"}, false},
		// C4's rule keeps case and the fragment: different pages.
		{ExactConfig{Key: "url", URLRule: URLRuleC4}, flow.Record{URL: "https://Example.org/a?ref=x"}, flow.Record{URL: "http://example.org/a"}, false},
		{ExactConfig{Key: "url", URLRule: URLRuleC4}, flow.Record{URL: "https://example.org/a?id=3#top"}, flow.Record{URL: "https://example.org/a?id=3"}, false},
		// The params rule lowercases the host and drops ref, utm_* and the
		// fragment: the same page, so the same key (the C4 rule's key, which
		// PartitionKey used for every rule, sent these to different workers).
		{ExactConfig{Key: "url", URLRule: URLRuleParams}, flow.Record{URL: "https://Example.org/a?ref=x"}, flow.Record{URL: "http://example.org/a"}, true},
		{ExactConfig{Key: "url", URLRule: URLRuleParams}, flow.Record{URL: "https://example.org/a?id=3#top"}, flow.Record{URL: "https://example.org/a?utm_source=y&id=3"}, true},
		{ExactConfig{Key: "url", URLRule: URLRuleParams}, flow.Record{URL: "https://example.org/a?reference=1"}, flow.Record{URL: "https://example.org/a"}, false},
	}
	for i, c := range cases {
		d := NewExactDedup(c.cfg, nil)
		a, b := c.a, c.b
		ka, kb := d.PartitionKey(&a), d.PartitionKey(&b)
		if (ka == kb) != c.same {
			t.Errorf("case %d: keys %x and %x, want same=%v", i, ka, kb, c.same)
		}
		// The key routes a record to the worker whose set decides it, so
		// it must agree with the stage's decision: b after a is a duplicate
		// exactly when the keys are equal.
		d.Process(&a)
		dup := d.Process(&b) != ""
		if dup != c.same {
			t.Errorf("case %d: stage says duplicate=%v but keys say %v", i, dup, c.same)
		}
	}
}

// ProcessKeyed must decide exactly as Process: a distributed run uses the
// first, one process the second.
func TestExactProcessKeyedEqualsProcess(t *testing.T) {
	texts := []flow.Record{
		{Text: "Hello  World", URL: "https://www.example.org/a?utm_source=x"},
		{Text: "hello world", URL: "http://example.org/a"},
		{Text: "other", URL: ""},
		{Text: "OTHER ", URL: "not a url"},
		{Text: "page 12", URL: "https://example.org/b"},
		{Text: "page 99", URL: "https://example.org/b/"},
		{Text: "x", URL: "https://Example.org/b?ref=home#top"},
		{Text: "y", URL: "https://example.org/b?reference=1"},
	}
	for _, cfg := range []ExactConfig{{Key: "text"}, {Key: "text", DigitsToZero: true}, {Key: "url"}, {Key: "url", URLRule: URLRuleC4}, {Key: "url", URLRule: URLRuleParams}} {
		c1, c2 := &flow.Counters{}, &flow.Counters{}
		plain, keyed := NewExactDedup(cfg, c1), NewExactDedup(cfg, c2)
		for i := range texts {
			a, b := texts[i], texts[i]
			want := plain.Process(&a)
			got := keyed.ProcessKeyed(&b, keyed.PartitionKey(&b))
			if got != want {
				t.Errorf("%+v record %d: ProcessKeyed %q, Process %q", cfg, i, got, want)
			}
		}
		if c1.Get("no_url") != c2.Get("no_url") {
			t.Errorf("%+v: no_url counted %d vs %d", cfg, c2.Get("no_url"), c1.Get("no_url"))
		}
	}
}
