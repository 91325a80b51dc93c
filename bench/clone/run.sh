#!/usr/bin/env bash
# Clone benchmark: copies the same sysbench data from a live source server to an
# empty target three ways (mariadb-dump | mariadb, mydumper + myloader, cutover
# clone), side by side in one run, while a light write load runs on the source.
# Run `bench/clone/run.sh --help` for usage.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/clone/run.sh [RESULTS_FILE]

Starts one throw-away source server (cutover local-server, server_id 1) and
loads SB_TABLES sysbench tables x SB_TABLE_SIZE rows into database sbtest. Then,
ROUNDS times, it clones sbtest to a FRESH empty target server (local-server,
server_id 2, started anew for every clone) with each method:

  mariadb_dump  mariadb-dump --single-transaction --master-data=2 --gtid --databases sbtest
                | mariadb --init-command='SET SESSION sql_log_bin=0'
                (one thread; master-data/gtid record the position a replica would
                start from, as the other two methods do, and take no extra lock:
                MariaDB reports the snapshot's binlog position itself)
  mydumper      mydumper -B sbtest -t THREADS $MYDUMPER_ARGS -o DIR, then
                myloader -d DIR -t THREADS (no binlog, myloader's default);
                the time is dump + load, end to end
  cutover       cutover clone --config FILE --threads THREADS --create-replication-user;
                the time is until it exits 0: target loaded AND replication caught up

The order of the methods rotates from round to round. While each clone runs,
the source carries a light write load (sysbench LOAD_TEST at LOAD_RATE tps,
LOAD_THREADS threads) and a probe (bench/clone/probe.py) that INSERTs one row
into sbtest.cutover_probe every PROBE_INTERVAL_MS ms; its longest single INSERT
is the "longest write stall on the source" (a global read lock such as
FLUSH TABLES WITH READ LOCK shows up there). Each round starts with an idle
baseline of the same load and probe for BASELINE_TIME seconds, without a clone.

After each clone the write load stops and the target is checked:
  cutover            CHECKSUM TABLE of sbtest1..N and the probe and batch tables, source vs
                     target, after MASTER_GTID_WAIT on the target for the source's
                     final GTID position (replication is left running by clone)
  the other two      every sbtest table has exactly SB_TABLE_SIZE rows (the write
                     load deletes and re-inserts rows in one transaction, so any
                     consistent snapshot has that many)

Prints a markdown table (median seconds of the successful runs, min..max, time
ratio to mydumper+myloader, longest source write stall, source tps during the
clone vs the idle baseline) and writes every run plus the table to RESULTS_FILE
(default bench/clone/last-run.tsv).

Everything it starts (servers, load, probe, temp dirs) is stopped and removed on
exit, including on Ctrl-C. Installs missing packages with scripts/install-deps
--bench and apt-get install mydumper (needs root or sudo only then).

Environment (defaults in brackets):
  METHODS             space-separated subset of: mariadb_dump mydumper cutover
                      [mariadb_dump mydumper cutover]; leave out cutover to run with a
                      cutover binary that has no `clone` command yet
  THREADS             threads for mydumper, myloader and cutover clone [4]
  ROUNDS              clones per method; the table shows medians [3]
  SB_TABLES           sysbench tables [8]
  SB_TABLE_SIZE       rows per table [250000]
  SOURCE_BUFFER_POOL  source innodb_buffer_pool_size (holds all of the data) [1G]
  TARGET_BUFFER_POOL  target innodb_buffer_pool_size, the same for every method [2G]
  MARIADBD_ARGS       extra mariadbd arguments for source and targets
                      [--innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M]
  MYDUMPER_ARGS       extra mydumper arguments [--trx-consistency-only --rows 50000]
  MYLOADER_ARGS       extra myloader arguments [none]
  MARIADB_DUMP_ARGS   mariadb-dump arguments before --databases
                      [--single-transaction --master-data=2 --gtid]
  CUTOVER_ARGS        extra cutover clone arguments [none]
  LOAD_TEST           sysbench test run on the source during clones [oltp_write_only]
  LOAD_RATE           its target tps (sysbench --rate) [200]
  LOAD_THREADS        its threads [2]
  LOAD_WARMUP         seconds of load + probe before a clone starts [2]
  PROBE_INTERVAL_MS   probe INSERT interval [10]
  LONG_WRITE          0, or S: during baselines and clones also run a batch job on the
                      source, one write statement of S seconds after another
                      (bench/clone/long_write.py), lined up so that one is half done when
                      the clone starts. FLUSH TABLES WITH READ LOCK waits for such a
                      statement and blocks every other write meanwhile, so a clone that
                      takes it stalls the source for about S/2 seconds [0]
  BASELINE_TIME       seconds of the idle baseline per round (0 to skip) [15]
  CLONE_TIMEOUT       seconds before a clone command is killed and the run fails [900]
  BUILD_DIR           cutover build dir; `cmake --build --target cutover` runs there
                      first (configured if needed) [build-bench]
  CUTOVER             use this cutover binary instead of building
  KEEP_LOGS           directory to copy raw logs (clone output, sysbench, probe) into [none]

A run with the defaults took 3.5-6 minutes on a shared 2-core VM (9 clones of 473 MiB
of InnoDB data, 3 baselines, loading and checks).
EOF
}

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  usage
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
results_file="${1:-$here/last-run.tsv}"

METHODS="${METHODS:-mariadb_dump mydumper cutover}"
THREADS="${THREADS:-4}"
ROUNDS="${ROUNDS:-3}"
SB_TABLES="${SB_TABLES:-8}"
SB_TABLE_SIZE="${SB_TABLE_SIZE:-250000}"
SOURCE_BUFFER_POOL="${SOURCE_BUFFER_POOL:-1G}"
TARGET_BUFFER_POOL="${TARGET_BUFFER_POOL:-2G}"
MARIADBD_ARGS="${MARIADBD_ARGS---innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M}"
MYDUMPER_ARGS="${MYDUMPER_ARGS---trx-consistency-only --rows 50000}"
MYLOADER_ARGS="${MYLOADER_ARGS:-}"
MARIADB_DUMP_ARGS="${MARIADB_DUMP_ARGS:---single-transaction --master-data=2 --gtid}"
CUTOVER_ARGS="${CUTOVER_ARGS:-}"
LOAD_TEST="${LOAD_TEST:-oltp_write_only}"
LOAD_RATE="${LOAD_RATE:-200}"
LOAD_THREADS="${LOAD_THREADS:-2}"
LOAD_WARMUP="${LOAD_WARMUP:-2}"
PROBE_INTERVAL_MS="${PROBE_INTERVAL_MS:-10}"
LONG_WRITE="${LONG_WRITE:-0}"
BASELINE_TIME="${BASELINE_TIME:-15}"
CLONE_TIMEOUT="${CLONE_TIMEOUT:-900}"
BUILD_DIR="${BUILD_DIR:-$repo/build-bench}"
# Debian's pymysql is installed for /usr/bin/python3; another python3 on PATH may lack it.
PYTHON="${PYTHON:-/usr/bin/python3}"

ROOT_PASSWORD=cutover-root
REPL_USER=repl
REPL_PASSWORD=repl-secret
PROBE_TABLE=sbtest.cutover_probe
BATCH_TABLE=sbtest.cutover_batch

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 2; }

read -r -a methods <<<"$METHODS"
((${#methods[@]})) || die "METHODS is empty"
for m in "${methods[@]}"; do
  case "$m" in mariadb_dump | mydumper | cutover) ;; *) die "unknown method '$m' (mariadb_dump mydumper cutover)" ;; esac
done
want_cutover=0
for m in "${methods[@]}"; do [[ $m == cutover ]] && want_cutover=1; done

# --- cleanup -----------------------------------------------------------------
workdir="$(mktemp -d /tmp/cutover-clone-bench.XXXXXX)"
pids=()  # background processes still to stop (servers, load, probe)

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
    if mkdir -p "$KEEP_LOGS"; then
      (cd "$workdir" && find . -path ./dump -prune -o -type f -print0 | xargs -0r cp --parents -t "$KEEP_LOGS") || true
    fi
  fi
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- prerequisites -----------------------------------------------------------
"$repo/scripts/install-deps" --bench || die "scripts/install-deps --bench failed"
if ! command -v mydumper >/dev/null || ! command -v myloader >/dev/null; then
  # scripts/install-deps --bench lists mydumper; this covers checkouts whose list does not.
  log "installing mydumper"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends mydumper >"$workdir/apt.log" 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends mydumper; } ||
    die "apt-get install mydumper failed"
fi
if ! { [[ -x $PYTHON ]] && "$PYTHON" -c 'import pymysql' 2>/dev/null; }; then
  die "$PYTHON cannot import pymysql (set PYTHON to an interpreter that can)"
fi

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
if ((want_cutover)) && ! "$CUTOVER" clone --help >/dev/null 2>&1; then
  die "$CUTOVER has no 'clone' command yet; run without it: METHODS=\"mariadb_dump mydumper\" $0"
fi

{
  echo "mariadbd: $(/usr/sbin/mariadbd --version 2>/dev/null || mariadbd --version)"
  echo "mariadb-dump: $(mariadb-dump --version)"
  echo "mydumper: $(mydumper --version 2>&1 | head -1)"
  echo "myloader: $(myloader --version 2>&1 | head -1)"
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

log "starting the source (buffer pool $SOURCE_BUFFER_POOL, ${MARIADBD_ARGS:-no extra args})"
start_local_server source --server-id 1 --buffer-pool "$SOURCE_BUFFER_POOL"
src_port="$server_port"
log "source on port $src_port"

sb_common=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$src_port" --mysql-user=root
           --mysql-password="$ROOT_PASSWORD" --mysql-db=sbtest --tables="$SB_TABLES" --table-size="$SB_TABLE_SIZE")
sql "$src_port" -e "CREATE DATABASE sbtest"
log "loading $SB_TABLES tables x $SB_TABLE_SIZE rows"
sysbench oltp_write_only "${sb_common[@]}" --threads="$(( SB_TABLES < 4 ? SB_TABLES : 4 ))" prepare \
  >"$workdir/prepare.log" 2>&1 || { tail -20 "$workdir/prepare.log"; die "sysbench prepare failed"; }
sql "$src_port" -e "CREATE TABLE $PROBE_TABLE (id BIGINT AUTO_INCREMENT PRIMARY KEY, ts DOUBLE NOT NULL,
  pad CHAR(16) NOT NULL DEFAULT '') ENGINE=InnoDB;
  CREATE TABLE $BATCH_TABLE (id INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB; INSERT INTO $BATCH_TABLE VALUES (1, 0)"
# Pull every table into the buffer pool so the first clone does not read from disk.
for t in $(seq 1 "$SB_TABLES"); do
  sql "$src_port" sbtest -e "SELECT COUNT(*), SUM(LENGTH(c)) FROM sbtest$t FORCE INDEX (PRIMARY)" >/dev/null
done
log "source data: $(sql "$src_port" -e "SELECT CONCAT(ROUND(SUM(data_length + index_length) / 1048576), ' MiB')
  FROM information_schema.tables WHERE table_schema = 'sbtest'")"

# --- load and probe on the source ----------------------------------------------
# Each line of the sysbench log gets the wall-clock time it was printed, so the
# 1-second reports can be matched to a clone's time window.
start_load() {  # start_load TAG; sets load_pid
  sysbench "$LOAD_TEST" "${sb_common[@]}" --threads="$LOAD_THREADS" --rate="$LOAD_RATE" --time=0 \
    --report-interval=1 --rand-type=uniform run \
    > >(while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$workdir/$1.load") \
    2>"$workdir/$1.load.err" &
  load_pid=$!
  pids+=("$load_pid")
}
start_probe() {  # start_probe TAG; sets probe_pid (and batch_pid with LONG_WRITE)
  batch_pid=""
  if [[ $LONG_WRITE != 0 ]]; then
    # One batch statement is half done when the clone starts (after LOAD_WARMUP).
    local phase
    phase="$(awk -v now="$EPOCHREALTIME" -v w="$LOAD_WARMUP" 'BEGIN { printf "%.3f", now + w }')"
    "$PYTHON" "$here/long_write.py" --port "$src_port" --user root --password "$ROOT_PASSWORD" \
      --table "$BATCH_TABLE" --seconds "$LONG_WRITE" --phase-epoch "$phase" 2>"$workdir/$1.long_write.err" &
    batch_pid=$!
    pids+=("$batch_pid")
  fi
  "$PYTHON" "$here/probe.py" --port "$src_port" --user root --password "$ROOT_PASSWORD" --table "$PROBE_TABLE" \
    --interval-ms "$PROBE_INTERVAL_MS" --out "$workdir/$1.probe" 2>"$workdir/$1.probe.err" &
  probe_pid=$!
  pids+=("$probe_pid")
}
stop_load_and_probe() {
  if [[ -n $batch_pid ]]; then
    stop_pid "$batch_pid"
    forget_pid "$batch_pid"
  fi
  stop_pid "$probe_pid"
  forget_pid "$probe_pid"
  stop_pid "$load_pid"
  forget_pid "$load_pid"
  sleep 0.2  # let the timestamping reader drain sysbench's last lines
  if grep -q FATAL "$workdir/$tag.load" "$workdir/$tag.load.err" 2>/dev/null; then
    grep FATAL "$workdir/$tag.load" "$workdir/$tag.load.err" | head -5 >&2
    log "WARNING: the sysbench load on the source reported FATAL errors during $tag"
  fi
}

# Prints "longest_ms at_offset_s p99_ms inserts errors" for the probe INSERTs that started in
# [T0, T1] (an INSERT still waiting when the probe stopped counts with its time so far).
# at_offset_s is when the longest one started, relative to T0.
probe_window() {  # probe_window FILE T0 T1
  "$PYTHON" - "$@" <<'EOF2'
import sys
path, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lat, errors, longest, at = [], 0, 0.0, 0.0
for line in open(path):
    f = line.split()
    ts, ms = float(f[0]), float(f[1])
    if not t0 <= ts <= t1:
        continue
    lat.append(ms)
    errors += len(f) > 2 and f[2] == "error"
    if ms > longest:
        longest, at = ms, ts - t0
lat.sort()
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
print(f"{longest:.1f} {at:.2f} {p99:.1f} {len(lat)} {errors}")
EOF2
}
# Prints "avg_tps min_tps intervals" from the 1-second sysbench reports that overlap [T0, T1]:
# the average is weighted by each report's overlap with the window; the minimum is taken
# over reports at least half inside it (or over all overlapping ones for a short window).
load_window() {  # load_window FILE T0 T1
  awk -v t0="$2" -v t1="$3" '
    / tps: / {
      e = $1; b = e - 1
      lo = (b > t0) ? b : t0; hi = (e < t1) ? e : t1
      if (hi <= lo) next
      for (i = 1; i <= NF; i++) if ($i == "tps:") v = $(i + 1)
      w = hi - lo; n++; s += v * w; ws += w
      if (w >= 0.5 && (min == "" || v < min)) min = v
      if (amin == "" || v < amin) amin = v
    }
    END {
      if (!n) { print "nan nan 0"; exit }
      if (min == "") min = amin
      printf "%.1f %.1f %d\n", s / ws, min, n
    }' "$1"
}

# --- methods -------------------------------------------------------------------
clone_mariadb_dump() {  # clone_mariadb_dump TARGET_PORT
  local tgt="$1"
  read -r -a dump_args <<<"$MARIADB_DUMP_ARGS"
  MYSQL_PWD="$ROOT_PASSWORD" timeout -k 10 "$CLONE_TIMEOUT" \
    mariadb-dump -h127.0.0.1 -P"$src_port" -uroot "${dump_args[@]}" --databases sbtest |
    MYSQL_PWD="$ROOT_PASSWORD" timeout -k 10 "$CLONE_TIMEOUT" \
      mariadb -h127.0.0.1 -P"$tgt" -uroot --init-command="SET SESSION sql_log_bin=0"
}

clone_mydumper() {  # clone_mydumper TARGET_PORT
  local tgt="$1" dir="$workdir/dump"
  rm -rf "$dir"
  read -r -a md_args <<<"$MYDUMPER_ARGS"
  read -r -a ml_args <<<"$MYLOADER_ARGS"
  timeout -k 10 "$CLONE_TIMEOUT" mydumper -h 127.0.0.1 -P "$src_port" -u root -p "$ROOT_PASSWORD" -B sbtest \
    -t "$THREADS" "${md_args[@]}" -o "$dir" -v 2 &&
    timeout -k 10 "$CLONE_TIMEOUT" myloader -h 127.0.0.1 -P "$tgt" -u root -p "$ROOT_PASSWORD" -d "$dir" \
      -t "$THREADS" "${ml_args[@]}" -v 2
}

# The config has no [proxy]: clone needs only [source], [target], [replication].
write_cutover_config() {  # write_cutover_config TARGET_PORT FILE
  cat >"$2" <<EOF
[source]
host = "127.0.0.1"
port = $src_port
user = "root"
password = "$ROOT_PASSWORD"

[target]
host = "127.0.0.1"
port = $1
user = "root"
password = "$ROOT_PASSWORD"

[replication]
user = "$REPL_USER"
password = "$REPL_PASSWORD"
EOF
}

clone_cutover() {  # clone_cutover TARGET_PORT
  local config="$workdir/$tag.toml"
  write_cutover_config "$1" "$config"
  read -r -a co_args <<<"$CUTOVER_ARGS"
  timeout -k 10 "$CLONE_TIMEOUT" "$CUTOVER" clone --config "$config" --threads "$THREADS" \
    --create-replication-user "${co_args[@]}"
}

# Each --create-replication-user run starts from a source without the user, as the first did.
drop_repl_user() {
  local hosts h
  hosts="$(sql "$src_port" -e "SELECT host FROM mysql.user WHERE user = '$REPL_USER'")"
  for h in $hosts; do
    sql "$src_port" -e "SET SESSION sql_log_bin = 0; DROP USER '$REPL_USER'@'$h'"
  done
}

checksums() {  # checksums PORT: "table checksum" lines
  local tables=() t
  for t in $(seq 1 "$SB_TABLES"); do tables+=("sbtest.sbtest$t"); done
  tables+=("$PROBE_TABLE" "$BATCH_TABLE")
  sql "$1" -e "CHECKSUM TABLE $(IFS=,; echo "${tables[*]}")"
}

# Prints a one-word verdict for the target after a clone (the write load is stopped).
check_target() {  # check_target METHOD TARGET_PORT
  local method="$1" tgt="$2"
  if [[ $method == cutover ]]; then
    local pos waited
    pos="$(sql "$src_port" -e "SELECT @@gtid_binlog_pos")"
    waited="$(sql "$tgt" -e "SELECT MASTER_GTID_WAIT('$pos', 120)" 2>>"$workdir/$tag.check" || echo error)"
    echo "source gtid_binlog_pos=$pos, target MASTER_GTID_WAIT=$waited" >>"$workdir/$tag.check"
    local i
    for i in 1 2 3 4 5 6; do  # if the wait could not tell (no GTID replication), retry a little
      checksums "$src_port" >"$workdir/$tag.sum.source"
      checksums "$tgt" >"$workdir/$tag.sum.target" 2>>"$workdir/$tag.check" || true
      if cmp -s "$workdir/$tag.sum.source" "$workdir/$tag.sum.target"; then
        echo checksums_match
        return
      fi
      [[ $waited == 0 ]] && break
      sleep 5
    done
    diff "$workdir/$tag.sum.source" "$workdir/$tag.sum.target" >>"$workdir/$tag.check" || true
    echo CHECKSUMS_DIFFER
  else
    local t n bad=0
    for t in $(seq 1 "$SB_TABLES"); do
      n="$(sql "$tgt" -e "SELECT COUNT(*) FROM sbtest.sbtest$t" 2>>"$workdir/$tag.check" || echo missing)"
      echo "sbtest$t $n" >>"$workdir/$tag.check"
      [[ $n == "$SB_TABLE_SIZE" ]] || bad=$((bad + 1))
    done
    if ((bad)); then echo "ROW_COUNTS_WRONG($bad)"; else echo row_counts_ok; fi
  fi
}

# --- runs --------------------------------------------------------------------
raw="$workdir/runs.tsv"
printf 'round\tmethod\tseconds\texit\tcheck\tstall_ms\tstall_at_s\tprobe_p99_ms\tprobe_inserts\tprobe_errors\ttps_avg\ttps_min\n' >"$raw"

record() {  # record ROUND METHOD SECONDS EXIT CHECK T0 T1
  local pr lw
  pr="$(probe_window "$workdir/$tag.probe" "$6" "$7")"
  lw="$(load_window "$workdir/$tag.load" "$6" "$7")"
  read -r stall at p99 n errs <<<"$pr"
  read -r tps_avg tps_min _ <<<"$lw"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$stall" "$at" "$p99" "$n" \
    "$errs" "$tps_avg" "$tps_min" >>"$raw"
  log "  $2: ${3}s exit=$4 check=$5 longest_stall=${stall}ms (at +${at}s; p99 ${p99}ms, $n inserts, $errs errors)" \
      "source_tps avg=$tps_avg min=$tps_min"
}

run_baseline() {  # run_baseline ROUND
  tag="r$1-baseline"
  sql "$src_port" -e "TRUNCATE TABLE $PROBE_TABLE"
  start_load "$tag"
  start_probe "$tag"
  sleep "$LOAD_WARMUP"
  local t0=$EPOCHREALTIME
  sleep "$BASELINE_TIME"
  local t1=$EPOCHREALTIME
  stop_load_and_probe
  record "$1" idle_baseline "$BASELINE_TIME" 0 - "$t0" "$t1"
}

run_clone() {  # run_clone ROUND METHOD
  local round="$1" method="$2"
  tag="r$round-$method"
  start_local_server "$tag-target" --server-id 2 --buffer-pool "$TARGET_BUFFER_POOL"
  local tgt_pid="$server_pid" tgt_port="$server_port"
  # Start each clone with a small probe table and (for cutover) no replication user.
  sql "$src_port" -e "TRUNCATE TABLE $PROBE_TABLE"
  [[ $method == cutover ]] && drop_repl_user
  start_load "$tag"
  start_probe "$tag"
  sleep "$LOAD_WARMUP"
  local t0 t1 rc=0
  t0=$EPOCHREALTIME
  "clone_$method" "$tgt_port" >"$workdir/$tag.log" 2>&1 || rc=$?
  t1=$EPOCHREALTIME
  stop_load_and_probe
  local seconds check
  seconds="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  if ((rc == 0)); then
    check="$(check_target "$method" "$tgt_port")"
  else
    check=FAILED
    log "WARNING: $method exited with status $rc after ${seconds}s; its output:"
    tail -20 "$workdir/$tag.log" >&2
  fi
  record "$round" "$method" "$seconds" "$rc" "$check" "$t0" "$t1"
  stop_pid "$tgt_pid"
  forget_pid "$tgt_pid"
}

n_methods=${#methods[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  log "round $r/$ROUNDS"
  if ((BASELINE_TIME > 0)); then run_baseline "$r"; fi
  for ((i = 0; i < n_methods; i++)); do
    run_clone "$r" "${methods[$(((i + r - 1) % n_methods))]}"  # rotate the order each round
  done
done

# --- summary -----------------------------------------------------------------
summary="$workdir/summary.md"
"$PYTHON" - "$raw" "$summary" "${methods[*]}" "$THREADS" <<'EOF'
import csv, statistics, sys
raw, summary, methods, threads = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
rows = list(csv.DictReader(open(raw), delimiter="\t"))
label = {
    "mariadb_dump": "mariadb-dump --single-transaction \\| mariadb (1 thread)",
    "mydumper": f"mydumper + myloader ({threads} threads)",
    "cutover": f"cutover clone --threads {threads}",
}
def fnum(x):
    try:
        return float(x)
    except ValueError:
        return float("nan")
def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")

base = [r for r in rows if r["method"] == "idle_baseline"]
base_tps = med([fnum(r["tps_avg"]) for r in base])
base_stall = [fnum(r["stall_ms"]) for r in base]
stats = {}
for m in methods:
    rs = [r for r in rows if r["method"] == m]
    ok = [r for r in rs if r["exit"] == "0"]
    secs = [float(r["seconds"]) for r in ok]
    stalls = [fnum(r["stall_ms"]) for r in rs]
    stats[m] = dict(
        runs=len(rs), ok=len(ok), secs=secs,
        median=med(secs), lo=min(secs) if secs else float("nan"), hi=max(secs) if secs else float("nan"),
        stall_med=med(stalls), stall_max=max(stalls) if stalls else float("nan"),
        p99=med([fnum(r["probe_p99_ms"]) for r in rs]),
        tps=med([fnum(r["tps_avg"]) for r in rs]), tps_min=min([fnum(r["tps_min"]) for r in rs] or [float("nan")]),
        checks=sorted(set(r["check"] for r in rs)))
ref = stats.get("mydumper", {}).get("median")
lines = []
lines.append("| method | runs ok | median s | min..max s | time vs mydumper+myloader "
             "| longest source write stall ms: median (max) | probe p99 ms | source tps during clone: median (worst 1 s) "
             "| check |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
for m in methods:
    s = stats[m]
    ratio = f"{s['median'] / ref:.2f}x" if ref and s["median"] == s["median"] else "n/a"
    lines.append(f"| {label[m]} | {s['ok']}/{s['runs']} | {s['median']:.1f} | {s['lo']:.1f}..{s['hi']:.1f} | {ratio} "
                 f"| {s['stall_med']:.0f} ({s['stall_max']:.0f}) | {s['p99']:.1f} | {s['tps']:.0f} ({s['tps_min']:.0f}) "
                 f"| {', '.join(s['checks'])} |")
if base:
    lines.append(f"| idle baseline (load + probe, no clone) | {len(base)} | | | "
                 f"| {med(base_stall):.0f} ({max(base_stall):.0f}) "
                 f"| {med([fnum(r['probe_p99_ms']) for r in base]):.1f} | {base_tps:.0f} "
                 f"({min(fnum(r['tps_min']) for r in base):.0f}) | |")
text = "\n".join(lines)
print()
print(text)
open(summary, "w").write(text + "\n")
EOF

{
  echo "# cutover bench/clone/run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname) cpus=$(nproc)"
  echo "# METHODS=\"$METHODS\" THREADS=$THREADS ROUNDS=$ROUNDS SB_TABLES=$SB_TABLES SB_TABLE_SIZE=$SB_TABLE_SIZE" \
       "SOURCE_BUFFER_POOL=$SOURCE_BUFFER_POOL TARGET_BUFFER_POOL=$TARGET_BUFFER_POOL" \
       "MARIADBD_ARGS=\"$MARIADBD_ARGS\" MYDUMPER_ARGS=\"$MYDUMPER_ARGS\" MYLOADER_ARGS=\"$MYLOADER_ARGS\"" \
       "MARIADB_DUMP_ARGS=\"$MARIADB_DUMP_ARGS\" CUTOVER_ARGS=\"$CUTOVER_ARGS\" LOAD_TEST=$LOAD_TEST" \
       "LOAD_RATE=$LOAD_RATE LOAD_THREADS=$LOAD_THREADS PROBE_INTERVAL_MS=$PROBE_INTERVAL_MS BASELINE_TIME=$BASELINE_TIME" \
       "LONG_WRITE=$LONG_WRITE"
  sed 's/^/# /' "$workdir/versions.txt"
  echo "# runs"
  cat "$raw"
  echo "# summary"
  cat "$summary"
} >"$results_file"
log "results: $results_file"
