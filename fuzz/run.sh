#!/usr/bin/env bash
# Runs the fuzz targets for a bounded time each and prints one line per target with the number
# of executions libFuzzer made, so that the figures in RELIABILITY.md come from a command.
#
#   fuzz/run.sh SECONDS [TARGET...]        (default: every target; run from anywhere)
#
# CI runs every target for a short time (a regression that crashes on the seeds or near them is
# caught); the long runs recorded in RELIABILITY.md are this script with a large SECONDS, e.g.
# `nice -n 10 fuzz/run.sh 3600`. A crash stops that target's run, its input is kept in
# fuzz/artifacts/<target>/, and the script exits 1 after trying the other targets.
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`). Corpora live in fuzz/corpus/ (not committed) and are seeded on
# first use from the shipped examples and, when present, ../shared/corpus.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(capture_reader packet detector pipeline config netlink)
fi
toolchain=${FUZZ_TOOLCHAIN:-+nightly}
# AddressSanitizer by default; the long runs use FUZZ_SANITIZER=none: the crate is safe Rust
# outside the netlink socket calls (no target reaches those), so a memory error would be a
# panic anyway, and without ASan a target runs two to three times as many inputs.
sanitizer=${FUZZ_SANITIZER:-address}
jobs_flag=()
[ -n "${FUZZ_JOBS:-}" ] && jobs_flag=(--jobs "$FUZZ_JOBS")
# FUZZ_RUNS=N stops a target after N executions (whichever comes first with SECONDS): the long
# runs that make the 10-million counts in RELIABILITY.md are `FUZZ_RUNS=10000000`.
runs_flag=()
[ -n "${FUZZ_RUNS:-}" ] && runs_flag=(-runs="$FUZZ_RUNS")

# (Lists are cut with `sed -n`, not `head`: under pipefail a `head` that stops reading early
# kills the writer with SIGPIPE, and the script with status 141.)
seed() {
  local t=$1 dir=corpus/$1
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return 0
  local shared=../../shared/corpus/suricata-verify
  case $t in
    capture_reader)
      cp ../examples/captures/*.pcap* "$dir"/ 2>/dev/null || true
      if [ -d "$shared" ]; then
        find "$shared" -name '*.pcap' -size -64k | sort | sed -n '1,40p' | xargs -r cp -t "$dir"/
      fi
      ;;
    pipeline)
      local caps=(../examples/captures/*.pcap)
      if [ -d "$shared" ]; then
        mapfile -t more < <(find "$shared" -name '*.pcap' -size -64k | sort | sed -n '1,40p')
        caps+=("${more[@]}")
      fi
      python3 seed_pipeline.py "$dir" "${caps[@]}"
      ;;
    config)
      cp ../etc/leakguard.toml ../examples/*.toml "$dir"/
      ;;
    packet|detector|netlink)
      # A few bytes: libFuzzer grows the rest.
      printf '\x00' >"$dir/empty"
      ;;
  esac
}

# One build for all targets (they share the crate graph).
cargo "$toolchain" fuzz build -O -s "$sanitizer" >/dev/null

status=0
for t in "${targets[@]}"; do
  seed "$t"
  log=$(mktemp)
  if cargo "$toolchain" fuzz run -O -s "$sanitizer" "$t" "corpus/$t" -- \
      -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
      "${jobs_flag[@]}" "${runs_flag[@]}" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  printf '%-15s %-6s %6ss  %12s execs  %8s exec/s  cov %s  corpus %s\n' \
    "$t" "$result" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$(find "corpus/$t" -type f | wc -l)"
  if [ $result = FAILED ]; then
    grep -E 'ERROR|panicked|SUMMARY|artifact' "$log" | head -20
  fi
  rm -f "$log"
done
exit $status
