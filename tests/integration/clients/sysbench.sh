#!/usr/bin/env bash
# sysbench oltp_read_write through the cutover proxy, with server-side
# prepared statements (--db-ps-mode=auto: sysbench prepares every statement
# once per thread and executes it many times).
#
# Usage: sysbench.sh PORT [SECONDS]
# SYSBENCH_EXTRA: more sysbench options, e.g. --mysql-ssl=on (which reads
# client-key.pem, client-cert.pem and cacert.pem from the working directory).
# Exits 1 when a phase fails, sysbench reports FATAL, no transaction ran, or
# a thread had to reconnect. Deadlocks (1213), which sysbench retries as
# "ignored errors", are allowed: they are the database's answer, not the proxy's.
set -uo pipefail
port="$1"
seconds="${2:-5}"
fail() { echo "FAIL: $*"; exit 1; }
args=(oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$port" --mysql-user=app
      --mysql-password=app-secret --mysql-db=app --tables=2 --table-size=1000 --threads=4
      --db-ps-mode=auto ${SYSBENCH_EXTRA:-})

for phase in prepare run cleanup; do
  extra=()
  [[ $phase == run ]] && extra=(--time="$seconds" --report-interval=0)
  out="$(sysbench "${args[@]}" "${extra[@]}" "$phase" 2>&1)"
  rc=$?
  echo "$out"
  [[ $rc -eq 0 ]] || fail "sysbench $phase exited with $rc"
  if grep -q FATAL <<<"$out"; then fail "sysbench $phase reported FATAL"; fi
  if [[ $phase == run ]]; then
    transactions="$(sed -n 's/^ *transactions: *\([0-9]*\) .*/\1/p' <<<"$out")"
    reconnects="$(sed -n 's/^ *reconnects: *\([0-9]*\) .*/\1/p' <<<"$out")"
    [[ -n $transactions && $transactions -gt 0 ]] || fail "no transactions ran (transactions: '$transactions')"
    [[ $reconnects == 0 ]] || fail "threads reconnected $reconnects times"
    echo "sysbench: ok, $transactions transactions"
  fi
done
