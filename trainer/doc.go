// Package trainer is the embedded trainer: masked-LM and contrastive models on
// gorgonia.org/tensor that stream from corpusflow's Arrow shards.
package trainer
