package dedup

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
)

// segment is a piece of text, highlighted or not.
type segment struct {
	Text string
	Mark bool
}

func segments(text string, spans []Span) []segment {
	var out []segment
	pos := 0
	for _, s := range spans {
		if s.Start < pos || s.End > len(text) || s.Start >= s.End {
			continue
		}
		if s.Start > pos {
			out = append(out, segment{Text: text[pos:s.Start]})
		}
		out = append(out, segment{Text: text[s.Start:s.End], Mark: true})
		pos = s.End
	}
	if pos < len(text) {
		out = append(out, segment{Text: text[pos:]})
	}
	return out
}

// histogramSVG draws the score histogram as inline SVG: ten bins over
// (0, 1], bar labels, and a dashed line at the threshold.
func histogramSVG(h ScoreHistogram, threshold float64) template.HTML {
	const w, hgt, left, bottom, top = 560, 210, 44, 34, 18
	plotW, plotH := float64(w-left-10), float64(hgt-bottom-top)
	peak := 1
	for _, n := range h.Bins {
		peak = max(peak, n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="hist" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="histogram of best scores per item">`, w, hgt, w, hgt)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, left, hgt-bottom, w-10, hgt-bottom)
	barW := plotW / 10
	for i, n := range h.Bins {
		x := float64(left) + float64(i)*barW
		bh := plotH * float64(n) / float64(peak)
		y := float64(hgt-bottom) - bh
		cls := "bar"
		if float64(i)/10 >= threshold-1e-9 {
			cls = "bar hot"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="%s"><title>%d items with best score in (%.1f, %.1f]</title></rect>`, x+3, y, barW-6, bh, cls, n, float64(i)/10, float64(i+1)/10)
		if n > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="count">%d</text>`, x+barW/2, y-4, n)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick">%.1f</text>`, x, hgt-bottom+14, float64(i)/10)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">1.0</text>`, w-10, hgt-bottom+14)
	tx := float64(left) + threshold*plotW
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="threshold"/>`, tx, top-6, tx, hgt-bottom)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="thlabel">threshold %.2f</text>`, tx+4, top+2, threshold)
	if h.empty() {
		// Centred on the wider side of the threshold line, not across it.
		mid := threshold / 2
		if threshold < 0.5 {
			mid = (1 + threshold) / 2
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="empty">no matches</text>`, float64(left)+mid*plotW, float64(top)+plotH/2)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="empty small">no item came near any document</text>`, float64(left)+mid*plotW, float64(top)+plotH/2+18)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="caption">best score per item (items never touched: %d)</text>`, left, hgt-4, h.Zero)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"segments": segments,
	"hist":     histogramSVG,
	"human":    humanBytes,
	"pct": func(a, b int64) string {
		if b == 0 {
			return "0"
		}
		return fmt.Sprintf("%.2f", 100*float64(a)/float64(b))
	},
	"barw":  func(p float64) string { return fmt.Sprintf("%.1f", min(100, p)) },
	"join":  strings.Join,
	"thumb": thumbURL,
}).Parse(reportHTML + imageReportHTML))

type htmlView struct {
	*LeakReport
	Threshold float64
	// HasText is false for a report with image sections only, which then
	// shows none of the text sections.
	HasText bool
}

func renderHTML(rep *LeakReport) ([]byte, error) {
	var b bytes.Buffer
	th := rep.Parameters.MinContainment
	if rep.Parameters.MinHash {
		th = min(th, rep.Parameters.MinHashThreshold)
	}
	if err := reportTemplate.Execute(&b, htmlView{rep, th, len(rep.TestSets) > 0 || rep.ImageParameters == nil}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leakage audit{{if .Pipeline}} — {{.Pipeline}}{{end}}</title>
<style>
:root { --fg:#1d2330; --muted:#5b6475; --line:#dde2ea; --bg:#f6f7f9; --card:#fff; --accent:#2f6fdb; --hot:#d9480f; --mark:#ffe08a; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif; color:var(--fg); background:var(--bg); }
main { max-width:1180px; margin:0 auto; padding:28px 24px 60px; }
h1 { font-size:26px; margin:0 0 4px; }
h2 { font-size:20px; margin:36px 0 8px; padding-top:8px; border-top:1px solid var(--line); }
h3 { font-size:15px; margin:0; }
.sub { color:var(--muted); margin:0 0 20px; }
.cards { display:grid; grid-template-columns:repeat(4,1fr); gap:12px; margin:18px 0 22px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.card .v { font-size:24px; font-weight:650; }
.card .k { color:var(--muted); font-size:13px; }
.card.hot .v { color:var(--hot); }
table { border-collapse:collapse; width:100%; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line); font-size:14px; }
th { background:#eef1f5; font-weight:600; }
td.n { text-align:right; font-variant-numeric:tabular-nums; }
.bar { fill:#9db8e8; } .bar.hot { fill:var(--hot); }
.meter { height:8px; background:#eef1f5; border-radius:4px; min-width:90px; }
.meter span { display:block; height:8px; background:var(--hot); border-radius:4px; }
svg.hist { background:var(--card); border:1px solid var(--line); border-radius:8px; max-width:100%; height:auto; }
svg .axis { stroke:#8a93a3; } svg .threshold { stroke:var(--hot); stroke-dasharray:4 3; }
svg text { font:11px system-ui,sans-serif; fill:var(--muted); } svg .count { text-anchor:middle; fill:var(--fg); }
svg .thlabel { fill:var(--hot); } svg .caption { font-size:12px; } svg .empty { font-size:14px; text-anchor:middle; fill:var(--muted); } svg .empty.small { font-size:12px; }
.params { font-size:13px; color:var(--muted); background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 14px; margin-top:14px; }
.params code { color:var(--fg); }
.item { background:var(--card); border:1px solid var(--line); border-radius:8px; margin:14px 0; }
.item > header { display:flex; justify-content:space-between; gap:12px; padding:10px 14px; border-bottom:1px solid var(--line); background:#fbfbfc; border-radius:8px 8px 0 0; }
.badge { display:inline-block; font-size:12px; padding:1px 8px; border-radius:10px; background:#eef1f5; color:var(--muted); margin-left:6px; }
.badge.ngram { background:#e6f0ff; color:#1f4fa8; } .badge.minhash { background:#fff0e6; color:#a8461f; }
.pair { display:grid; grid-template-columns:1fr 1fr; border-top:1px solid var(--line); }
.pair:first-of-type { border-top:0; }
.side { padding:10px 14px; min-width:0; }
.side + .side { border-left:1px solid var(--line); }
.side .label { font-size:12px; color:var(--muted); margin-bottom:4px; overflow-wrap:anywhere; }
.text { white-space:pre-wrap; overflow-wrap:anywhere; font-size:13.5px; max-height:360px; overflow:auto; }
mark { background:var(--mark); border-radius:2px; padding:0 1px; }
.more { padding:8px 14px; color:var(--muted); font-size:13px; border-top:1px solid var(--line); }
details { margin:12px 0; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:8px 14px; }
summary { cursor:pointer; font-weight:600; }
.ids { font:12px ui-monospace,Menlo,Consolas,monospace; color:var(--muted); overflow-wrap:anywhere; margin-top:8px; }
.ok { color:#2b8a3e; font-weight:600; }
@media (max-width:800px) { .cards { grid-template-columns:repeat(2,1fr); } .pair { grid-template-columns:1fr; } .side + .side { border-left:0; border-top:1px solid var(--line); } }
</style>
</head>
<body>
<main>
<h1>Test-set leakage audit</h1>
<p class="sub">{{if .Pipeline}}Pipeline <b>{{.Pipeline}}</b>{{if .PipelineSHA256}} · sha256 {{printf "%.12s" .PipelineSHA256}}{{end}} · {{end}}{{if .HasText}}action <b>{{.Train.Action}}</b>{{else}}images{{end}}</p>
{{if .HasText}}<div class="cards">
<div class="card"><div class="v">{{.Train.Records}}</div><div class="k">training records checked ({{human .Train.Bytes}})</div></div>
<div class="card{{if .Train.Contaminated}} hot{{end}}"><div class="v">{{.Train.Contaminated}}</div><div class="k">contaminated records ({{pct .Train.Contaminated .Train.Records}} %)</div></div>
<div class="card"><div class="v">{{.Train.Dropped}}</div><div class="k">dropped</div></div>
<div class="card"><div class="v">{{.Train.Cut}}</div><div class="k">cut (matched text removed)</div></div>
</div>
<table>
<tr><th>test set</th><th>file</th><th class="n">items</th><th class="n">checked</th><th class="n">contaminated</th><th class="n">%</th><th></th><th class="n">n-gram</th></tr>
{{range .TestSets}}<tr><td><a href="#set-{{.Name}}">{{.Name}}</a></td><td>{{.File}}</td><td class="n">{{.Items}}</td><td class="n">{{.CheckedItems}}</td><td class="n">{{.ContaminatedItems}}</td><td class="n">{{printf "%.2f" .ContaminatedPercent}}</td><td><div class="meter"><span style="width:{{barw .ContaminatedPercent}}%"></span></div></td><td class="n">{{.NGram}}</td></tr>
{{end}}</table>
<div class="params">A document is contaminated by an item when it contains at least <code>{{.Parameters.MinContainment}}</code> of the item's distinct n-grams (n = <code>{{.Parameters.NGram}}</code>){{if .Parameters.MinHash}}, or when a window of it sized like the item contains an estimated <code>{{.Parameters.MinHashThreshold}}</code> of the item's word pairs (MinHash LSH, {{.Parameters.MinHashBands}} bands × {{.Parameters.MinHashRows}} rows, items of at least {{.Parameters.MinHashMinTokens}} tokens){{end}}. Items under {{.Parameters.MinItemTokens}} tokens are too short to judge and listed as unchecked. Up to {{.Parameters.MaxExamplesPerItem}} matching records are listed per item, the earliest in input order; the match counts include all of them. Tokens: {{.Parameters.Tokenization}}.{{if .Parameters.SkippedLines}}
<p>Test set lines skipped because they could not be read:</p><ul>{{range .Parameters.SkippedLines}}<li>{{.TestSet}}: <code>{{.File}}:{{.Line}}</code>: {{.Error}}</li>{{end}}</ul>{{end}}</div>
{{range .TestSets}}
<h2 id="set-{{.Name}}">{{.Name}} <span class="badge">{{.Type}}</span></h2>
<p>{{.ContaminatedItems}} of {{.CheckedItems}} checked items contaminated ({{printf "%.2f" .ContaminatedPercent}} %){{if .UncheckedIDs}}; {{len .UncheckedIDs}} unchecked{{end}}{{if .SkippedRecords}}; {{.SkippedRecords}} records skipped (no text, or a line that could not be read){{end}}. n-gram length {{.NGram}}.</p>
{{hist .Histogram $.Threshold}}
{{if not .Contaminated}}<p class="ok">No item of this test set was found in the corpus.</p>{{end}}
{{$set := .}}{{range .Contaminated}}
<section class="item">
<header><h3>{{$set.Name}}/{{.TestID}}</h3><span>best score {{printf "%.2f" .Score}} · {{.MatchCount}} matching record{{if ne .MatchCount 1}}s{{end}}</span></header>
{{$item := .}}{{range .Matches}}
<div class="pair">
<div class="side"><div class="label">test item {{$set.Name}}/{{$item.TestID}}</div><div class="text">{{range segments $item.Text .ItemSpans}}{{if .Mark}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}</div></div>
<div class="side"><div class="label">training record <b>{{.TrainID}}</b>{{if .TrainURL}} · {{.TrainURL}}{{end}} <span class="badge {{.Method}}">{{.Method}} {{printf "%.2f" .Score}}</span>{{if .ExcerptPos}} · from byte {{.ExcerptPos}}{{end}}</div><div class="text">{{range segments .Excerpt .Spans}}{{if .Mark}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}</div></div>
</div>
{{end}}{{if .MoreMatches}}<div class="more">… and {{.MoreMatches}} more matching records: only the first {{$.Parameters.MaxExamplesPerItem}} in input order are listed here and in report.json (max_examples_per_item); the count includes all.</div>{{end}}
</section>
{{end}}
<details><summary>Clean item ids ({{len .CleanIDs}}) — evaluate on these for an uncontaminated score</summary><div class="ids">{{join .CleanIDs ", "}}</div></details>
{{if .UncheckedIDs}}<details><summary>Unchecked item ids ({{len .UncheckedIDs}}) — too short to judge</summary><div class="ids">{{join .UncheckedIDs ", "}}</div></details>{{end}}
{{end}}
{{end}}{{template "images" .}}</main>
</body>
</html>
`
