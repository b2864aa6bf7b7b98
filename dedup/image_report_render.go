package dedup

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
)

// thumbURL lets the report's own thumbnails through html/template, which
// would otherwise replace every data: URL with a placeholder. Anything that
// is not a JPEG data URI this package made stays filtered.
func thumbURL(s string) template.URL {
	if strings.HasPrefix(s, "data:image/jpeg;base64,") && !strings.ContainsAny(s, "\"'<> ") {
		return template.URL(s)
	}
	return template.URL("")
}

// renderImageMarkdown writes the image sections of report.md. Markdown
// viewers differ in whether they show data: URIs, so the thumbnails are in
// report.html and report.json; report.md names the files.
func renderImageMarkdown(b *bytes.Buffer, rep *LeakReport) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p, t := rep.ImageParameters, rep.ImageTrain
	w("## Images\n\n")
	w("Training images: **%d records**, %d hashed, %d without a usable image; **%d matched a test image** (action `%s`: %d dropped); %d near-duplicates within the corpus.\n\n",
		t.Records, t.Hashed, t.Unhashable, t.Contaminated, p.Action, t.Dropped, t.NearDuplicates)
	w("Parameters: %s, %d bits, Hamming distance ≤ %d, mirror images matched: %v, within corpus: %v", p.Hash, p.Bits, p.MaxDistance, p.Mirror, p.WithinCorpus)
	if p.TestCrops {
		w(", test images' crops matched at distance ≤ %d", p.CropMaxDistance)
	}
	w(".\n\n")
	if len(rep.ImageTestSets) == 0 {
		return
	}
	w("| test set | folder | images | unreadable | found in corpus | %% |\n|---|---|---:|---:|---:|---:|\n")
	for _, s := range rep.ImageTestSets {
		w("| %s | %s | %d | %d | %d | %.2f |\n", s.Name, s.Folder, s.Images, len(s.Unreadable), s.ContaminatedImages, s.ContaminatedPercent)
	}
	for _, s := range rep.ImageTestSets {
		w("\n### %s\n\n", s.Name)
		for _, it := range s.Contaminated {
			w("- `%s` (best distance %d, %d matching records)\n", it.TestID, it.Distance, it.MatchCount)
			for _, m := range it.Matches {
				w("  - `%s`", m.TrainID)
				if m.ImagePath != "" {
					w(" %s", m.ImagePath)
				}
				if m.TrainURL != "" {
					w(" <%s>", m.TrainURL)
				}
				w(" — distance %d", m.Distance)
				if m.Mirrored {
					w(", mirrored")
				}
				if m.Caption != "" {
					w(" — “%s”", m.Caption)
				}
				w("\n")
			}
			if it.MoreMatches > 0 {
				w("  - … and %d more\n", it.MoreMatches)
			}
		}
		for _, u := range s.Unreadable {
			w("- unreadable: %s\n", u)
		}
		w("\nClean ids (%d): %s\n", len(s.CleanIDs), strings.Join(s.CleanIDs, ", "))
	}
}

// imageReportHTML is the "images" template, rendered at the end of
// report.html; it renders nothing for a text-only report.
const imageReportHTML = `{{define "images"}}{{with .ImageParameters}}{{$t := $.ImageTrain}}
<h2 id="images">Images</h2>
<div class="cards">
<div class="card"><div class="v">{{$t.Records}}</div><div class="k">training images checked ({{$t.Hashed}} hashed)</div></div>
<div class="card{{if $t.Contaminated}} hot{{end}}"><div class="v">{{$t.Contaminated}}</div><div class="k">matched a test image</div></div>
<div class="card"><div class="v">{{$t.Dropped}}</div><div class="k">dropped</div></div>
<div class="card"><div class="v">{{$t.NearDuplicates}}</div><div class="k">near-duplicates within the corpus</div></div>
</div>
<div class="params">Two images match when their 64-bit <code>{{.Hash}}</code> perceptual hashes differ in at most <code>{{.MaxDistance}}</code> bits{{if .Mirror}}, comparing the mirror image's hash too{{end}}{{if .TestCrops}}; a test image's centre and corner crops match at most <code>{{.CropMaxDistance}}</code> bits apart{{end}}. {{if .WithinCorpus}}Near-duplicates within the corpus are dropped, first seen wins. {{end}}Records without a decodable image: {{$t.Unhashable}}.</div>
{{if $.ImageTestSets}}<table>
<tr><th>test set</th><th>folder</th><th class="n">images</th><th class="n">unreadable</th><th class="n">found in corpus</th><th class="n">%</th><th></th></tr>
{{range $.ImageTestSets}}<tr><td><a href="#imgset-{{.Name}}">{{.Name}}</a></td><td>{{.Folder}}</td><td class="n">{{.Images}}</td><td class="n">{{len .Unreadable}}</td><td class="n">{{.ContaminatedImages}}</td><td class="n">{{printf "%.2f" .ContaminatedPercent}}</td><td><div class="meter"><span style="width:{{barw .ContaminatedPercent}}%"></span></div></td></tr>
{{end}}</table>{{end}}
{{range $.ImageTestSets}}
<h2 id="imgset-{{.Name}}">{{.Name}} <span class="badge">{{.Type}}</span></h2>
<p>{{.ContaminatedImages}} of {{.Images}} test images found in the corpus ({{printf "%.2f" .ContaminatedPercent}} %){{if .Unreadable}}; {{len .Unreadable}} files unreadable{{end}}.</p>
{{if not .Contaminated}}<p class="ok">No image of this test set was found in the corpus.</p>{{end}}
{{range .Contaminated}}{{$item := .}}
<section class="item">
<header><h3>{{.TestID}}</h3><span>best distance {{.Distance}} · {{.MatchCount}} matching record{{if ne .MatchCount 1}}s{{end}}</span></header>
{{range .Matches}}
<div class="pair">
<div class="side"><div class="label">test image {{$item.TestID}}</div><img class="thumb" src="{{thumb $item.Thumbnail}}" alt="test image {{$item.TestID}}"></div>
<div class="side"><div class="label">training record <b>{{.TrainID}}</b>{{if .ImagePath}} · {{.ImagePath}}{{end}}{{if .TrainURL}} · {{.TrainURL}}{{end}} <span class="badge">distance {{.Distance}}{{if .Mirrored}} · mirrored{{end}}</span></div><img class="thumb" src="{{thumb .Thumbnail}}" alt="training image {{.TrainID}}">{{if .Caption}}<div class="text">{{.Caption}}</div>{{end}}</div>
</div>
{{end}}{{if .MoreMatches}}<div class="more">… and {{.MoreMatches}} more matching records (see report.json for counts).</div>{{end}}
</section>
{{end}}{{if .Unreadable}}<details><summary>Unreadable files ({{len .Unreadable}})</summary><div class="ids">{{join .Unreadable "; "}}</div></details>{{end}}
<details><summary>Clean image ids ({{len .CleanIDs}}) — evaluate on these for an uncontaminated score</summary><div class="ids">{{join .CleanIDs ", "}}</div></details>
{{end}}{{end}}{{end}}`
