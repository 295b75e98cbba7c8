#!/usr/bin/env bash
# Builds the benchmark jar, runs every benchmark and writes benchmarks/RESULTS.md and
# benchmarks/throughput.svg (--full: RESULTS-full.md and throughput-full.svg) from that one run.
#
#   benchmarks/run-all.sh [--short|--full]
#
# --short (default): about 13 minutes on the 2-core development VM; for a quick look and CI.
# --full: 3 forks and longer iterations, 62 minutes there; before quoting a number.
# Raw outputs (JMH JSON, harness TSV) go to benchmarks/target/run-all/.
# Everything runs on `java` from PATH except the batching sweep with virtual-thread callers, which
# needs JDK 21 or later: $MLOPS_BENCH_JAVA21 if set, else the newest /usr/lib/jvm/*/bin/java of
# release 21 or later; without one that sweep is skipped and RESULTS.md says so.
set -euo pipefail

mode="--short"
case "${1:-}" in
  ""|--short) mode="--short" ;;
  --full) mode="--full" ;;
  -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--short|--full]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Only the modules the benchmarks need, so that a sibling module mid-edit does not stop the run.
./mvnw -q -pl mlops-api,mlops-test-models,mlops-runtime,mlops-metrics,benchmarks -am package -DskipTests

# The release of a java launcher (17, 21, 25 ...), from the first line of its -version; 0 if unknown.
release() {
  local v
  v="$("$1" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')" || v=""
  echo "${v:-0}"
}

java21="${MLOPS_BENCH_JAVA21:-}"
if [[ -z "$java21" ]]; then
  best=0
  for candidate in /usr/lib/jvm/*/bin/java; do
    [[ -x "$candidate" ]] || continue
    r="$(release "$candidate")"
    if (( r >= 21 && r > best )); then
      best="$r"
      java21="$candidate"
    fi
  done
fi
java21_arg=()
if [[ -n "$java21" ]]; then
  java21_arg=("--java21=$java21")
fi

# --short writes RESULTS.md and throughput.svg, --full RESULTS-full.md and throughput-full.svg.
suffix=""
if [[ "$mode" == "--full" ]]; then
  suffix="-full"
fi
mkdir -p benchmarks/target/run-all
java -cp benchmarks/target/benchmarks.jar dev.mlops.benchmarks.RunAll "$mode" \
  --work=benchmarks/target/run-all \
  --results="benchmarks/RESULTS$suffix.md" \
  --chart="benchmarks/throughput$suffix.svg" \
  --command=benchmarks/run-all.sh \
  ${java21_arg[@]+"${java21_arg[@]}"} \
  2>&1 | tee benchmarks/target/run-all/console.log
