package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/corpusflow/corpusflow/flow/kafka"
	"github.com/corpusflow/corpusflow/pipelines"
)

const composeFile = "../../docker-compose.yml"

// TestComposeValidates runs Debian's docker-compose on the file: `config`
// needs no Docker engine. scripts/test-deps.sh installs it; without it this
// test fails rather than skips.
func TestComposeValidates(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatal("docker-compose is not installed: run scripts/test-deps.sh (Debian package docker-compose)")
	}
	for _, args := range [][]string{
		{"-f", composeFile, "config", "-q"},
		{"-f", composeFile, "--profile", "three-brokers", "config", "-q"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME=corpusflow-test")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type composeService struct {
	Command  []string `yaml:"command"`
	Profiles []string `yaml:"profiles"`
	Deploy   struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

// TestComposeServicesMatchPipelineSteps: every step of the pipeline the
// compose file runs (sources, each stage, sinks) has exactly one service of
// its own name running `corpusflow stage --stage STEP` on that pipeline, and
// no service runs a step the pipeline does not have.
func TestComposeServicesMatchPipelineSteps(t *testing.T) {
	data, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	stageArg := regexp.MustCompile(`corpusflow stage (\S+) --stage (\S+)`)
	pipelineFile := ""
	got := map[string]string{} // step -> service
	for name, svc := range file.Services {
		m := stageArg.FindStringSubmatch(strings.Join(svc.Command, " "))
		if m == nil {
			continue
		}
		if pipelineFile != "" && m[1] != pipelineFile {
			t.Errorf("service %s runs %s, others run %s", name, m[1], pipelineFile)
		}
		pipelineFile = m[1]
		if prev, dup := got[m[2]]; dup {
			t.Errorf("step %s is run by services %s and %s", m[2], prev, name)
		}
		got[m[2]] = name
		if name != m[2] {
			t.Errorf("service %s runs step %s; name it after its step", name, m[2])
		}
		want := 2
		if m[2] == kafka.SourcesStep || m[2] == kafka.SinksStep {
			want = 1 // one reader of the sources, one writer of the shards
		}
		if svc.Deploy.Replicas != want {
			t.Errorf("service %s: deploy.replicas %d, want %d", name, svc.Deploy.Replicas, want)
		}
	}
	if pipelineFile == "" {
		t.Fatal("no service runs `corpusflow stage`")
	}
	p, err := pipelines.Load(filepath.Join("..", "..", pipelineFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{kafka.SourcesStep, kafka.SinksStep}
	for _, st := range p.Stages {
		want = append(want, st.Name)
	}
	var have []string
	for step := range got {
		have = append(have, step)
	}
	sort.Strings(want)
	sort.Strings(have)
	if strings.Join(have, ",") != strings.Join(want, ",") {
		t.Errorf("compose runs steps %v; %s has %v", have, pipelineFile, want)
	}
	for _, svc := range []string{"kafka", "topics", "trainer"} {
		if _, ok := file.Services[svc]; !ok {
			t.Errorf("no %s service", svc)
		}
	}
	if !strings.Contains(strings.Join(file.Services["trainer"].Command, " "), "--follow") {
		t.Error("the trainer should follow the shard directory while it is written")
	}
}
