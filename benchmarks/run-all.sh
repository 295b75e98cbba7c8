#!/usr/bin/env bash
# Builds the benchmark jar, runs every benchmark and writes benchmarks/RESULTS.md and
# benchmarks/throughput.svg from that one run.
#
#   benchmarks/run-all.sh [--short|--full]
#
# --short (default): about 9 minutes on the 2-core development VM; for a quick look and CI.
# --full: 3 forks and longer iterations, about 50 minutes (estimated); before quoting a number.
# Raw outputs (JMH JSON, harness TSV) go to benchmarks/target/run-all/.
set -euo pipefail

mode="--short"
case "${1:-}" in
  ""|--short) mode="--short" ;;
  --full) mode="--full" ;;
  -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--short|--full]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Only the modules the benchmarks need, so that a sibling module mid-edit does not stop the run.
./mvnw -q -pl mlops-api,mlops-test-models,mlops-runtime,mlops-metrics,benchmarks -am package -DskipTests

mkdir -p benchmarks/target/run-all
java -cp benchmarks/target/benchmarks.jar dev.mlops.benchmarks.RunAll "$mode" \
  --work=benchmarks/target/run-all \
  --results=benchmarks/RESULTS.md \
  --chart=benchmarks/throughput.svg \
  --command=benchmarks/run-all.sh \
  2>&1 | tee benchmarks/target/run-all/console.log
