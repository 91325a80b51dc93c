#!/usr/bin/env bash
# Verify benchmark: pt-table-checksum vs `cutover verify` on the same source and
# replica (a target made a replica by `cutover clone`), side by side in one run,
# idle and under a sysbench write load on the source.
# Run `bench/verify/run.sh --help` for usage.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/verify/run.sh [RESULTS_FILE]

Starts a throw-away source (cutover local-server, server_id 1) and target
(server_id 2), loads SB_TABLES sysbench tables x SB_TABLE_SIZE rows into
database sbtest on the source (sysbench oltp_read_write prepare), and makes the
target a replica with

  cutover clone --config FILE --create-replication-user --with-users

Then, ROUNDS times, it compares source and replica with each tool in TOOLS:

  pt_table_checksum  pt-table-checksum h=SRC --databases=sbtest
                       --recursion-method=dsn=h=SRC,D=percona,t=dsns
                       --no-check-binlog-format --no-version-check $PT_ARGS
                     The replica is found through the DSN table percona.dsns on the
                     source (one row naming the target). --no-check-binlog-format is
                     needed because local-server runs binlog_format=ROW on the replica
                     (pt-table-checksum refuses that by default; the checksum statements
                     are still sent with binlog_format=STATEMENT, which it sets for its
                     own session, so the replica recomputes every chunk itself).
                     Differences are its DIFFS column (exit status bit 16); exit bit 8
                     (no replica found) fails the run.
  cutover_tN         cutover verify --config FILE --json --threads N $VERIFY_ARGS
                     (VERIFY_ARGS defaults to --schema sbtest: the percona schema that
                     pt-table-checksum writes legitimately differs on the replica, whose
                     this_crc columns are computed there)

first with the source idle (phase "idle"), then (phase "load") while the source
runs LOAD_TEST at LOAD_RATE tps with LOAD_THREADS threads and
--report-interval=1; each load phase starts with a BASELINE_TIME-second window
of the load alone. The order of the tools rotates from round to round. Each run
records its wall-clock seconds, whether it reported differences, and the
source's tps and 95th-percentile latency (sysbench's 1-second reports, which
with --rate include time spent queued) during it, and the CPU the machine spent
on other people's work meanwhile (bench/verify/cpu_sampler.py: the machine is
shared; "ours" is this script and everything it started).

The target only ever changes through replication, so every difference a tool
reports is a false one; at the end the load stops, the target catches up and
CHECKSUM TABLE on both servers confirms the data is identical.

Prints a markdown table (bench/verify/summarize.py: median of the runs,
min..max, speed vs pt-table-checksum, differences reported, source tps vs the
same round's baseline, source p95 latency) and writes every run plus the table
to RESULTS_FILE (default bench/verify/last-run.tsv); `summarize.py RESULTS_FILE`
prints the table again.

Everything it starts (servers, load, temp dirs) is stopped and removed on exit,
including on Ctrl-C. Installs missing packages with scripts/install-deps --bench
(needs root or sudo only then).

Environment (defaults in brackets):
  TOOLS            space-separated subset of: pt_table_checksum cutover_t1 .. cutover_t32
                   [pt_table_checksum cutover_t2 cutover_t4]
  PHASES           space-separated subset of: idle load [idle load]
  ROUNDS           runs per tool and phase; the table shows medians [3]
  SB_TABLES        sysbench tables [8]
  SB_TABLE_SIZE    rows per table [250000]
  BUFFER_POOL      innodb_buffer_pool_size of both servers (holds all the data) [1G]
  MARIADBD_ARGS    extra mariadbd arguments for both servers
                   [--innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M]
  LOAD_TEST        sysbench test run on the source in the load phase [oltp_write_only]
  LOAD_RATE        its target tps (sysbench --rate; 0 = as fast as it can) [300]
  LOAD_THREADS     its threads [2]
  LOAD_WARMUP      seconds of load before the baseline window [3]
  BASELINE_TIME    seconds of the load-only baseline window per round [15]
  SETTLE           seconds of pause before each run (under load the replica catches up
                   meanwhile; idle, the run also waits until it has) [3]
  PT_ARGS          extra pt-table-checksum arguments [none]
  VERIFY_ARGS      extra cutover verify arguments [--schema sbtest]
  TOOL_TIMEOUT     seconds before a run is killed and counted as failed [900]
  BUILD_DIR        cutover build dir; `cmake --build --target cutover` runs there first
                   (configured if needed) [build-vbench]
  CUTOVER          use this cutover binary instead of building
  KEEP_LOGS        directory to copy raw logs (tool output, sysbench reports) into [none]

A run with the defaults takes about 6 minutes on 2 shared cores (loading and
cloning 2,000,000 rows, then 3 rounds x 2 phases x 3 tools); the unthrottled
variant LOAD_RATE=0 PHASES=load about 5 minutes.
EOF
}

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  usage
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
results_file="${1:-$here/last-run.tsv}"

TOOLS="${TOOLS:-pt_table_checksum cutover_t2 cutover_t4}"
PHASES="${PHASES:-idle load}"
ROUNDS="${ROUNDS:-3}"
SB_TABLES="${SB_TABLES:-8}"
SB_TABLE_SIZE="${SB_TABLE_SIZE:-250000}"
BUFFER_POOL="${BUFFER_POOL:-1G}"
MARIADBD_ARGS="${MARIADBD_ARGS---innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M}"
LOAD_TEST="${LOAD_TEST:-oltp_write_only}"
LOAD_RATE="${LOAD_RATE:-300}"
LOAD_THREADS="${LOAD_THREADS:-2}"
LOAD_WARMUP="${LOAD_WARMUP:-3}"
BASELINE_TIME="${BASELINE_TIME:-15}"
SETTLE="${SETTLE:-3}"
PT_ARGS="${PT_ARGS:-}"
VERIFY_ARGS="${VERIFY_ARGS---schema sbtest}"
TOOL_TIMEOUT="${TOOL_TIMEOUT:-900}"
BUILD_DIR="${BUILD_DIR:-$repo/build-vbench}"
# Debian's packages are installed for /usr/bin/python3; another python3 on PATH may lack them.
PYTHON="${PYTHON:-/usr/bin/python3}"
[[ -x $PYTHON ]] || PYTHON=python3

ROOT_PASSWORD=cutover-root
REPL_USER=repl
REPL_PASSWORD=repl-secret

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 2; }

read -r -a tools <<<"$TOOLS"
read -r -a phases <<<"$PHASES"
((${#tools[@]})) || die "TOOLS is empty"
((${#phases[@]})) || die "PHASES is empty"
for t in "${tools[@]}"; do
  [[ $t == pt_table_checksum || $t =~ ^cutover_t([1-9]|[12][0-9]|3[0-2])$ ]] ||
    die "unknown tool '$t' (pt_table_checksum cutover_t1 .. cutover_t32)"
done
for p in "${phases[@]}"; do
  [[ $p == idle || $p == load ]] || die "unknown phase '$p' (idle load)"
done

# --- cleanup -----------------------------------------------------------------
workdir="$(mktemp -d /tmp/cutover-verify-bench.XXXXXX)"
pids=()  # background processes still to stop (servers, load)

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 30 s (local-server shuts mariadbd down), then SIGKILL
  local p="$1" i
  kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 1 300); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
forget_pid() {  # forget_pid PID: drop it from pids after stopping it ourselves
  local p keep=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]}")
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do stop_pid "$p"; done
  if [[ -n "${KEEP_LOGS:-}" ]]; then
    if mkdir -p "$KEEP_LOGS"; then cp -r "$workdir"/. "$KEEP_LOGS"/ 2>/dev/null || true; fi
  fi
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- prerequisites -----------------------------------------------------------
need_deps=0
for c in sysbench mariadb pt-table-checksum; do command -v "$c" >/dev/null || need_deps=1; done
"$PYTHON" -c 'import json' 2>/dev/null || need_deps=1
if ((need_deps)); then
  "$repo/scripts/install-deps" --bench || die "scripts/install-deps --bench failed"
fi
command -v pt-table-checksum >/dev/null || die "pt-table-checksum is missing (apt-get install percona-toolkit)"

cutover_origin=""
if [[ -n "${CUTOVER:-}" ]]; then
  [[ -x $CUTOVER ]] || die "CUTOVER=$CUTOVER is not executable"
  cutover_origin="given by CUTOVER="
else
  CUTOVER="$BUILD_DIR/cutover"
  log "building cutover in $BUILD_DIR (target cutover only)"
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    cmake -S "$repo" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$workdir/build.log" 2>&1 ||
      { tail -30 "$workdir/build.log"; die "cmake configure failed"; }
  fi
  cmake --build "$BUILD_DIR" --target cutover -j"$(nproc)" >>"$workdir/build.log" 2>&1 ||
    { tail -30 "$workdir/build.log"; die "build failed"; }
fi
"$CUTOVER" verify --help >/dev/null 2>&1 || die "$CUTOVER has no 'verify' command"

{
  echo "mariadbd: $(/usr/sbin/mariadbd --version 2>/dev/null || mariadbd --version)"
  echo "pt-table-checksum: $(pt-table-checksum --version 2>&1 | head -1)"
  echo "perl DBD::mysql: $(perl -MDBD::mysql -e 'print $DBD::mysql::VERSION' 2>/dev/null || echo '?')"
  echo "sysbench: $(sysbench --version)"
  if [[ -n $cutover_origin ]]; then
    echo "cutover: $CUTOVER ($cutover_origin)"
  else
    echo "cutover: $CUTOVER (built from git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(
      [[ -n $(git -C "$repo" status --porcelain -- src CMakeLists.txt 2>/dev/null) ]] &&
        echo ' with uncommitted changes in src/'))"
  fi
} >"$workdir/versions.txt"
sed 's/^/  /' "$workdir/versions.txt" >&2

# --- servers -----------------------------------------------------------------
read -r -a extra_mariadbd <<<"$MARIADBD_ARGS"
server_extra=()
for a in "${extra_mariadbd[@]}"; do server_extra+=("--mariadbd-arg=$a"); done

# Starts `cutover local-server` in the background; sets server_pid, server_port.
start_local_server() {  # start_local_server NAME ARGS...
  local name="$1"
  shift
  local out="$workdir/$name.out"
  "$CUTOVER" local-server --name "$name" "$@" "${server_extra[@]}" >"$out" 2>"$workdir/$name.err" &
  server_pid=$!
  pids+=("$server_pid")
  local i
  for i in $(seq 1 600); do
    if grep -q '^pid=' "$out" 2>/dev/null; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$workdir/$name.err" >&2
      die "local-server $name failed to start"
    fi
    sleep 0.1
  done
  server_port="$(sed -n 's/^port=//p' "$out")"
  [[ -n $server_port ]] || die "local-server $name did not print port="
}

sql() {  # sql PORT ARGS... (root, batch mode, no column names)
  local port="$1"
  shift
  MYSQL_PWD="$ROOT_PASSWORD" mariadb -h127.0.0.1 -P"$port" -uroot -N -B "$@"
}

log "starting source and target (buffer pool $BUFFER_POOL each, ${MARIADBD_ARGS:-no extra args})"
start_local_server vbench-source --server-id 1 --buffer-pool "$BUFFER_POOL"
src_port="$server_port"
start_local_server vbench-target --server-id 2 --buffer-pool "$BUFFER_POOL"
tgt_port="$server_port"
log "source on port $src_port, target on port $tgt_port"

sb_common=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$src_port" --mysql-user=root
           --mysql-password="$ROOT_PASSWORD" --mysql-db=sbtest --tables="$SB_TABLES" --table-size="$SB_TABLE_SIZE")
sql "$src_port" -e "CREATE DATABASE sbtest"
log "loading $SB_TABLES tables x $SB_TABLE_SIZE rows (sysbench oltp_read_write prepare)"
sysbench oltp_read_write "${sb_common[@]}" --threads="$(( SB_TABLES < 4 ? SB_TABLES : 4 ))" prepare \
  >"$workdir/prepare.log" 2>&1 || { tail -20 "$workdir/prepare.log"; die "sysbench prepare failed"; }
log "source data: $(sql "$src_port" -e "SELECT CONCAT(ROUND(SUM(data_length + index_length) / 1048576), ' MiB')
  FROM information_schema.tables WHERE table_schema = 'sbtest'")"

config="$workdir/cutover.toml"
cat >"$config" <<EOF
[source]
host = "127.0.0.1"
port = $src_port
user = "root"
password = "$ROOT_PASSWORD"

[target]
host = "127.0.0.1"
port = $tgt_port
user = "root"
password = "$ROOT_PASSWORD"

[replication]
user = "$REPL_USER"
password = "$REPL_PASSWORD"
EOF
log "making the target a replica: cutover clone --config FILE --create-replication-user --with-users"
clone_t0=$EPOCHREALTIME
timeout -k 10 "$TOOL_TIMEOUT" "$CUTOVER" clone --config "$config" --create-replication-user --with-users \
  >"$workdir/clone.log" 2>&1 || { tail -20 "$workdir/clone.log"; die "cutover clone failed"; }
log "clone done in $(awk -v a="$clone_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s: $(tail -1 "$workdir/clone.log")"

# pt-table-checksum finds the replica through this table (--recursion-method=dsn=...).
# It is created on the source and replicates to the target like everything else.
sql "$src_port" -e "CREATE DATABASE IF NOT EXISTS percona;
  CREATE TABLE percona.dsns (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT DEFAULT NULL, dsn VARCHAR(255) NOT NULL);
  INSERT INTO percona.dsns (dsn) VALUES ('h=127.0.0.1,P=$tgt_port,u=root,p=$ROOT_PASSWORD')"

# Pull every table into both buffer pools so the first round is not a cold-cache round.
for t in $(seq 1 "$SB_TABLES"); do
  for port in "$src_port" "$tgt_port"; do
    sql "$port" sbtest -e "SELECT COUNT(*), SUM(LENGTH(c)) FROM sbtest$t FORCE INDEX (PRIMARY)" >/dev/null
  done
done

wait_replica() {  # wait_replica: until the target has applied everything the source has written
  local pos r
  pos="$(sql "$src_port" -e "SELECT @@gtid_binlog_pos")"
  r="$(sql "$tgt_port" -e "SELECT MASTER_GTID_WAIT('$pos', 120)")" || die "MASTER_GTID_WAIT failed on the target"
  [[ $r == 0 ]] || die "the target did not reach the source's GTID $pos within 120 s"
}

checksum_tables() {  # checksum_tables PORT: "table checksum" lines
  local tables=() t
  for t in $(seq 1 "$SB_TABLES"); do tables+=("sbtest.sbtest$t"); done
  sql "$1" -e "CHECKSUM TABLE $(IFS=,; echo "${tables[*]}")"
}

ground_truth() {  # ground_truth TAG: prints identical / DIFFERENT (the source must be idle)
  wait_replica
  checksum_tables "$src_port" >"$workdir/$1.sum.source"
  checksum_tables "$tgt_port" >"$workdir/$1.sum.target"
  if cmp -s "$workdir/$1.sum.source" "$workdir/$1.sum.target"; then
    echo identical
  else
    diff "$workdir/$1.sum.source" "$workdir/$1.sum.target" >&2 || true
    echo DIFFERENT
  fi
}
# CPU use of the whole machine, ours vs everybody else's, once a second: the machine is
# shared, and a run slowed by other people's work should be recognizable as such.
"$PYTHON" "$here/cpu_sampler.py" --root $$ --out "$workdir/cpu.txt" 2>"$workdir/cpu.err" &
pids+=($!)

gt_start="$(ground_truth start)"
log "CHECKSUM TABLE source vs target after the clone: $gt_start"
[[ $gt_start == identical ]] || die "the target differs from the source right after the clone"

# --- load on the source --------------------------------------------------------
# Each line of the sysbench log gets the wall-clock time it was printed, so the
# 1-second reports can be matched to a run's time window.
load_pid=""
start_load() {  # start_load TAG; sets load_pid
  sysbench "$LOAD_TEST" "${sb_common[@]}" --threads="$LOAD_THREADS" --rate="$LOAD_RATE" --time=0 \
    --report-interval=1 --rand-type=uniform run \
    > >(while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$workdir/$1.load") \
    2>"$workdir/$1.load.err" &
  load_pid=$!
  pids+=("$load_pid")
}
stop_load() {  # stop_load TAG
  stop_pid "$load_pid"
  forget_pid "$load_pid"
  load_pid=""
  sleep 0.2  # let the timestamping reader drain sysbench's last lines
  if grep -q FATAL "$workdir/$1.load" "$workdir/$1.load.err" 2>/dev/null; then
    grep FATAL "$workdir/$1.load" "$workdir/$1.load.err" | head -5 >&2
    log "WARNING: the sysbench load on the source reported FATAL errors during $1"
  fi
}

# Prints "avg_tps min_tps avg_p95_ms max_p95_ms intervals" from the 1-second sysbench
# reports that overlap [T0, T1]: averages are weighted by each report's overlap with the
# window; min/max are taken over reports at least half inside it (or over all overlapping
# ones for a short window).
load_window() {  # load_window FILE T0 T1
  awk -v t0="$2" -v t1="$3" '
    / tps: / {
      e = $1; b = e - 1
      lo = (b > t0) ? b : t0; hi = (e < t1) ? e : t1
      if (hi <= lo) next
      v = ""; l = ""
      for (i = 1; i <= NF; i++) {
        if ($i == "tps:") v = $(i + 1)
        if ($i == "(ms,95%):") l = $(i + 1)
      }
      w = hi - lo; n++; s += v * w; ls += l * w; ws += w
      if (w >= 0.5) {
        if (min == "" || v < min) min = v
        if (lmax == "" || l > lmax) lmax = l
      }
      if (amin == "" || v < amin) amin = v
      if (almax == "" || l > almax) almax = l
    }
    END {
      if (!n) { print "nan nan nan nan 0"; exit }
      if (min == "") min = amin
      if (lmax == "") lmax = almax
      printf "%.1f %.1f %.2f %.2f %d\n", s / ws, min, ls / ws, lmax, n
    }' "$1"
}

# Prints "others_avg others_max ours_avg steal_avg" (cores) from the CPU samples that
# overlap [T0, T1], weighted like load_window.
cpu_window() {  # cpu_window T0 T1
  awk -v t0="$1" -v t1="$2" '
    {
      e = $1; b = e - 1
      lo = (b > t0) ? b : t0; hi = (e < t1) ? e : t1
      if (hi <= lo) next
      w = hi - lo; ws += w; o += $4 * w; u += $3 * w; st += $5 * w
      if (w >= 0.5 && (mx == "" || $4 > mx)) mx = $4
      if (amx == "" || $4 > amx) amx = $4
    }
    END {
      if (!ws) { print "nan nan nan nan"; exit }
      if (mx == "") mx = amx
      printf "%.2f %.2f %.2f %.2f\n", o / ws, mx, u / ws, st / ws
    }' "$workdir/cpu.txt"
}

# --- tools ---------------------------------------------------------------------
pt_dsn="h=127.0.0.1,P=$src_port,u=root,p=$ROOT_PASSWORD"
pt_cmd=(pt-table-checksum "$pt_dsn" --databases=sbtest
        "--recursion-method=dsn=h=127.0.0.1,P=$src_port,u=root,p=$ROOT_PASSWORD,D=percona,t=dsns"
        --no-check-binlog-format --no-version-check)
read -r -a pt_extra <<<"$PT_ARGS"
pt_cmd+=("${pt_extra[@]}")
read -r -a verify_extra <<<"$VERIFY_ARGS"

# Each run_* writes its output to $workdir/$tag.out and sets: rc, diffs (number of
# differences the tool reported: chunks for pt-table-checksum, rows for cutover),
# verdict (a word for the table) and note (details).
run_pt_table_checksum() {
  rc=0
  timeout -k 10 "$TOOL_TIMEOUT" "${pt_cmd[@]}" >"$workdir/$tag.out" 2>&1 || rc=$?
}
parse_pt_table_checksum() {
  # Its table: TS ERRORS DIFFS ROWS DIFF_ROWS CHUNKS SKIPPED TIME TABLE (one line per table).
  local sums
  sums="$(awk '$NF ~ /^sbtest\./ && NF == 9 { n++; e += $2; d += $3; r += $4; c += $6; s += $7 }
               END { printf "%d %d %d %d %d %d\n", n, e, d, r, c, s }' "$workdir/$tag.out")"
  local n e d rows chunks skipped
  read -r n e d rows chunks skipped <<<"$sums"
  # What --replicate-check-only would report: the replica's own checksum rows vs the source's.
  local replica
  replica="$(sql "$tgt_port" -e "SELECT COUNT(*), COALESCE(SUM(this_cnt <> master_cnt OR this_crc <> master_crc
      OR ISNULL(master_crc) <> ISNULL(this_crc)), 0) FROM percona.checksums WHERE db = 'sbtest'" 2>/dev/null ||
      echo "? ?")"
  local rchunks rdiff
  read -r rchunks rdiff <<<"$replica"
  diffs="$d"
  note="tables=$n rows=$rows chunks=$chunks errors=$e skipped=$skipped replica_chunks=$rchunks replica_diff_chunks=$rdiff exit=$rc"
  if (((rc & 8) != 0)); then
    verdict=NO_REPLICA_FOUND
  elif ((n != SB_TABLES)) || (((rc & ~(16 | 32)) != 0)); then
    verdict=FAILED
  elif ((d > 0 || rdiff > 0)); then
    verdict="DIFFERENCES($d chunks)"
  elif ((e > 0 || skipped > 0)); then
    verdict="no_diffs_but_${e}_errors_${skipped}_skipped"
  else
    verdict=no_diffs
  fi
}
run_cutover() {  # run_cutover THREADS
  rc=0
  timeout -k 10 "$TOOL_TIMEOUT" "$CUTOVER" verify --config "$config" --json --threads "$1" "${verify_extra[@]}" \
    >"$workdir/$tag.out" 2>"$workdir/$tag.err" || rc=$?
}
parse_cutover() {
  local parsed
  parsed="$("$PYTHON" - "$workdir/$tag.out" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
try:
    r = json.loads(lines[-1])
except Exception:
    print("? ? ? ? ?")
    sys.exit()
if r.get("event") != "report":
    print("error ? ? ? ?")
    sys.exit()
rows = sum(t.get("differing_rows", 0) for t in r["tables"])
bad = sum(t.get("result") != "identical" for t in r["tables"])
print(str(r["identical"]).lower(), rows, bad, r.get("rounds"), r.get("longest_replication_pause_ms"))
EOF
)"
  local identical rows bad rounds pause
  read -r identical rows bad rounds pause <<<"$parsed"
  diffs="$rows"
  note="identical=$identical differing_rows=$rows differing_tables=$bad rounds=$rounds longest_replication_pause_ms=$pause exit=$rc"
  if [[ $rc == 0 && $identical == true ]]; then
    verdict=identical
  elif [[ $rc == 1 && $identical == false ]]; then
    verdict="DIFFERENCES($rows rows)"
    log "  FALSE DIFFERENCE reported by cutover verify (the target only changes through replication):"
    tail -c 2000 "$workdir/$tag.out" >&2
  else
    verdict="FAILED(exit $rc)"
    log "  cutover verify failed (exit $rc):"
    tail -5 "$workdir/$tag.out" "$workdir/$tag.err" >&2
  fi
}

# --- runs --------------------------------------------------------------------
raw="$workdir/runs.tsv"
printf 'round\tphase\ttool\tseconds\texit\tverdict\tdiffs\ttps_avg\ttps_min\tp95_ms_avg\tp95_ms_max\tothers_cpu\tothers_cpu_max\tours_cpu\tsteal_cpu\tt0\tt1\tnote\n' >"$raw"

record() {  # record ROUND PHASE TOOL SECONDS EXIT VERDICT DIFFS T0 T1 NOTE
  sleep 1.2  # sysbench and the CPU sampler print the report covering T1 up to a second later
  local lw="nan nan nan nan 0"
  [[ $2 == load ]] && lw="$(load_window "$workdir/$load_tag.load" "$8" "$9")"
  local tps_avg tps_min p95 p95max others others_max ours steal
  read -r tps_avg tps_min p95 p95max _ <<<"$lw"
  read -r others others_max ours steal <<<"$(cpu_window "$8" "$9")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" \
    "$7" "$tps_avg" "$tps_min" "$p95" "$p95max" "$others" "$others_max" "$ours" "$steal" "$8" "$9" "${10}" >>"$raw"
  local src=""
  [[ $2 == load ]] && src=" source tps avg=$tps_avg min=$tps_min p95=${p95}ms (max ${p95max}ms);"
  log "  $3: ${4}s $6;$src cpu: ours $ours, others $others (max $others_max), steal $steal cores; ${10}"
}

run_tool() {  # run_tool ROUND PHASE TOOL
  local round="$1" phase="$2" tool="$3"
  tag="r$round-$phase-$tool"
  # The same pause before every run, idle or not (in the load phase the replica
  # catches up meanwhile; idle, it must be fully caught up first).
  sleep "$SETTLE"
  if [[ $phase == idle ]]; then wait_replica; fi
  local t0 t1
  t0=$EPOCHREALTIME
  case "$tool" in
    pt_table_checksum) run_pt_table_checksum ;;
    cutover_t*) run_cutover "${tool#cutover_t}" ;;
  esac
  t1=$EPOCHREALTIME
  case "$tool" in
    pt_table_checksum) parse_pt_table_checksum ;;
    cutover_t*) parse_cutover ;;
  esac
  local seconds
  seconds="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  record "$round" "$phase" "$tool" "$seconds" "$rc" "$verdict" "$diffs" "$t0" "$t1" "$note"
}

n_tools=${#tools[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  for phase in "${phases[@]}"; do
    log "round $r/$ROUNDS, $phase"
    if [[ $phase == load ]]; then
      load_tag="r$r-load"
      start_load "$load_tag"
      sleep "$LOAD_WARMUP"
      if ((BASELINE_TIME > 0)); then
        t0=$EPOCHREALTIME
        sleep "$BASELINE_TIME"
        t1=$EPOCHREALTIME
        record "$r" load baseline "$BASELINE_TIME" 0 - 0 "$t0" "$t1" "load only, no tool running"
      fi
    fi
    for ((i = 0; i < n_tools; i++)); do
      run_tool "$r" "$phase" "${tools[$(((i + r - 1) % n_tools))]}"  # rotate the order each round
    done
    if [[ $phase == load ]]; then stop_load "$load_tag"; fi
  done
done

gt_end="$(ground_truth end)"
log "CHECKSUM TABLE source vs target at the end (load stopped, replica caught up): $gt_end"

# --- summary -----------------------------------------------------------------
summary="$workdir/summary.md"
"$PYTHON" "$here/summarize.py" "$raw" "$summary" --tools "${tools[*]}" --phases "${phases[*]}" \
  --ground-truth "$gt_end" || die "summarize.py failed"

{
  echo "# cutover bench/verify/run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname) cpus=$(nproc)"
  echo "# TOOLS=\"$TOOLS\" PHASES=\"$PHASES\" ROUNDS=$ROUNDS SB_TABLES=$SB_TABLES SB_TABLE_SIZE=$SB_TABLE_SIZE" \
       "BUFFER_POOL=$BUFFER_POOL MARIADBD_ARGS=\"$MARIADBD_ARGS\" LOAD_TEST=$LOAD_TEST LOAD_RATE=$LOAD_RATE" \
       "LOAD_THREADS=$LOAD_THREADS BASELINE_TIME=$BASELINE_TIME SETTLE=$SETTLE PT_ARGS=\"$PT_ARGS\"" \
       "VERIFY_ARGS=\"$VERIFY_ARGS\""
  echo "# pt-table-checksum command: ${pt_cmd[*]//p=$ROOT_PASSWORD/p=...}"
  sed 's/^/# /' "$workdir/versions.txt"
  echo "# runs"
  cat "$raw"
  echo "# summary"
  sed 's/^/# /' "$summary"
} >"$results_file"
log "results: $results_file"
