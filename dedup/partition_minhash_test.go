package dedup

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/samples"
)

// chainCorpus is real text (WikiText paragraphs) with chains of
// near-duplicates: each copy rewrites some words of the previous copy, so a
// copy can collide with the copy before it but not with the original. These
// chains are where "first seen wins" with duplicates left out of the index
// differs from "a document matching any earlier document is a duplicate":
// the case the distributed protocol must get right.
func chainCorpus(t testing.TB) []*flow.Record {
	t.Helper()
	lines, err := samples.Lines(samples.WikiText2Test)
	if err != nil {
		t.Fatal(err)
	}
	var paras []string
	for _, l := range lines {
		if s := strings.TrimSpace(l); len(strings.Fields(s)) >= 60 && !strings.HasPrefix(s, "=") {
			paras = append(paras, s)
		}
		if len(paras) == 400 {
			break
		}
	}
	if len(paras) < 400 {
		t.Fatalf("only %d paragraphs of 60+ words in the sample", len(paras))
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var texts []string
	for _, p := range paras {
		texts = append(texts, p)
		words := strings.Fields(p)
		for c := 0; c < 5; c++ {
			// Rewrite a run of 15 % of the words somewhere in the text, a
			// new place for every copy.
			n := len(words) * 15 / 100
			at := rng.IntN(len(words) - n)
			next := append([]string(nil), words...)
			for i := at; i < at+n; i++ {
				next[i] = fmt.Sprintf("w%d", rng.IntN(1000))
			}
			words = next
			texts = append(texts, strings.Join(words, " "))
		}
		texts = append(texts, "", "!!!") // no tokens: kept, not indexed
	}
	// Interleave the chains so that documents of one chain are far apart and
	// span many batches, as in a real stream.
	rng.Shuffle(len(texts), func(i, j int) { texts[i], texts[j] = texts[j], texts[i] })
	recs := make([]*flow.Record, len(texts))
	for i, s := range texts {
		recs[i] = &flow.Record{ID: fmt.Sprintf("doc-%05d", i), Text: s}
		recs[i].SetSeq(uint64(i))
	}
	return recs
}

type decision struct{ reject, dupOf string }

func oneProcess(t *testing.T, cfg MinHashConfig, recs []*flow.Record) []decision {
	t.Helper()
	d, err := NewMinHashDedup(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]decision, len(recs))
	for i, r := range recs {
		c := *r
		c.Meta = nil
		out[i].reject = d.Process(&c)
		out[i].dupOf = c.MetaString("dup_of")
	}
	return out
}

// joinStats says which paths of the protocol a run went through.
type joinStats struct {
	overflowMatches int // decided by the joiner's overflow table
	chainKeeps      int // kept, yet an earlier (dropped) document shared a bucket
}

// distributedRun plays the protocol flow/kafka runs over Kafka: a sender
// computes buckets, the owners of partitions answer probes in input order,
// a joiner decides. Each role has its own stage instance, as on separate
// machines.
func distributedRun(t *testing.T, cfg MinHashConfig, recs []*flow.Record, partitions, capacity int) ([]decision, joinStats) {
	t.Helper()
	sender, _ := NewMinHashDedup(cfg, nil)
	joiner, _ := NewMinHashDedup(cfg, nil)
	owners := make([]*bucketIndex, partitions)
	for p := range owners {
		owners[p] = newBucketIndex(cfg.Bands, capacity, 0)
	}
	var st joinStats
	out := make([]decision, len(recs))
	for i, r := range recs {
		keys := sender.BucketKeys(r, nil)
		answers := make([]flow.BucketAnswer, len(keys))
		sharesBucket := false
		for k, key := range keys {
			a, err := owners[key.Key%uint64(partitions)].Probe(key, r.Seq())
			if err != nil {
				t.Fatal(err)
			}
			answers[k] = a
			sharesBucket = sharesBucket || len(a.Earlier) > 0
		}
		c := *r
		c.Meta = nil
		out[i].reject = joiner.JoinBuckets(&c, answers)
		out[i].dupOf = c.MetaString("dup_of")
		if out[i].reject != "" {
			matchedEarlier := false
			for _, a := range answers {
				for _, s := range a.Earlier {
					if _, ok := joiner.join.kept(s); ok {
						matchedEarlier = true
					}
				}
			}
			if !matchedEarlier {
				st.overflowMatches++
			}
		} else if sharesBucket {
			st.chainKeeps++
		}
	}
	return out, st
}

// TestDistributedMinHashDecidesAsOneProcess: the owners' answers joined in
// input order keep and reject exactly the documents one process does, with
// the same dup_of, for any number of partitions and even with a bucket
// capacity of 1 (every second document in a bucket overflows).
func TestDistributedMinHashDecidesAsOneProcess(t *testing.T) {
	recs := chainCorpus(t)
	cfg := DefaultMinHashConfig
	want := oneProcess(t, cfg, recs)
	dropped := 0
	for _, w := range want {
		if w.reject != "" {
			dropped++
		}
	}
	if dropped < len(recs)/10 {
		t.Fatalf("one process dropped %d of %d documents; the corpus has too few near-duplicates to prove anything", dropped, len(recs))
	}
	for _, capacity := range []int{1, 2, bucketCapacity} {
		for _, partitions := range []int{1, 3, 4} {
			t.Run(fmt.Sprintf("capacity=%d/partitions=%d", capacity, partitions), func(t *testing.T) {
				got, st := distributedRun(t, cfg, recs, partitions, capacity)
				diffs := 0
				for i := range recs {
					if got[i] != want[i] {
						if diffs < 5 {
							t.Errorf("%s: distributed %+v, one process %+v", recs[i].ID, got[i], want[i])
						}
						diffs++
					}
				}
				if diffs > 0 {
					t.Errorf("%d of %d decisions differ", diffs, len(recs))
				}
				// The corpus must exercise what makes the join exact: a
				// document kept although it shares a bucket with an earlier
				// one (that one was dropped), and with a small capacity, a
				// match found only through the overflow table.
				if st.chainKeeps == 0 {
					t.Error("no document was kept while sharing a bucket with an earlier, dropped one: the chains did not exercise the join")
				}
				if capacity == 1 && st.overflowMatches == 0 {
					t.Error("capacity 1 never needed the overflow table")
				}
				t.Logf("%d documents, %d dropped; %d kept despite sharing a bucket with a dropped one; %d matched via overflow", len(recs), dropped, st.chainKeeps, st.overflowMatches)
			})
		}
	}
}

// The planted corpus of the precision/recall test (bases with near-copies
// at Jaccard 0.3–0.9, plus unrelated text): the same decisions too.
func TestDistributedMinHashPlantedCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the 10k-document planted corpus")
	}
	docs := plantedCorpus(t)
	recs := make([]*flow.Record, len(docs))
	for i, d := range docs {
		recs[i] = &flow.Record{ID: d.ID, Text: d.Text}
		recs[i].SetSeq(uint64(i))
	}
	cfg := DefaultMinHashConfig
	want := oneProcess(t, cfg, recs)
	got, _ := distributedRun(t, cfg, recs, 4, bucketCapacity)
	dropped := 0
	for i := range recs {
		if want[i].reject != "" {
			dropped++
		}
		if got[i] != want[i] {
			t.Fatalf("%s: distributed %+v, one process %+v", recs[i].ID, got[i], want[i])
		}
	}
	if dropped == 0 {
		t.Fatal("nothing dropped; the planted near-duplicates were not found")
	}
	t.Logf("%d documents, %d dropped as near-duplicates, identical decisions", len(recs), dropped)
}

// A probe naming a band the index does not have (a corrupt frame, or
// workers configured differently) is an error, not a panic.
func TestBucketIndexRejectsUnknownBand(t *testing.T) {
	x := newBucketIndex(14, bucketCapacity, 0)
	for _, band := range []int{-1, 14, 1 << 30} {
		if _, err := x.Probe(flow.BucketKey{Band: band, Key: 1}, 0); err == nil {
			t.Errorf("band %d: no error", band)
		}
	}
	a, err := x.Probe(flow.BucketKey{Band: 3, Key: 42}, 7)
	if err != nil || len(a.Earlier) != 0 || a.Full {
		t.Fatalf("first probe: %+v %v", a, err)
	}
	for i := 1; i <= bucketCapacity+1; i++ {
		a, _ = x.Probe(flow.BucketKey{Band: 3, Key: 42}, uint64(7+i))
	}
	if !a.Full || len(a.Earlier) != bucketCapacity || a.Earlier[0] != 7 {
		t.Errorf("after %d probes of one bucket: %+v, want the first %d positions and full", bucketCapacity+2, a, bucketCapacity)
	}
	// The same hash in another band is another bucket.
	if a, _ := x.Probe(flow.BucketKey{Band: 4, Key: 42}, 100); len(a.Earlier) != 0 {
		t.Errorf("band 4 saw band 3's documents: %+v", a)
	}
}
