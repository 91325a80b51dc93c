#!/usr/bin/env bash
# Switchover benchmark: moves the primary back and forth between two live servers
# under a 16-client workload, through the cutover proxy (cutover switchover /
# rollback) and then the usual way (re-point haproxy and kill the connections),
# and reports per move what the clients saw: longest stall, errors, lost writes.
# Run `bench/switchover/run.sh --help` for usage.
set -euo pipefail
export LC_ALL=C  # $EPOCHREALTIME with a decimal point

usage() {
  cat <<'EOF'
Usage: bench/switchover/run.sh [RESULTS_FILE]

Starts two throw-away MariaDB servers (cutover local-server): the source
(server_id 1, with the app user app/secret, all privileges) and an empty target
(server_id 2). Seeds the workload's schema on the source (cutover workload
--setup), clones it with `cutover clone --with-users --create-replication-user`
and starts `cutover proxy` in front of the source. Then:

1. cutover, once per rate in RATES (0 = full speed): MOVES moves, alternately
   `cutover switchover` (source -> target) and `cutover rollback` (back). Each move
   runs under its own `cutover workload --clients CLIENTS --duration DURATION
   --rate R --json` through the proxy; the move starts SWITCH_AT seconds into it.
   The workload checks, against the final primary directly (--check-port), that
   every acknowledged append of the run is there exactly once and the bank total
   is intact. Before every other move (the even ones) the new primary's SQL
   thread is stopped for LAG seconds while the clients write, and started just
   before the move: the move finds its replica LAG seconds behind.
2. Pause against sessions, once per N in SESSIONS: bench/switchover/idle_sessions.py
   holds N idle sessions at the proxy (a third with SET time_zone), then
   SESSION_MOVES moves run under one writing client (rate 100); afterwards every
   idle session must still answer with its time zone.
3. The usual method, on the same two servers, once per rate in HAPROXY_RATES:
   haproxy (mode tcp) with the primary as its only server and a stats socket;
   HAPROXY_MOVES moves, each under the same workload through haproxy; at SWITCH_AT
   s bench/switchover/manual_switch.py does what a DNS/load-balancer runbook does:
   read_only=ON on the old primary, MASTER_GTID_WAIT on the new one, STOP SLAVE,
   RESET SLAVE ALL, read_only=OFF, `set server be/db addr ...` and
   `shutdown sessions server be/db` on haproxy's runtime API, then reverse
   replication on the old primary. Before this part the app user loses the
   READ_ONLY ADMIN privilege (see HAPROXY_APP_READ_ONLY_ADMIN): with it, which
   ALL PRIVILEGES includes on MariaDB 10.11, read_only does not stop its writes.
   This part runs last because cutover's state files no longer match the servers
   afterwards.

Per move it prints one line; at the end, markdown tables per method and rate
(switch ok, pause, longest operation and when, longest operation away from the
move = background noise, errors and their time span, acknowledged/missing/
duplicated appends, bank check) and a summary with the goal verdict (median
longest stall <= 100 ms, worst <= 250 ms, zero errors, zero lost writes).
Writes every move (TSV) plus the tables to RESULTS_FILE (default
bench/switchover/last-run.tsv).

Everything it starts (servers, proxies, workloads, temp dirs) is stopped and
removed on exit, including on Ctrl-C. Installs missing packages with
scripts/install-deps --bench (needs root or sudo only then).

Environment (defaults in brackets):
  RATES              workload rates for the cutover moves, space-separated [0 500]
  MOVES              moves per cutover rate (odd: switchover, even: rollback) [10]
  HAPROXY_RATES      workload rates for the haproxy moves ("" to skip them) [0 500]
  HAPROXY_MOVES      moves per haproxy rate [10]
  LAG                seconds the replica is held behind before every other cutover
                     move (0: never) [5]
  SESSIONS           idle sessions at the proxy, one round of moves each ("" to skip)
                     [10 100 1000 5000]
  SESSION_MOVES      moves per SESSIONS value [4]
  CLIENTS            workload client connections [16]
  DURATION           seconds per workload run (one per move) [6]
  SWITCH_AT          seconds into the workload when the move starts [2]
  HAPROXY_APP_READ_ONLY_ADMIN  revoke: REVOKE READ_ONLY ADMIN from app before the
                     haproxy moves (an ordinary application account); keep: leave
                     it: its writes go on on the old primary after read_only=ON, are
                     lost, and the old primary cannot follow the new one (GTID
                     conflict), so the moves after the first one fail [revoke]
  BUFFER_POOL        innodb_buffer_pool_size of both servers [256M]
  MARIADBD_ARGS      extra mariadbd arguments for both servers
                     [--innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M]
  PROXY_THREADS      cutover proxy event loops [1]
  BUILD_DIR          cutover build dir; `cmake --build --target cutover` runs there
                     first (configured if needed) [build-bench]
  CUTOVER            use this cutover binary instead of building
  KEEP_LOGS          directory to copy every raw output into (workload JSON lines,
                     switchover JSON lines, proxy/haproxy/server logs) [none]

A run with the defaults takes 12-15 minutes on a shared 2-core VM: 56 moves of ~6.5 s, plus
opening the idle sessions, plus
50 s for each haproxy move whose SET GLOBAL read_only = ON gets stuck behind a row-lock
wait until innodb_lock_wait_timeout (0 to 4 of the 10 full-speed moves here).
EOF
}

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  usage
  exit 0
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
results_file="${1:-$here/last-run.tsv}"
mkdir -p "$(dirname "$results_file")"

RATES="${RATES-0 500}"
MOVES="${MOVES:-10}"
HAPROXY_RATES="${HAPROXY_RATES-0 500}"
HAPROXY_MOVES="${HAPROXY_MOVES:-10}"
LAG="${LAG:-5}"
SESSIONS="${SESSIONS-10 100 1000 5000}"
SESSION_MOVES="${SESSION_MOVES:-4}"
CLIENTS="${CLIENTS:-16}"
DURATION="${DURATION:-6}"
SWITCH_AT="${SWITCH_AT:-2}"
HAPROXY_APP_READ_ONLY_ADMIN="${HAPROXY_APP_READ_ONLY_ADMIN:-revoke}"
BUFFER_POOL="${BUFFER_POOL:-256M}"
MARIADBD_ARGS="${MARIADBD_ARGS---innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M}"
PROXY_THREADS="${PROXY_THREADS:-1}"
BUILD_DIR="${BUILD_DIR:-$repo/build-bench}"
PYTHON="${PYTHON:-/usr/bin/python3}"  # Debian's pymysql is installed for it

APP_USER=app
APP_PASSWORD=secret
ROOT_PASSWORD=cutover-root
REPL_USER=repl
REPL_PASSWORD=repl-secret

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 2; }

case "$HAPROXY_APP_READ_ONLY_ADMIN" in revoke | keep) ;; *) die "HAPROXY_APP_READ_ONLY_ADMIN must be revoke or keep" ;; esac
((MOVES >= 1 && HAPROXY_MOVES >= 1 && SESSION_MOVES >= 1)) || die "MOVES, HAPROXY_MOVES and SESSION_MOVES must be at least 1"
[[ $LAG =~ ^[0-9]+$ ]] || die "LAG must be a whole number of seconds"
read -r -a session_counts <<<"$SESSIONS"
max_sessions=0
for n in "${session_counts[@]}"; do
  [[ $n =~ ^[0-9]+$ ]] || die "SESSIONS must be whole numbers"
  ((n > max_sessions)) && max_sessions=$n
done
# The proxy holds a client, a backend and (during a move) a standby socket per session.
ulimit -Sn "$(ulimit -Hn)"
if ((max_sessions * 3 + 200 > $(ulimit -Hn))); then
  die "SESSIONS up to $max_sessions needs an open-files limit of $((max_sessions * 3 + 200)); ulimit -Hn is $(ulimit -Hn)"
fi

# --- cleanup -----------------------------------------------------------------
workdir="$(mktemp -d /tmp/cutover-switchover-bench.XXXXXX)"
pids=()  # background processes to stop on exit (servers, proxy, haproxy)

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
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do stop_pid "$p"; done
  if [[ -n "${KEEP_LOGS:-}" ]]; then
    if mkdir -p "$KEEP_LOGS"; then cp -r "$workdir"/. "$KEEP_LOGS"/ 2>/dev/null || true; fi
    log "raw logs kept in $KEEP_LOGS"
  fi
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# --- prerequisites -----------------------------------------------------------
"$repo/scripts/install-deps" --bench || die "scripts/install-deps --bench failed"
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
[[ -x $HAPROXY ]] || die "haproxy is not installed"
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
for c in switchover rollback workload clone; do
  "$CUTOVER" "$c" --help >/dev/null 2>&1 || die "$CUTOVER has no '$c' command"
done

{
  echo "mariadbd: $(/usr/sbin/mariadbd --version 2>/dev/null || mariadbd --version)"
  echo "haproxy: $("$HAPROXY" -v | head -1)"
  if [[ -n $cutover_origin ]]; then
    echo "cutover: $CUTOVER ($cutover_origin)"
  else
    echo "cutover: $CUTOVER (built from git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(
      [[ -n $(git -C "$repo" status --porcelain -- src CMakeLists.txt 2>/dev/null) ]] &&
        echo ' with uncommitted changes in src/'))"
  fi
  echo "machine: $(nproc) cpus, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$workdir/versions.txt"
sed 's/^/  /' "$workdir/versions.txt" >&2

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {  # wait_port PORT PID NAME LOGFILE
  local i
  for i in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      cat "$4" >&2
      die "$3 exited while starting"
    fi
    sleep 0.05
  done
  cat "$4" >&2
  die "$3 did not listen on port $1"
}

# --- servers -----------------------------------------------------------------
read -r -a extra_mariadbd <<<"$MARIADBD_ARGS"
server_extra=()
for a in "${extra_mariadbd[@]}"; do server_extra+=("--mariadbd-arg=$a"); done

# Starts `cutover local-server` in the background; sets server_pid, server_port.
start_local_server() {  # start_local_server NAME ARGS...
  local name="$1"
  shift
  local out="$workdir/$name.out"
  "$CUTOVER" local-server --name "$name" --buffer-pool "$BUFFER_POOL" "$@" "${server_extra[@]}" \
    >"$out" 2>"$workdir/$name.err" &
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

log "starting source (server_id 1) and target (server_id 2): buffer pool $BUFFER_POOL, ${MARIADBD_ARGS:-no extra args}"
connections=(--max-connections $((max_sessions + 400)))
start_local_server source --server-id 1 --app-user "$APP_USER" --app-password "$APP_PASSWORD" "${connections[@]}"
src_port="$server_port"
start_local_server target --server-id 2 "${connections[@]}"
tgt_port="$server_port"
log "source on port $src_port, target on port $tgt_port"

sql() {  # sql PORT STATEMENTS...: run as root, print tab-separated rows without headers
  local port="$1"
  shift
  MYSQL_PWD="$ROOT_PASSWORD" mariadb -h127.0.0.1 -P"$port" -uroot -N -B -e "$*"
}
name_of() { [[ $1 == "$src_port" ]] && echo source || echo target; }
other_of() { [[ $1 == "$src_port" ]] && echo "$tgt_port" || echo "$src_port"; }
# The port of the server that is writable now; fails unless exactly one is.
primary_port() {
  local s t
  s="$(sql "$src_port" 'SELECT @@read_only')"
  t="$(sql "$tgt_port" 'SELECT @@read_only')"
  if [[ $s == 0 && $t == 1 ]]; then
    echo "$src_port"
  elif [[ $s == 1 && $t == 0 ]]; then
    echo "$tgt_port"
  else
    log "read_only: source=$s target=$t (expected exactly one writable server)"
    return 1
  fi
}
# Waits up to 15 s until PORT replicates (IO and SQL threads running); logs otherwise.
wait_replicating() {  # wait_replicating PORT
  local i st
  for i in $(seq 1 150); do
    st="$(MYSQL_PWD="$ROOT_PASSWORD" mariadb -h127.0.0.1 -P"$1" -uroot -e 'SHOW SLAVE STATUS\G' 2>/dev/null |
      awk '/Slave_IO_Running:|Slave_SQL_Running:/ {printf "%s ", $2}')"
    [[ $st == "Yes Yes " ]] && return 0
    sleep 0.1
  done
  log "WARNING: $(name_of "$1") (port $1) is not replicating after 15 s: IO/SQL running = '${st:-not configured}'"
  MYSQL_PWD="$ROOT_PASSWORD" mariadb -h127.0.0.1 -P"$1" -uroot -e 'SHOW SLAVE STATUS\G' 2>&1 |
    grep -E 'Running|Last_.*Error|Gtid' >&2 || true
  return 1
}

export APP_PW="$APP_PASSWORD"
log "seeding the workload schema on the source (cutover workload --setup, 1 s)"
"$CUTOVER" workload --host 127.0.0.1 --port "$src_port" --user "$APP_USER" --password-env APP_PW \
  --setup --clients 4 --duration 1 --json >"$workdir/seed.jsonl" 2>&1 ||
  { tail -5 "$workdir/seed.jsonl"; die "seeding the workload schema failed"; }

# --- config, clone, proxy ----------------------------------------------------
proxy_port="$(free_port)"
admin_port="$(free_port)"
config="$workdir/cutover.toml"
cat >"$config" <<EOF
[proxy]
listen = "127.0.0.1:$proxy_port"
admin_listen = "127.0.0.1:$admin_port"
admin_token = "bench-token"
state_file = "$workdir/proxy.state"
threads = $PROXY_THREADS

[[proxy.users]]
name = "$APP_USER"
password = "$APP_PASSWORD"

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

[switchover]
state_file = "$workdir/switchover.json"
EOF

log "cutover clone --with-users --create-replication-user"
"$CUTOVER" clone --config "$config" --with-users --create-replication-user --json >"$workdir/clone.jsonl" 2>&1 ||
  { tail -5 "$workdir/clone.jsonl"; die "cutover clone failed"; }
grep '"event":"done"' "$workdir/clone.jsonl" | head -1 >&2 || true

"$CUTOVER" proxy --config "$config" >"$workdir/proxy.log" 2>&1 &
proxy_pid=$!
pids+=("$proxy_pid")
wait_port "$proxy_port" "$proxy_pid" "cutover proxy" "$workdir/proxy.log"
log "cutover proxy on port $proxy_port (admin $admin_port), primary: source"

# --- moves -------------------------------------------------------------------
tsv="$workdir/moves.tsv"
first_workload=1

stamp_lines() {  # prefixes every line with the wall-clock time it arrived
  local line
  while IFS= read -r line; do printf '%s\t%s\n' "$EPOCHREALTIME" "$line"; done
}

# run_move METHOD RATE MOVE_NO ENDPOINT_PORT [SETTING]: one workload with one move in
# it. Reads move_clients (workload clients) and move_lag (seconds the new primary's SQL
# thread is stopped before the move; 0: not stopped). A lagged move's workload runs
# 4 x move_lag longer: at full speed on 2 cores the replica needs about twice the lag
# to catch up (the catch-up gate waits for it), and the move must happen while the
# clients still write.
move_clients="$CLIENTS"
move_lag=0
run_move() {
  local method="$1" rate="$2" move="$3" endpoint="$4" setting="${5:-}"
  local old new dir tag wl sw rc t0 t1 wl_pid
  if ! old="$(primary_port)"; then
    log "cannot tell which server is the primary before $method move $move (a failed move left it so);" \
        "skipping the remaining $method moves"
    return 1
  fi
  new="$(other_of "$old")"
  dir="$(name_of "$old")->$(name_of "$new")"
  tag="$method-r$rate-m$move${setting:+-${setting// /_}}"
  wl="$workdir/$tag.workload.jsonl"
  sw="$workdir/$tag.switch.jsonl"

  if ((move_lag > 0)); then sql "$new" "STOP SLAVE SQL_THREAD"; fi
  { local wrc=0
    timeout -k 5 $((DURATION + 4 * move_lag + 120)) "$CUTOVER" workload --host 127.0.0.1 --port "$endpoint" \
      --user "$APP_USER" --password-env APP_PW --clients "$move_clients" --duration $((DURATION + 4 * move_lag)) \
      --rate "$rate" --check-port "$new" --json 2>"$workdir/$tag.workload.err" || wrc=$?
    echo "{\"event\":\"exit\",\"rc\":$wrc}"
  } | stamp_lines >"$wl" &
  wl_pid=$!
  sleep $((SWITCH_AT + move_lag))
  if ((move_lag > 0)); then sql "$new" "START SLAVE SQL_THREAD"; fi

  t0="$EPOCHREALTIME"
  if [[ $method == cutover ]]; then
    local cmd=switchover
    [[ $new == "$src_port" ]] && cmd=rollback
    echo "cutover $cmd --config $config --json" >"$workdir/$tag.switch.cmd"
    { local src=0
      timeout -k 5 120 "$CUTOVER" "$cmd" --config "$config" --json 2>"$workdir/$tag.switch.err" || src=$?
      echo "$src" >"$workdir/$tag.switch.rc"
    } | stamp_lines >"$sw"
  else
    { local src=0
      "$PYTHON" "$here/manual_switch.py" --old-port "$old" --new-port "$new" --password "$ROOT_PASSWORD" \
        --repl-user "$REPL_USER" --repl-password "$REPL_PASSWORD" --haproxy-socket "$workdir/haproxy.sock" \
        --server be/db 2>"$workdir/$tag.switch.err" || src=$?
      echo "$src" >"$workdir/$tag.switch.rc"
    } | stamp_lines >"$sw"
  fi
  rc="$(cat "$workdir/$tag.switch.rc")"
  t1="$EPOCHREALTIME"
  echo "switch_start=$t0 switch_end=$t1 switch_rc=$rc old_port=$old new_port=$new" >"$workdir/$tag.times"
  wait "$wl_pid" || true

  "$PYTHON" "$here/report.py" row --tsv "$tsv" --method "$method" --rate "$rate" --setting "$setting" \
    --move "$move" --direction "$dir" \
    --workload "$wl" --switch "$sw" --switch-rc "$rc" --switch-start "$t0" --switch-end "$t1" ||
    log "WARNING: report.py could not read $tag"
  if ((rc != 0)); then
    log "$method move $move ($dir) FAILED (exit status $rc); its output:"
    cut -f2- "$sw" | cat - "$workdir/$tag.switch.err" >&2
  fi
  # Through haproxy errors are expected; through cutover any finding is one.
  if [[ $method == cutover ]] && ! grep -q '"event":"exit","rc":0' "$wl"; then
    log "FINDING: the workload of cutover move $move (rate $rate) did not exit 0; its last lines and stderr:"
    tail -2 "$wl" | cut -f2- | cut -c1-2000 >&2
    head -20 "$workdir/$tag.workload.err" >&2
  fi
  # The old primary must follow the new one before the next move.
  local now
  now="$(primary_port)" || return 0
  wait_replicating "$(other_of "$now")" || true
}

read -r -a rates <<<"$RATES"
for rate in "${rates[@]}"; do
  log "== cutover: $MOVES moves at rate $rate (0 = full speed), $CLIENTS clients, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for ((m = 1; m <= MOVES; m++)); do
    move_lag=0
    setting=""
    if ((LAG > 0 && m % 2 == 0)); then
      move_lag=$LAG
      setting="replica $LAG s behind"
    fi
    run_move cutover "$rate" "$m" "$proxy_port" "$setting" || break 2
  done
done
move_lag=0

# --- pause against idle sessions ---------------------------------------------
for n in "${session_counts[@]}"; do
  log "== cutover: $SESSION_MOVES moves with $n idle sessions at the proxy and one writer at 100/s"
  idle_out="$workdir/idle-$n.out"
  mkfifo "$workdir/idle-$n.in"
  "$PYTHON" "$here/idle_sessions.py" --port "$proxy_port" --user "$APP_USER" --password "$APP_PASSWORD" -n "$n" \
    <"$workdir/idle-$n.in" >"$idle_out" 2>"$workdir/idle-$n.err" &
  idle_pid=$!
  pids+=("$idle_pid")
  exec 7>"$workdir/idle-$n.in"
  for i in $(seq 1 3000); do
    grep -q '^ready' "$idle_out" 2>/dev/null && break
    kill -0 "$idle_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q '^ready' "$idle_out" || { cat "$workdir/idle-$n.err" >&2; die "idle_sessions.py could not open $n sessions in 300 s"; }
  log "$(cat "$idle_out")"
  move_clients=1
  for ((m = 1; m <= SESSION_MOVES; m++)); do run_move cutover 100 "$m" "$proxy_port" "$n idle sessions" || break; done
  move_clients="$CLIENTS"
  exec 7>&-
  wait "$idle_pid" || log "FINDING: idle sessions lost their state or connection: $(tail -1 "$idle_out"); $(head -3 "$workdir/idle-$n.err")"
  log "idle sessions after the moves: $(tail -1 "$idle_out")"
done

read -r -a haproxy_rates <<<"$HAPROXY_RATES"
if ((${#haproxy_rates[@]})); then
  primary="$(primary_port)" || die "cannot tell which server is the primary before the haproxy moves (cutover left it so)"
  if [[ $HAPROXY_APP_READ_ONLY_ADMIN == revoke ]]; then
    log "REVOKE READ_ONLY ADMIN ON *.* FROM app on both servers (an application account does not bypass read_only)"
    for p in "$src_port" "$tgt_port"; do
      sql "$p" "SET SESSION sql_log_bin = 0; REVOKE READ_ONLY ADMIN ON *.* FROM '$APP_USER'@'%'"
    done
  fi
  for p in "$src_port" "$tgt_port"; do
    log "$(name_of "$p"): $(sql "$p" "SELECT CONCAT('read_only=', @@read_only, ' slave_parallel_threads=', @@slave_parallel_threads, ' slave_parallel_mode=', @@slave_parallel_mode, ' innodb_lock_wait_timeout=', @@innodb_lock_wait_timeout)")"
  done
  haproxy_port="$(free_port)"
  cat >"$workdir/haproxy.cfg" <<EOF
global
  maxconn 4096
  stats socket $workdir/haproxy.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend fe
  bind 127.0.0.1:$haproxy_port
  default_backend be
backend be
  server db 127.0.0.1:$primary
EOF
  "$HAPROXY" -f "$workdir/haproxy.cfg" -db >"$workdir/haproxy.log" 2>&1 &
  haproxy_pid=$!
  pids+=("$haproxy_pid")
  wait_port "$haproxy_port" "$haproxy_pid" haproxy "$workdir/haproxy.log"
  log "haproxy on port $haproxy_port -> $(name_of "$primary") (port $primary)"
  for rate in "${haproxy_rates[@]}"; do
    log "== haproxy: $HAPROXY_MOVES moves at rate $rate (0 = full speed), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    for ((m = 1; m <= HAPROXY_MOVES; m++)); do run_move haproxy "$rate" "$m" "$haproxy_port" || break 2; done
  done
fi

# --- summary -----------------------------------------------------------------
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$workdir/versions.txt"
[[ -s $tsv ]] || die "no move was recorded"
"$PYTHON" "$here/report.py" summary --tsv "$tsv" --markdown "$workdir/summary.md"
{
  echo "# cutover bench/switchover/run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname) cpus=$(nproc)"
  echo "# LAG=$LAG SESSIONS=\"$SESSIONS\" SESSION_MOVES=$SESSION_MOVES"
  echo "# RATES=\"$RATES\" MOVES=$MOVES HAPROXY_RATES=\"$HAPROXY_RATES\" HAPROXY_MOVES=$HAPROXY_MOVES CLIENTS=$CLIENTS" \
       "DURATION=$DURATION SWITCH_AT=$SWITCH_AT HAPROXY_APP_READ_ONLY_ADMIN=$HAPROXY_APP_READ_ONLY_ADMIN" \
       "BUFFER_POOL=$BUFFER_POOL PROXY_THREADS=$PROXY_THREADS MARIADBD_ARGS=\"$MARIADBD_ARGS\""
  sed 's/^/# /' "$workdir/versions.txt"
  echo "# moves"
  cat "$tsv"
  echo "# tables"
  sed 's/^/# /' "$workdir/summary.md"
} >"$results_file"
log "results: $results_file"
