// Package trainer is corpusflow's embedded trainer: a BERT masked-LM encoder
// on gorgonia.org/tensor that streams from the Arrow shards a pipeline
// writes, while they are being written if need be.
//
// # Model
//
// Token + learned position + segment embeddings, LayerNorm, L transformer
// blocks (multi-head self-attention with the padding mask, exact-erf GELU
// feed-forward, post-LayerNorm residuals), the MLM head (dense + GELU +
// LayerNorm, decoder tied to the word embeddings, with its own bias) and,
// for shards packed in mode nsp, BERT's pooler and next-sentence head. No
// dropout. Parameters, gradients, AdamW moments and activations are
// gorgonia.org/tensor Dense tensors; forward and backward are written per
// operation (ops_*.go) over their backing slices and checked against finite
// differences in float64 (gradcheck_test.go, model_test.go). Model[T] is
// generic: float32 trains, float64 checks. The MLM head scores only the
// masked positions, which gives the same loss and gradients as scoring all
// of them and saves most of the vocabulary-sized multiply.
//
// Every matrix multiply goes through one BLAS, which is also installed as
// gorgonia.org/tensor's (tensor.Use): gonum's pure-Go BLAS by default, or
// OpenBLAS with `-tags openblas` (cgo, Debian libopenblas-dev), pinned to one
// thread per call with large multiplies split across cores by the trainer.
//
// # Objective and optimiser
//
// RoBERTa-style dynamic masking when an example is read (masking.go): 15 % of
// the non-special tokens, 80 % [MASK] / 10 % random / 10 % unchanged,
// optionally whole words; the choice depends only on the seed and the
// example's (epoch, shard, row), so a resumed run masks exactly what an
// uninterrupted one would. AdamW with torch's update rule (no decay on biases
// and LayerNorm), linear warmup then linear, cosine or constant rate,
// global-norm clipping, gradient accumulation.
//
// # Outputs
//
//	OUTPUT/metrics.jsonl        one line per update (loss, mlm_accuracy, lr,
//	                            grad_norm, tokens_per_s, ...) and per held-out
//	                            evaluation (eval_loss, eval_perplexity, ...)
//	OUTPUT/loss.svg, loss.png   training and held-out loss per update
//	OUTPUT/train_summary.{md,json}
//	OUTPUT/checkpoints/step-NNNNNNN/
//	    model.safetensors       Hugging Face BERT names (bert.embeddings...,
//	                            cls.predictions...); with config.json,
//	                            transformers.BertForMaskedLM.from_pretrained
//	                            (BertForPreTraining for NSP) loads the dir
//	    config.json, vocab.txt (when known)
//	    optimizer.safetensors   AdamW moments (exp_avg.NAME, exp_avg_sq.NAME)
//	    trainer_state.json      step, epoch, data position, configuration
//	OUTPUT/checkpoints/latest   name of the newest complete checkpoint
//
// --resume restores weights, moments, step and data position, and continues
// bit-identically (TestResumeIsExact). parity/torch_bert.py rebuilds the
// model in PyTorch from model.safetensors and compares loss and gradients
// (TestTorchParity); parity/speed.sh times both side by side.
package trainer
