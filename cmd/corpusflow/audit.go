package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/corpusflow/corpusflow/pipelines"
)

func init() {
	register(command{
		name:    "audit",
		usage:   "PIPELINE.yaml [--output DIR] [--workers N]",
		summary: "check a pipeline's sources against its test sets: runs the sources and the leakage checks only (decontaminate; image_dedup with the image stages it needs), writes OUTPUT/audit/report.{json,md,html}",
		run:     runAudit,
	})
}

// auditStages are the stages an audit keeps: the leakage checks and what the
// image check needs before it (decoded images and their hashes).
var auditStages = map[string]bool{
	"decontaminate": true,
	"image_decode":  true,
	"image_hash":    true,
	"image_dedup":   true,
}

// runAudit answers "is my corpus leaking?" quickly: it keeps the pipeline's
// sources and its decontaminate stage(s) and drops every other stage, the
// sinks and the rejects file, so nothing but the report (and stats.json) is
// written. Filters and dedup are skipped on purpose: the audit is about the
// raw corpus.
func runAudit(args []string) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	output := fs.String("output", "", "output directory (overrides the pipeline's `output:`)")
	workers := fs.Int("workers", 0, "worker goroutines (0 keeps the pipeline's value)")
	quiet := fs.Bool("quiet", false, "no progress bar and no summary table")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: corpusflow audit PIPELINE.yaml [--output DIR] [--workers N]")
		return exitUsage
	}
	logger, err := newLogger(*logLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	p, err := pipelines.Load(pos[0])
	if err != nil {
		printLoadError(pos[0], err)
		return exitUsage
	}
	var keep []*pipelines.Component
	checks := 0
	for _, st := range p.Stages {
		if auditStages[st.Use] {
			keep = append(keep, st)
		}
		if st.Use == "decontaminate" || st.Use == "image_dedup" {
			checks++
		}
	}
	if checks == 0 {
		fmt.Fprintf(os.Stderr, "%s: the pipeline has no `use: decontaminate` or `use: image_dedup` stage, so there is nothing to audit against\n", p.File)
		return exitUsage
	}
	p.Stages, p.Sinks, p.Rejects = keep, nil, nil
	built, err := p.Build(pipelines.BuildOptions{Output: *output, Workers: *workers, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	code := execute(p, built, logger, executeOptions{quiet: *quiet})
	if code == exitOK || code == exitInterrupted {
		for _, dir := range reportDirs(keep) {
			report := filepath.Join(dir, "report.html")
			if _, err := os.Stat(report); err == nil {
				fmt.Fprintf(os.Stderr, "leakage report: %s\n", report)
			}
		}
	}
	return code
}

// reportDirs are the report directories of the leakage checks among stages
// (their `report` parameter, absolute once the pipeline is built).
func reportDirs(stages []*pipelines.Component) []string {
	var dirs []string
	for _, st := range stages {
		if st.Use != "decontaminate" && st.Use != "image_dedup" {
			continue
		}
		v := reflect.ValueOf(st.Config)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			continue
		}
		if f := v.Elem().FieldByName("Report"); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
			dirs = append(dirs, f.String())
		}
	}
	return dirs
}
