package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestImagePipelinesRun runs both shipped image–text pipelines end to end,
// as a user would: the truncated JPEG is rejected with its reason, the
// held-out photo planted in the corpus is found (the BiT check), the image
// audit report is written, the shards are complete and the contrastive
// training run at the end trains on them.
func TestImagePipelinesRun(t *testing.T) {
	for _, name := range []string{"image-text.yaml", "image-text-zh.yaml"} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			yaml := filepath.Join("..", "..", "pipelines", name)
			if code := dispatch([]string{"run", yaml, "--output", out, "--quiet", "--log-level", "error"}); code != exitOK {
				t.Fatalf("run exited %d", code)
			}
			rejected := map[string]int64{}
			for _, st := range readStats(t, out).Stages {
				if st.In != st.Kept+st.RejectedTotal() {
					t.Errorf("stage %s: in %d != kept %d + rejected %d", st.Name, st.In, st.Kept, st.RejectedTotal())
				}
				for reason, n := range st.Rejected {
					rejected[st.Use+"/"+reason] += n
				}
			}
			if rejected["image_decode/image_corrupt"] == 0 {
				t.Errorf("the bundled truncated JPEG was not rejected as image_corrupt: %v", rejected)
			}
			if rejected["image_dedup/test_image_leak"] == 0 {
				t.Errorf("the held-out photo planted in the corpus was not found: %v", rejected)
			}
			if _, err := os.Stat(filepath.Join(out, "audit", "report.html")); err != nil {
				t.Errorf("no image audit report: %v", err)
			}

			var manifest struct {
				Rows     int  `json:"rows"`
				Complete bool `json:"complete"`
			}
			readJSON(t, filepath.Join(out, "shards", "manifest.json"), &manifest)
			if manifest.Rows == 0 || !manifest.Complete {
				t.Errorf("shards: %d rows, complete %v", manifest.Rows, manifest.Complete)
			}

			var summary struct {
				Model     string  `json:"model"`
				Steps     int     `json:"steps"`
				PairsSeen int     `json:"pairs_seen"`
				FirstLoss float64 `json:"first_loss"`
				FinalLoss float64 `json:"final_loss"`
			}
			readJSON(t, filepath.Join(out, "train", "train_summary.json"), &summary)
			if summary.Model != "contrastive" || summary.Steps == 0 || summary.PairsSeen == 0 {
				t.Errorf("training summary: %+v", summary)
			}
			// Twenty updates on a handful of pairs must at least fit them.
			if !(summary.FinalLoss < summary.FirstLoss) {
				t.Errorf("training loss did not fall: %v → %v", summary.FirstLoss, summary.FinalLoss)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
