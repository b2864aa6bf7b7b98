package dedup

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// The image part of the leakage audit report. A report written by
// image_dedup holds only these sections; report.json keeps the text
// sections' keys out (omitzero) so a text report is unchanged.

// ImageReportParams records how images were compared.
type ImageReportParams struct {
	Hash         string `json:"hash"`
	Bits         int    `json:"bits"`
	MaxDistance  int    `json:"max_distance"`
	Mirror       bool   `json:"mirror"`
	WithinCorpus bool   `json:"within_corpus"`
	Action       string `json:"action"`
	// TestCrops: test images' crops were matched too, at distance at most
	// CropMaxDistance.
	TestCrops       bool `json:"test_crops"`
	CropMaxDistance int  `json:"crop_max_distance,omitempty"`
}

// ImageTotals are corpus-wide counts of the image stage.
type ImageTotals struct {
	Records        int64 `json:"records"`
	Hashed         int64 `json:"hashed"`
	Unhashable     int64 `json:"unhashable"`
	Contaminated   int64 `json:"contaminated"`
	Dropped        int64 `json:"dropped"`
	NearDuplicates int64 `json:"near_duplicates"`
}

// ImageTestSetReport is one test folder's result.
type ImageTestSetReport struct {
	Name                string            `json:"name"`
	Type                string            `json:"type"`
	Folder              string            `json:"folder"`
	Images              int               `json:"images"`
	Unreadable          []string          `json:"unreadable"`
	ContaminatedImages  int               `json:"contaminated_images"`
	ContaminatedPercent float64           `json:"contaminated_percent"`
	Contaminated        []ImageItemReport `json:"contaminated"`
	CleanIDs            []string          `json:"clean_ids"`
}

// ImageItemReport is one test image found in the corpus.
type ImageItemReport struct {
	TestID      string       `json:"test_id"`
	Thumbnail   string       `json:"thumbnail"` // data: URI
	Distance    int          `json:"best_distance"`
	MatchCount  int          `json:"match_count"`
	Matches     []ImageMatch `json:"matches"`
	MoreMatches int          `json:"more_matches"`
}

// ImageMatch is one corpus record whose image is near a test image.
type ImageMatch struct {
	TrainID   string `json:"train_id"`
	TrainURL  string `json:"train_url,omitempty"`
	Source    string `json:"train_source,omitempty"`
	ImagePath string `json:"train_image_path,omitempty"`
	Caption   string `json:"train_caption,omitempty"`
	Distance  int    `json:"distance"`
	Mirrored  bool   `json:"mirrored"`
	Thumbnail string `json:"thumbnail"` // data: URI
}

// Report assembles the image report. Process ran in input order, so the
// report does not depend on scheduling.
func (d *ImageDedup) Report() (*LeakReport, error) {
	rep := &LeakReport{
		Pipeline: d.env.PipelineName, PipelineSHA256: d.env.PipelineSHA256,
		ImageParameters: &ImageReportParams{
			Hash: d.cfg.Hash, Bits: 64, MaxDistance: d.cfg.MaxDistance, Mirror: d.cfg.Mirror,
			WithinCorpus: d.cfg.WithinCorpus, Action: d.cfg.Action,
			TestCrops: d.cfg.TestCrops, CropMaxDistance: d.cfg.CropDistance,
		},
		ImageTrain: &ImageTotals{},
	}
	*rep.ImageTrain = d.totals
	rep.ImageTestSets = []ImageTestSetReport{}
	for _, set := range d.tests.sets {
		tr := ImageTestSetReport{
			Name: set.Spec.Name, Type: set.Spec.Type, Folder: filepath.Base(set.Spec.Path), Images: set.count,
			Unreadable: append([]string{}, set.Unreadable...), Contaminated: []ImageItemReport{}, CleanIDs: []string{},
		}
		for i := set.first; i < set.first+set.count; i++ {
			ti := d.tests.images[i]
			if d.counts[i] == 0 {
				tr.CleanIDs = append(tr.CleanIDs, ti.id)
				continue
			}
			thumb, err := fileThumbnail(ti.path, d.cfg.MaxPixels, d.cfg.Thumbnail)
			if err != nil {
				return nil, fmt.Errorf("image report: test image %s: %w", ti.path, err)
			}
			tr.ContaminatedImages++
			tr.Contaminated = append(tr.Contaminated, ImageItemReport{
				TestID: ti.id, Thumbnail: thumb, Distance: d.best[i], MatchCount: d.counts[i],
				Matches: d.matches[i], MoreMatches: d.counts[i] - len(d.matches[i]),
			})
		}
		if set.count > 0 {
			tr.ContaminatedPercent = round4(100 * float64(tr.ContaminatedImages) / float64(set.count))
		}
		rep.ImageTestSets = append(rep.ImageTestSets, tr)
	}
	return rep, nil
}

func fileThumbnail(path string, maxPixels int64, side int) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	img, _, err := imageutil.Decode(data, maxPixels)
	if err != nil {
		return "", err
	}
	return imageutil.ThumbnailDataURI(img, side)
}
