package trainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// A checkpoint is a directory OUTPUT/checkpoints/step-NNNNNNN holding
//
//	model.safetensors      weights under Hugging Face BERT names
//	config.json            BertConfig, so BertForMaskedLM.from_pretrained loads it
//	vocab.txt              the vocabulary, when the run knows it
//	optimizer.safetensors  AdamW moments: exp_avg.<name>, exp_avg_sq.<name>
//	trainer_state.json     step, data position, configs
//
// It is written under a temporary name and renamed, and OUTPUT/checkpoints/
// latest names the newest complete one.

const (
	modelFile     = "model.safetensors"
	optimizerFile = "optimizer.safetensors"
	stateFile     = "trainer_state.json"
	configFile    = "config.json"
	latestFile    = "latest"
)

// TrainerState is what --resume needs besides weights and moments.
type TrainerState struct {
	Step     int             `json:"step"`
	Epoch    int             `json:"epoch"`
	Position json.RawMessage `json:"data_position"`
	Examples int64           `json:"examples_seen"`
	Tokens   int64           `json:"tokens_seen"`
	Skipped  int64           `json:"examples_skipped"`
	Config   Config          `json:"config"`
	Data     string          `json:"data"`
	BLAS     string          `json:"blas"`
}

func checkpointsDir(out string) string { return filepath.Join(out, "checkpoints") }

func saveCheckpoint(out string, m *Model[float32], o *AdamW[float32], st TrainerState, vocabPath string, keep int) (string, error) {
	root := checkpointsDir(out)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	name := fmt.Sprintf("step-%07d", st.Step)
	final := filepath.Join(root, name)
	tmp := final + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	var weights, moments []NamedTensor
	for i, p := range m.Params() {
		weights = append(weights, NamedTensor{Name: p.Name, Shape: p.Shape, Data: p.W})
		moments = append(moments,
			NamedTensor{Name: "exp_avg." + p.Name, Shape: p.Shape, Data: values[float32](o.m[i])},
			NamedTensor{Name: "exp_avg_sq." + p.Name, Shape: p.Shape, Data: values[float32](o.v[i])})
	}
	if err := WriteSafetensors(filepath.Join(tmp, modelFile), weights, map[string]string{"format": "pt"}); err != nil {
		return "", err
	}
	if err := WriteSafetensors(filepath.Join(tmp, optimizerFile), moments, map[string]string{"steps": fmt.Sprint(o.Steps)}); err != nil {
		return "", err
	}
	if err := m.Config.WriteHFConfig(filepath.Join(tmp, configFile)); err != nil {
		return "", err
	}
	if vocabPath != "" {
		if b, err := os.ReadFile(vocabPath); err == nil {
			if err := atomicfile.WriteFile(filepath.Join(tmp, "vocab.txt"), b); err != nil {
				return "", err
			}
		}
	}
	sb, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(tmp, stateFile), append(sb, '\n')); err != nil {
		return "", err
	}
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	if err := atomicfile.SyncDir(root); err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(root, latestFile), []byte(name+"\n")); err != nil {
		return "", err
	}
	pruneCheckpoints(root, keep)
	return final, nil
}

// pruneCheckpoints keeps the newest keep checkpoints (keep <= 0 keeps all).
func pruneCheckpoints(root string, keep int) {
	if keep <= 0 {
		return
	}
	entries, _ := os.ReadDir(root)
	var names []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "step-") && !strings.HasSuffix(e.Name(), ".tmp") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for len(names) > keep {
		os.RemoveAll(filepath.Join(root, names[0]))
		names = names[1:]
	}
}

// LatestCheckpoint returns the newest complete checkpoint under out, or "".
func LatestCheckpoint(out string) (string, error) {
	b, err := os.ReadFile(filepath.Join(checkpointsDir(out), latestFile))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return filepath.Join(checkpointsDir(out), strings.TrimSpace(string(b))), nil
}

// loadWeights copies a model.safetensors into m, checking that every
// parameter is present with its shape.
func loadWeights(path string, m *Model[float32]) error {
	tensors, _, err := ReadSafetensors(path)
	if err != nil {
		return err
	}
	for _, p := range m.Params() {
		t, ok := tensors[p.Name]
		if !ok {
			return fmt.Errorf("%s: no tensor %s", path, p.Name)
		}
		if shapeSize(t.Shape) != p.Size() || len(t.Shape) != len(p.Shape) {
			return fmt.Errorf("%s: %s has shape %v, the model needs %v", path, p.Name, t.Shape, p.Shape)
		}
		copy(p.W, t.Data)
	}
	return nil
}

// loadMoments restores AdamW's moments of params (exp_avg.NAME and
// exp_avg_sq.NAME in the optimizer file at path) into o.
func loadMoments(path string, params []*Param[float32], o *AdamW[float32]) error {
	tensors, _, err := ReadSafetensors(path)
	if err != nil {
		return err
	}
	for i, p := range params {
		for _, part := range []struct {
			prefix string
			dst    []float32
		}{{"exp_avg.", values[float32](o.m[i])}, {"exp_avg_sq.", values[float32](o.v[i])}} {
			t, ok := tensors[part.prefix+p.Name]
			if !ok || len(t.Data) != len(part.dst) {
				return fmt.Errorf("%s: missing or mis-shaped %s%s", path, part.prefix, p.Name)
			}
			copy(part.dst, t.Data)
		}
	}
	return nil
}

func readState(dir string) (TrainerState, error) {
	var st TrainerState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return st, nil
}
