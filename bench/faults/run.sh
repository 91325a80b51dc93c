#!/usr/bin/env bash
# The seeded fault campaign (tests/integration/fault_campaign_test.cpp), long:
# SEEDS seeds of RUNS moves each, every move with one fault injected (orchestrator
# SIGKILL or SIGSTOP after a random step, the proxy SIGKILLed (restarted 1 s
# later) or SIGSTOPped 3 s, a server SIGSTOPped 3 s or SIGKILLed (restarted 1 s
# later, read-only) at a random moment, the network between the servers or
# between the orchestrator and proxy and one server cut 3 s at a random moment,
# a long transaction or a DDL burst straight to the primary, or none).
# One TSV line per run in bench/faults/results-<UTC date and time>.tsv; a
# summary at the end.
# Usage: bench/faults/run.sh            (SEEDS="1 2 ... 10", RUNS=12: 120 moves)
#        SEEDS="7" RUNS=50 bench/faults/run.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${CUTOVER_BUILD_DIR:-$root/build}"
"$root/scripts/build" >/dev/null
seeds="${SEEDS:-1 2 3 4 5 6 7 8 9 10}"
runs="${RUNS:-12}"
log="$root/bench/faults/results-$(date -u +%Y-%m-%d-%H%M).tsv"
printf 'seed\trun\tcommand\tfault\tdetail\texit\tunpaused_ms\trecovery\tprimary\tseconds\tresult\terror\n' >"$log"
failed_seeds=0
for seed in $seeds; do
  echo "== seed $seed: $runs moves"
  if ! CUTOVER_FAULT_SEED="$seed" CUTOVER_FAULT_RUNS="$runs" CUTOVER_FAULT_LOG="$log" \
      "$build/integration_tests" --gtest_filter='FaultCampaignTest.*' >"$log.seed$seed.out" 2>&1; then
    failed_seeds=$((failed_seeds + 1))
    echo "   seed $seed FAILED (see $log.seed$seed.out)"
  fi
  grep '^\[fault campaign\] seed .*: .* run(s)' "$log.seed$seed.out" || true
done
echo
echo "== summary ($log)"
awk -F'\t' '!/^#/ && NR > 1 {
    n++; if ($11 == "ok") ok++; f[$4]++; if ($11 == "ok") fo[$4]++
    if ($7 > 1000) { helped++; if ($7 > max) max = $7 }
  }
  END {
    printf "%d moves, %d ok\n", n, ok
    for (k in f) printf "  %-18s %3d runs, %3d ok\n", k, f[k], fo[k]
    printf "clients resumed by the proxy alone (orchestrator dead or stopped): %d runs, longest %d ms after the exit\n", helped, max
  }' "$log"
grep '^#' "$log" || true
exit $((failed_seeds > 0))
