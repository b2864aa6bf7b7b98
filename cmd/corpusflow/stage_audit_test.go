package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/dedup"
	"github.com/corpusflow/corpusflow/flow/kafka"
	"github.com/corpusflow/corpusflow/pipelines"
)

const leakageAudit = "../../pipelines/leakage-audit.yaml"

// TestLeakageAuditOverKafka runs the leakage-audit pipeline through a
// broker with two worker processes per stage, decontaminate included. Each
// decontaminate worker sees part of the corpus; the sinks worker merges
// their findings into one audit report, byte-identical to the in-process
// run's (report.json, .md and .html), and no worker writes a partial one.
func TestLeakageAuditOverKafka(t *testing.T) {
	broker := startKfake(t)
	want := t.TempDir()
	if code := dispatch([]string{"run", leakageAudit, "--output", want, "--quiet", "--log-level", "error"}); code != exitOK {
		t.Fatalf("in-process run exited %d", code)
	}
	var rep dedup.LeakReport
	data, err := os.ReadFile(filepath.Join(want, "audit", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Train.Records == 0 || rep.Train.Contaminated == 0 {
		t.Fatalf("the in-process report found nothing (%+v); the comparison would prove little", rep.Train)
	}
	p, err := pipelines.Load(leakageAudit)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, yaml: leakageAudit, out: t.TempDir(), broker: broker, prefix: "audit-test"}
	start := time.Now()
	// The sample corpus is small: let both decontaminate workers join their
	// group before the sources start, or one may do all the work.
	byStep := map[string][]*worker{kafka.SinksStep: c.start(kafka.SinksStep, 1)}
	for _, st := range p.Stages {
		byStep[st.Name] = c.start(st.Name, 2)
	}
	waitGroupMembers(t, broker, "audit-test.decontaminate", 2)
	c.start(kafka.SourcesStep, 1)
	c.wait(4*time.Minute, nil)
	t.Logf("distributed leakage audit: %v", time.Since(start))
	for _, f := range []string{"audit/report.json", "audit/report.md", "audit/report.html", "clean.jsonl", "rejects.jsonl"} {
		a, _ := os.ReadFile(filepath.Join(want, f))
		b, err := os.ReadFile(filepath.Join(c.out, f))
		if err != nil {
			t.Errorf("distributed run: %v", err)
			continue
		}
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from the in-process run's (%d bytes vs %d)", f, len(b), len(a))
		}
	}
	// Both decontaminate workers checked documents: the report really was
	// put together from parts.
	for _, w := range byStep["decontaminate"] {
		ws := readWorkerStats(t, c.out, w)
		if ws.Run == nil || len(ws.Run.Stages) == 0 || ws.Run.Stages[0].In == 0 {
			t.Errorf("%s checked no document; the test needs both workers busy", w.name)
		}
	}
}

// waitGroupMembers waits until a consumer group has n members with
// partitions assigned.
func waitGroupMembers(t *testing.T, broker, group string, n int) {
	t.Helper()
	client := &kgo.Client{Addr: kgo.TCP(broker), Timeout: 5 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		res, err := client.DescribeGroups(context.Background(), &kgo.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err == nil && len(res.Groups) == 1 && res.Groups[0].GroupState == "Stable" {
			assigned := 0
			for _, m := range res.Groups[0].Members {
				if len(m.MemberAssignments.Topics) > 0 {
					assigned++
				}
			}
			if assigned >= n {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("group %s never had %d members with partitions", group, n)
}
