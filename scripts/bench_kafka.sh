#!/bin/sh
# bench_kafka.sh [ROUNDS] [BENCH-REGEXP]: the Kafka path against one process
# (cmd/corpusflow/kafka_bench_test.go), ROUNDS rounds in one go so that
# every ratio compares runs under the same load, then the ratios of each
# round: wall (MB/s), CPU of workers and broker, CPU of the workers alone.
# The broker (kfake) runs as a child process; its CPU share is printed too.
set -eu
rounds=${1:-2}
bench=${2:-KafkaBaseline|KafkaPath}
cd "$(dirname "$0")/.."
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./cmd/corpusflow
out=$(mktemp)
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	echo "round $i: $(uptime)" >>"$out"
	(cd cmd/corpusflow && "$bin" -test.run XXX -test.bench "$bench" -test.benchtime 3x) | grep '^Benchmark' >>"$out"
done
cat "$out"
echo
awk '
/^round/ { print; delete base; next }
{
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i <= NF; i++) v[$(i+1)] = $i
	if (name ~ /^KafkaBaselineInProcess\//) {
		p = name; sub(/^KafkaBaselineInProcess\//, "", p)
		wall[p] = v["MB/s"]; cpu[p] = v["MB/cpu-s"]
		printf "%-44s %7.1f MB/s %7.2f MB/cpu-s\n", name, wall[p], cpu[p]
		next
	}
	split(name, part, "/"); p = part[2]
	if (!(p in wall)) next
	printf "%-44s wall %.2fx  cpu %.2fx  workers %.2fx  (broker %.0f%% of the CPU)\n", substr(name, 11),
		v["MB/s"] / wall[p], v["MB/cpu-s"] / cpu[p], v["workers-MB/cpu-s"] / cpu[p], 100 * v["broker-cpu-share"]
}' "$out"
rm -f "$out"
