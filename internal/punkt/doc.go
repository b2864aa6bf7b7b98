// Package punkt counts sentences the way TFDS's C4 did: NLTK's Punkt
// sentence tokenizer with its pre-trained English model (english.pickle).
// C4 keeps a page only if its kept lines hold at least three Punkt
// sentences, and its line dedup drops a page left with fewer than three, so
// the count decides real pages at the margin and must be Punkt's, not a
// "split at every period" approximation. The c4 filter and the line_dedup
// stage share this counter so the two rules count alike.
//
// What is Punkt's here:
//   - the parameters: the English model's 156 abbreviation types, 37
//     collocations, 40 frequent sentence starters and orthographic context of
//     20,366 word types, read from the JSON dump of english.pickle that
//     github.com/neurosnap/sentences ships (its data package);
//   - the algorithm, re-implemented from NLTK 3.8's punkt.py without regular
//     expressions: candidate ends ('.', '?', '!' followed by whitespace and a
//     token, or by one of )";}]*:@'({[?!), the "previous word" context and its
//     overlap rule, Punkt's word tokenizer, the first pass (abbreviations,
//     ellipses), the second pass (collocation, orthographic, frequent
//     sentence starter, initial and number heuristics) and the realignment of
//     closing quotes and brackets.
//
// So "Mr. Smith" and "J. S. Bach" stay one sentence, "$3.50" is no break,
// "sentences...but" is one sentence, and, as in NLTK, "e.g. apples" IS a
// break (e.g is not in the English model's abbreviation list).
// scripts/punkt_oracle.py runs NLTK itself with the same parameters;
// TestCountMatchesNLTK compares the two on thousands of real lines and
// TestCountMatchesNLTKOnDocuments on whole multi-line documents.
package punkt
