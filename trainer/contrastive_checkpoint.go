package trainer

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// A contrastive checkpoint is a directory OUTPUT/checkpoints/step-NNNNNNN
// holding
//
//	model.safetensors      text_model.* (Hugging Face BertModel names),
//	                       vision_model.* (ViTModel names), text_projection,
//	                       visual_projection, logit_scale: the state-dict
//	                       layout of transformers' VisionTextDualEncoderModel
//	config.json            both towers' configs, projection size, pooling,
//	                       image preprocessing
//	momentum.safetensors   with a momentum encoder: its weights (same names)
//	                       and the key queues; metadata queue_ptr, queue_filled
//	optimizer.safetensors  AdamW moments: exp_avg.<name>, exp_avg_sq.<name>
//	trainer_state.json     step, data position, configuration
//	vocab.txt              when the run knows the vocabulary file
//
// written under a temporary name and renamed, as the masked-LM trainer's.

const momentumFile = "momentum.safetensors"

// ContrastiveState is what --resume needs besides the tensors.
type ContrastiveState struct {
	Step     int                    `json:"step"`
	Epoch    int                    `json:"epoch"`
	Position json.RawMessage        `json:"data_position"`
	Examples int64                  `json:"examples_seen"`
	Skipped  int64                  `json:"examples_skipped"`
	Config   ContrastiveTrainConfig `json:"config"`
	Data     string                 `json:"data"`
	BLAS     string                 `json:"blas"`
}

// hfConfig is config.json: a VisionTextDualEncoderConfig with corpusflow's
// settings beside it.
func (c ContrastiveConfig) hfConfig(textLen int) map[string]any {
	text := c.Text.hfConfig()
	text["architectures"] = []string{"BertModel"}
	delete(text, "corpusflow_nsp")
	return map[string]any{
		"architectures":          []string{"VisionTextDualEncoderModel"},
		"model_type":             "vision-text-dual-encoder",
		"projection_dim":         c.ProjectionDim,
		"logit_scale_init_value": math.Log(1 / c.InitTemperature),
		"text_config":            text,
		"vision_config":          c.Vision.hfConfig(),
		"torch_dtype":            "float32",
		"corpusflow": map[string]any{
			"objective":        "symmetric InfoNCE (CLIP)",
			"text_pooling":     c.Pool,
			"text_length":      textLen,
			"init_temperature": c.InitTemperature,
			"max_logit_scale":  c.MaxLogitScale,
			"queue":            c.Queue,
			"momentum":         c.Momentum,
			"image_resize":     "center_crop",
			"image_mean":       imageMean,
			"image_std":        imageStd,
		},
	}
}

// ParseContrastiveConfig reads back the model shape from a config.json
// written by saveContrastiveCheckpoint.
func ParseContrastiveConfig(b []byte) (ContrastiveConfig, error) {
	var raw struct {
		ProjectionDim int             `json:"projection_dim"`
		Text          json.RawMessage `json:"text_config"`
		Vision        VisionConfig    `json:"vision_config"`
		Extra         struct {
			Pool            string  `json:"text_pooling"`
			InitTemperature float64 `json:"init_temperature"`
			MaxLogitScale   float64 `json:"max_logit_scale"`
			Queue           int     `json:"queue"`
			Momentum        float64 `json:"momentum"`
		} `json:"corpusflow"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return ContrastiveConfig{}, err
	}
	if raw.Text == nil {
		return ContrastiveConfig{}, fmt.Errorf("no text_config")
	}
	text, err := ParseHFConfig(raw.Text)
	if err != nil {
		return ContrastiveConfig{}, fmt.Errorf("text_config: %w", err)
	}
	c := ContrastiveConfig{Text: text, Vision: raw.Vision, ProjectionDim: raw.ProjectionDim, Pool: raw.Extra.Pool,
		InitTemperature: raw.Extra.InitTemperature, MaxLogitScale: raw.Extra.MaxLogitScale,
		Queue: raw.Extra.Queue, Momentum: raw.Extra.Momentum}
	return c, c.Validate()
}

func saveContrastiveCheckpoint(out string, m *ContrastiveModel[float32], o *AdamW[float32], st ContrastiveState, keep int) (string, error) {
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
		shape := stateDictShape(p)
		weights = append(weights, NamedTensor{Name: p.Name, Shape: shape, Data: p.W})
		moments = append(moments,
			NamedTensor{Name: "exp_avg." + p.Name, Shape: shape, Data: values[float32](o.m[i])},
			NamedTensor{Name: "exp_avg_sq." + p.Name, Shape: shape, Data: values[float32](o.v[i])})
	}
	if err := WriteSafetensors(filepath.Join(tmp, modelFile), weights, map[string]string{"format": "pt"}); err != nil {
		return "", err
	}
	if err := WriteSafetensors(filepath.Join(tmp, optimizerFile), moments, map[string]string{"steps": fmt.Sprint(o.Steps)}); err != nil {
		return "", err
	}
	if e := m.mom; e != nil {
		var ts []NamedTensor
		for _, p := range e.params {
			ts = append(ts, NamedTensor{Name: p.Name, Shape: p.Shape, Data: p.W})
		}
		D := m.Config.ProjectionDim
		ts = append(ts,
			NamedTensor{Name: "queue.text", Shape: []int{m.Config.Queue, D}, Data: e.queueText},
			NamedTensor{Name: "queue.image", Shape: []int{m.Config.Queue, D}, Data: e.queueImage})
		meta := map[string]string{"queue_ptr": strconv.Itoa(e.ptr), "queue_filled": strconv.Itoa(e.filled)}
		if err := WriteSafetensors(filepath.Join(tmp, momentumFile), ts, meta); err != nil {
			return "", err
		}
	}
	cfg, err := json.MarshalIndent(m.Config.hfConfig(st.Config.TextLen), "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, configFile), append(cfg, '\n'), 0o644); err != nil {
		return "", err
	}
	if vp := st.Config.VocabPath; vp != "" {
		if b, err := os.ReadFile(vp); err == nil {
			if err := os.WriteFile(filepath.Join(tmp, "vocab.txt"), b, 0o644); err != nil {
				return "", err
			}
		}
	}
	sb, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, stateFile), append(sb, '\n'), 0o644); err != nil {
		return "", err
	}
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(root, latestFile), []byte(name+"\n")); err != nil {
		return "", err
	}
	pruneCheckpoints(root, keep)
	return final, nil
}

// loadContrastiveCheckpoint restores weights, moments and the momentum
// encoder from dir into m and o.
func loadContrastiveCheckpoint(dir string, m *ContrastiveModel[float32], o *AdamW[float32]) error {
	path := filepath.Join(dir, modelFile)
	tensors, _, err := ReadSafetensors(path)
	if err != nil {
		return err
	}
	if err := copyTensors(path, tensors, "", m.Params()); err != nil {
		return err
	}
	if err := loadMoments(filepath.Join(dir, optimizerFile), m.Params(), o); err != nil {
		return err
	}
	e := m.mom
	if e == nil {
		return nil
	}
	path = filepath.Join(dir, momentumFile)
	mt, meta, err := ReadSafetensors(path)
	if err != nil {
		return err
	}
	if err := copyTensors(path, mt, "", e.params); err != nil {
		return err
	}
	for _, q := range []struct {
		name string
		dst  []float32
	}{{"queue.text", e.queueText}, {"queue.image", e.queueImage}} {
		t, ok := mt[q.name]
		if !ok || len(t.Data) != len(q.dst) {
			return fmt.Errorf("%s: missing or mis-shaped %s (queue %d × %d)", path, q.name, m.Config.Queue, m.Config.ProjectionDim)
		}
		copy(q.dst, t.Data)
	}
	ptr, err1 := strconv.Atoi(meta["queue_ptr"])
	filled, err2 := strconv.Atoi(meta["queue_filled"])
	if err1 != nil || err2 != nil || ptr < 0 || filled < 0 || filled > m.Config.Queue || (m.Config.Queue > 0 && ptr >= m.Config.Queue) {
		return fmt.Errorf("%s: queue position %q, fill %q do not fit a queue of %d", path, meta["queue_ptr"], meta["queue_filled"], m.Config.Queue)
	}
	e.ptr, e.filled = ptr, filled
	return nil
}

func copyTensors(path string, tensors map[string]NamedTensor, prefix string, params []*Param[float32]) error {
	for _, p := range params {
		t, ok := tensors[prefix+p.Name]
		if !ok {
			return fmt.Errorf("%s: no tensor %s", path, prefix+p.Name)
		}
		if want := stateDictShape(p); len(t.Data) != p.Size() || len(t.Shape) != len(want) {
			return fmt.Errorf("%s: %s has shape %v, the model needs %v", path, p.Name, t.Shape, want)
		}
		copy(p.W, t.Data)
	}
	return nil
}
