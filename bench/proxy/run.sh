#!/usr/bin/env bash
# Proxy benchmark: sysbench against the server directly, through haproxy (TCP
# mode) and through cutover (1 and 2 event loop threads), with or without TLS,
# side by side in one run; then the proxy's RSS with many idle client
# connections.
# Run `bench/proxy/run.sh --help` for usage.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/proxy/run.sh [RESULTS_FILE]

Starts one throw-away MariaDB server (cutover local-server), loads sysbench
tables, starts haproxy (mode tcp) and two cutover proxies (threads=1 and
threads=2), then runs sysbench oltp_point_select and oltp_read_write at
SB_THREADS threads against each target:

  direct       the server itself
  haproxy      haproxy in TCP mode (nbthread HAPROXY_THREADS)
  cutover_t1   cutover proxy, threads = 1
  cutover_t2   cutover proxy, threads = 2

and, only when named in TARGETS, the before/after targets of a change to the
proxy (BASELINE_CUTOVER names the other binary, e.g. one built from main):

  baseline_t1  BASELINE_CUTOVER's proxy, threads = 1
  baseline_t2  BASELINE_CUTOVER's proxy, threads = 2

and the TLS targets (sysbench --mysql-ssl=on):

  direct_tls              the server itself, over TLS
  cutover_t1_tls          cutover_t1 over TLS (the same proxy process: clients
                          TLS to the proxy, plaintext from the proxy to the server)
  cutover_t2_tls          cutover_t2 over TLS (likewise)
  cutover_t1_backend_tls  a third cutover proxy, threads = 1, plaintext clients,
                          TLS from the proxy to the server ([source] tls = "verify")

There is no haproxy TLS target: a MySQL client asks for TLS with an SSLRequest
packet inside the MySQL protocol, after the server's greeting, not at connect,
so haproxy in TCP mode can only pass such a session through to the server,
which then does the TLS; haproxy has no MySQL-aware TLS termination.
When any TLS target is named, the run makes a throw-away CA and ECDSA P-256
certificates (SAN IP:127.0.0.1) with the openssl CLI, starts the server with
--ssl-cert/--ssl-key/--ssl-ca and gives cutover_t1 and cutover_t2 tls_cert and
tls_key; plaintext clients of those proxies are unaffected. The TLS targets
are opt-in because each adds a quarter to the run time; a run that names them
checks afterwards that the server and the proxies counted TLS sessions.

WORKLOADS may include `connect` (bench/proxy/connect.lua): every event
connects, logs in, runs SELECT 1 and disconnects, so its tps is connections
per second, the cost of the (TLS) handshake and login per target.

For every target that is a process of its own (haproxy and the proxies), the
run also reads that process's CPU time (utime + stime from /proc/PID/stat)
before and after each measured run and reports its CPU microseconds per
query: on a machine where the proxy shares the cores with the server and the
clients, every microsecond it spends is taken from them.

Each workload runs ROUNDS rounds; within a round every target runs once
(a short warmup run, then the measured run), and the order of targets rotates
from round to round so background noise hits all targets alike. Prints the
median tps, qps and p95 latency per target with the ratio to direct, and writes
every run plus the medians to RESULTS_FILE (TSV; default
bench/proxy/last-run.tsv). Finally bench/proxy/idle_connections.py measures
the proxy's RSS per idle client connection (skip with IDLE=0).

Everything it starts (servers, proxies, temp dirs) is stopped and removed on
exit, including on Ctrl-C. Needs Debian 12 with root or sudo only when
sysbench or haproxy is missing (apt-get installs them then).

Environment (defaults in brackets):
  BUILD_DIR         cutover build dir; built with cmake+ninja if no binary [build-bench]
  CUTOVER           use this cutover binary instead of building
  BASELINE_CUTOVER  the cutover binary of the baseline_t1/baseline_t2 targets
  SB_THREADS        sysbench client threads [16]
  SB_TIME           seconds per measured run [20]
  SB_WARMUP         seconds of warmup run before each measured run [3]
  SB_TABLES         sysbench tables [4]
  SB_TABLE_SIZE     rows per table [100000]
  SB_PS_MODE        sysbench --db-ps-mode: auto (server-side prepared statements) or disable [auto]
  ROUNDS            rounds per workload; the table shows medians [3]
  WORKLOADS         space-separated sysbench tests [oltp_point_select oltp_read_write]
  TARGETS           space-separated subset of: direct haproxy cutover_t1 cutover_t2
                    baseline_t1 baseline_t2 direct_tls cutover_t1_tls cutover_t2_tls cutover_t1_backend_tls
                    [direct haproxy cutover_t1 cutover_t2]
  BUFFER_POOL       innodb_buffer_pool_size of the server [512M]
  MARIADBD_ARGS     extra mariadbd arguments, space-separated
                    [--innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M:
                     commits do not wait on fsync, and the redo log is large enough that
                     oltp_read_write does not hit checkpoint stalls (with local-server's
                     16M log, runs stalled for 20-35 s on this shared machine); the
                     benchmark measures CPU, which the proxy competes for]
  HAPROXY_THREADS   haproxy nbthread [1]
  IDLE              1 to run the idle-connection RSS step, 0 to skip [1]
  IDLE_TLS          1 to repeat the idle step with TLS client sessions [1 when TARGETS
                    names a client TLS target, else 0]
  IDLE_CONNECTIONS  idle connections to open; lowered (with a message) if the
                    open-files limit cannot hold 2 sockets per session in the proxy [10000]
  KEEP_LOGS         directory to copy raw sysbench/proxy/haproxy logs into [none]

A run with the defaults takes about 10-12 minutes (2 workloads x 3 rounds x
4 targets x 23 s, plus loading and the idle-connection step); every extra
target adds ROUNDS x (SB_WARMUP + SB_TIME) s per workload. The TLS comparison
of bench/RESULTS.md (2026-12-03) ran:

  ROUNDS=3 SB_TIME=10 IDLE=1 \
  WORKLOADS="oltp_point_select oltp_read_write connect" \
  TARGETS="direct direct_tls haproxy cutover_t1 cutover_t1_tls cutover_t2 cutover_t2_tls cutover_t1_backend_tls" \
  bench/proxy/run.sh bench/proxy/results-2026-12-03-tls.tsv
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

SB_THREADS="${SB_THREADS:-16}"
SB_TIME="${SB_TIME:-20}"
SB_WARMUP="${SB_WARMUP:-3}"
SB_TABLES="${SB_TABLES:-4}"
SB_TABLE_SIZE="${SB_TABLE_SIZE:-100000}"
SB_PS_MODE="${SB_PS_MODE:-auto}"
ROUNDS="${ROUNDS:-3}"
WORKLOADS="${WORKLOADS:-oltp_point_select oltp_read_write}"
TARGETS="${TARGETS:-direct haproxy cutover_t1 cutover_t2}"
BUFFER_POOL="${BUFFER_POOL:-512M}"
MARIADBD_ARGS="${MARIADBD_ARGS---innodb-flush-log-at-trx-commit=2 --innodb-log-file-size=512M}"
HAPROXY_THREADS="${HAPROXY_THREADS:-1}"
IDLE="${IDLE:-1}"
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-10000}"
BUILD_DIR="${BUILD_DIR:-$repo/build-bench}"
PYTHON="${PYTHON:-/usr/bin/python3}"
[[ -x $PYTHON ]] || PYTHON=python3

APP_USER=app
APP_PASSWORD=secret
ROOT_PASSWORD=cutover-root

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 2; }

known_targets="direct haproxy cutover_t1 cutover_t2 baseline_t1 baseline_t2 direct_tls cutover_t1_tls cutover_t2_tls cutover_t1_backend_tls"
read -r -a targets <<<"$TARGETS"
read -r -a workloads <<<"$WORKLOADS"
client_tls=0   # does a target connect to its port with TLS?
backend_tls=0  # is cutover_t1_backend_tls wanted?
baseline=0     # are baseline_t1/baseline_t2 wanted?
for t in "${targets[@]}"; do
  [[ " $known_targets " == *" $t "* ]] || die "unknown target '$t' ($known_targets)"
  case "$t" in
    baseline_t*) baseline=1 ;;
    cutover_t1_backend_tls) backend_tls=1 ;;
    *_tls) client_tls=1 ;;
  esac
done
IDLE_TLS="${IDLE_TLS:-$client_tls}"

# --- cleanup -----------------------------------------------------------------
workdir="$(mktemp -d /tmp/cutover-bench.XXXXXX)"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    # local-server waits for mariadbd to shut down; give it time, then insist.
    for _ in $(seq 1 100); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
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
missing=()
command -v sysbench >/dev/null || missing+=(sysbench)
command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
command -v mariadb >/dev/null || missing+=(mariadb-client)
command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
if ((client_tls || backend_tls)); then
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
fi
"$PYTHON" -c 'import pymysql' 2>/dev/null || missing+=(python3-pymysql)
if ((${#missing[@]})); then
  log "installing missing packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"

if [[ -n "${CUTOVER:-}" ]]; then
  [[ -x $CUTOVER ]] || die "CUTOVER=$CUTOVER is not executable"
else
  CUTOVER="$BUILD_DIR/cutover"
  if [[ ! -x $CUTOVER ]]; then
    log "building cutover into $BUILD_DIR"
    cmake -S "$repo" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$workdir/build.log" 2>&1 ||
      { tail -30 "$workdir/build.log"; die "cmake configure failed"; }
    cmake --build "$BUILD_DIR" --target cutover -j"$(nproc)" >>"$workdir/build.log" 2>&1 ||
      { tail -30 "$workdir/build.log"; die "build failed"; }
  fi
fi

if ((baseline)); then
  [[ -n "${BASELINE_CUTOVER:-}" ]] || die "TARGETS names a baseline target: set BASELINE_CUTOVER to a cutover binary"
  [[ -x $BASELINE_CUTOVER ]] || die "BASELINE_CUTOVER=$BASELINE_CUTOVER is not executable"
fi

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

# Starts `cutover local-server` in the background; sets server_pid, server_port.
start_local_server() {  # start_local_server NAME ARGS...
  local name="$1"
  shift
  local out="$workdir/$name.out"
  "$CUTOVER" local-server --name "$name" --app-user "$APP_USER" --app-password "$APP_PASSWORD" "$@" \
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

# Starts a cutover proxy; sets proxy_pid, proxy_port, proxy_admin_port.
# CLIENT_TLS 1: the proxy offers TLS to clients (tls_cert, tls_key).
# BACKEND_TLS 1: the proxy connects to the server with TLS (tls = "verify").
# PROXY_BINARY in the environment: run that cutover binary [CUTOVER].
start_cutover() {  # start_cutover NAME THREADS BACKEND_PORT [CLIENT_TLS [BACKEND_TLS]]
  local name="$1" threads="$2" backend="$3" with_client_tls="${4:-0}" with_backend_tls="${5:-0}"
  local binary="${PROXY_BINARY:-$CUTOVER}"
  proxy_port="$(free_port)"
  proxy_admin_port="$(free_port)"
  local proxy_tls="" source_tls=""
  if ((with_client_tls)); then
    proxy_tls="tls_cert = \"$certdir/server-cert.pem\""$'\n'"tls_key = \"$certdir/server-key.pem\""
  fi
  if ((with_backend_tls)); then
    source_tls="tls = \"verify\""$'\n'"tls_ca = \"$certdir/cacert.pem\""
  fi
  cat >"$workdir/$name.toml" <<EOF
[proxy]
listen = "127.0.0.1:$proxy_port"
admin_listen = "127.0.0.1:$proxy_admin_port"
admin_token = "bench"
state_file = "$workdir/$name.state"
threads = $threads
$proxy_tls

[[proxy.users]]
name = "$APP_USER"
password = "$APP_PASSWORD"

[source]
host = "127.0.0.1"
port = $backend
user = "root"
password = "$ROOT_PASSWORD"
$source_tls
EOF
  "$binary" --log-level warn proxy --config "$workdir/$name.toml" >"$workdir/$name.log" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_port "$proxy_port" "$proxy_pid" "cutover proxy $name" "$workdir/$name.log"
}

# A throw-away CA and, signed by it, a server certificate for 127.0.0.1 (the
# server's and the proxies') and a client certificate, all ECDSA P-256, under
# $certdir with the names sysbench --mysql-ssl=on reads from its working
# directory: cacert.pem, client-cert.pem, client-key.pem.
make_certificates() {
  mkdir -p "$certdir"
  (
    cd "$certdir"
    local ossl="$workdir/openssl.log"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca-key.pem 2>>"$ossl"
    openssl req -x509 -new -key ca-key.pem -subj "/CN=cutover bench CA" -days 2 -out cacert.pem 2>>"$ossl"
    local who
    for who in server client; do
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$who-key.pem" 2>>"$ossl"
      openssl req -new -key "$who-key.pem" -subj "/CN=cutover bench $who" -out "$who.csr" 2>>"$ossl"
    done
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    local serial=1
    for who in server client; do
      serial=$((serial + 1))
      openssl x509 -req -in "$who.csr" -CA cacert.pem -CAkey ca-key.pem -set_serial "$serial" -days 2 \
        -extfile "$who.ext" -out "$who-cert.pem" 2>>"$ossl"
    done
    openssl verify -CAfile cacert.pem server-cert.pem client-cert.pem >>"$ossl" 2>&1
  ) || { cat "$workdir/openssl.log" >&2; die "making certificates with openssl failed"; }
}

# --- server and data ---------------------------------------------------------
certdir="$workdir/certs"
read -r -a extra_mariadbd <<<"$MARIADBD_ARGS"
server_args=(--buffer-pool "$BUFFER_POOL" --max-connections 500)
for a in "${extra_mariadbd[@]}"; do server_args+=("--mariadbd-arg=$a"); done
if ((client_tls || backend_tls)); then
  make_certificates
  log "TLS: certificates (ECDSA P-256, CA-signed, SAN IP:127.0.0.1) in $certdir"
  server_args+=("--mariadbd-arg=--ssl-cert=$certdir/server-cert.pem" "--mariadbd-arg=--ssl-key=$certdir/server-key.pem"
                "--mariadbd-arg=--ssl-ca=$certdir/cacert.pem")
fi
log "starting MariaDB (buffer pool $BUFFER_POOL, ${MARIADBD_ARGS:-no extra args})"
start_local_server bench "${server_args[@]}"
db_port="$server_port"
log "MariaDB on port $db_port"

mysql_cli() { mariadb -h127.0.0.1 -P"$db_port" -uroot -p"$ROOT_PASSWORD" "$@"; }
mysql_cli -e "CREATE DATABASE sbtest"

sb_common=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-user="$APP_USER" --mysql-password="$APP_PASSWORD"
           --mysql-db=sbtest --tables="$SB_TABLES" --table-size="$SB_TABLE_SIZE")
log "loading $SB_TABLES tables x $SB_TABLE_SIZE rows"
sysbench oltp_read_write "${sb_common[@]}" --mysql-port="$db_port" --threads="$SB_TABLES" prepare \
  >"$workdir/prepare.log" 2>&1 || { tail -20 "$workdir/prepare.log"; die "sysbench prepare failed"; }
# Pull every table into the buffer pool so round 1 is not a cold-cache round.
for t in $(seq 1 "$SB_TABLES"); do
  mysql_cli -N sbtest -e "SELECT COUNT(*), SUM(LENGTH(c)) FROM sbtest$t FORCE INDEX (PRIMARY)" >/dev/null
done

# --- targets -----------------------------------------------------------------
declare -A target_port
declare -A target_pid
target_port[direct]="$db_port"
target_pid[direct]=""

haproxy_port="$(free_port)"
cat >"$workdir/haproxy.cfg" <<EOF
global
  maxconn 4096
  nbthread $HAPROXY_THREADS
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen mysql
  bind 127.0.0.1:$haproxy_port
  maxconn 4096
  server db 127.0.0.1:$db_port
EOF
"$HAPROXY" -f "$workdir/haproxy.cfg" -db >"$workdir/haproxy.log" 2>&1 &
pids+=($!)
target_pid[haproxy]=$!
target_port[haproxy]="$haproxy_port"
wait_port "$haproxy_port" "${target_pid[haproxy]}" haproxy "$workdir/haproxy.log"

# A *_tls target is its plaintext sibling's port, reached with TLS.
declare -A target_admin  # cutover targets: admin port, for the TLS session counter
declare -A target_ssl    # 1: sysbench and the check below connect with TLS
proxies=(cutover_t1 cutover_t2)
start_cutover cutover_t1 1 "$db_port" "$client_tls"
target_port[cutover_t1]="$proxy_port"
target_pid[cutover_t1]="$proxy_pid"
target_admin[cutover_t1]="$proxy_admin_port"
start_cutover cutover_t2 2 "$db_port" "$client_tls"
target_port[cutover_t2]="$proxy_port"
target_pid[cutover_t2]="$proxy_pid"
target_admin[cutover_t2]="$proxy_admin_port"
if ((client_tls)); then
  for t in direct cutover_t1 cutover_t2; do
    target_port[${t}_tls]="${target_port[$t]}"
    target_pid[${t}_tls]="${target_pid[$t]}"
    target_ssl[${t}_tls]=1
  done
fi
if ((baseline)); then
  for threads in 1 2; do
    PROXY_BINARY="$BASELINE_CUTOVER" start_cutover "baseline_t$threads" "$threads" "$db_port"
    target_port[baseline_t$threads]="$proxy_port"
    target_pid[baseline_t$threads]="$proxy_pid"
    proxies+=("baseline_t$threads")
  done
fi
if ((backend_tls)); then
  start_cutover cutover_t1_backend_tls 1 "$db_port" 0 1
  target_port[cutover_t1_backend_tls]="$proxy_port"
  target_pid[cutover_t1_backend_tls]="$proxy_pid"
  target_admin[cutover_t1_backend_tls]="$proxy_admin_port"
  proxies+=(cutover_t1_backend_tls)
fi

# Ssl_version of a session through TARGET: "" when the server saw no TLS.
server_tls_version() {  # server_tls_version TARGET
  local t="$1" tls_args=(--skip-ssl)
  [[ -n "${target_ssl[$t]:-}" ]] && tls_args=(--ssl --ssl-ca="$certdir/cacert.pem" --ssl-verify-server-cert)
  mariadb --no-defaults "${tls_args[@]}" -h127.0.0.1 -P"${target_port[$t]}" -u"$APP_USER" -p"$APP_PASSWORD" -N \
    -e "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_version'"
}

# The proxy's count of clients that logged in over TLS.
proxy_tls_sessions() {  # proxy_tls_sessions TARGET
  curl -sf -H "Authorization: Bearer bench" "127.0.0.1:${target_admin[$1]}/metrics" |
    awk '$1 == "cutover_tls_sessions_total" { print $2 }'
}

for t in "${targets[@]}"; do
  if ((client_tls || backend_tls)); then
    # Also shows where TLS is: the server sees it from direct_tls and cutover_t1_backend_tls only.
    v="$(server_tls_version "$t")" || die "cannot query through $t"
    log "$t: server-side session Ssl_version='${v}'"
    if [[ $t == direct_tls || $t == cutover_t1_backend_tls ]] && [[ -z $v ]]; then
      die "$t: the server's session has no TLS"
    fi
  else
    mariadb -h127.0.0.1 -P"${target_port[$t]}" -u"$APP_USER" -p"$APP_PASSWORD" -N -e 'SELECT 1' >/dev/null ||
      die "cannot query through $t"
  fi
done
log "targets: $(for t in "${targets[@]}"; do printf '%s=:%s ' "$t" "${target_port[$t]}"; done)"
declare -A tls_sessions_before
if ((client_tls)); then
  for t in cutover_t1 cutover_t2; do tls_sessions_before[$t]="$(proxy_tls_sessions "$t")"; done
fi
if ((client_tls || backend_tls)); then
  ssl_accepts_before="$(mysql_cli -N -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | cut -f2)"
fi

# --- runs --------------------------------------------------------------------
raw="$workdir/runs.tsv"
printf 'workload\tround\ttarget\ttps\tqps\tp95_ms\terrors\treconnects\tcpu_us_per_query\tuser_us_per_query\n' \
  >"$raw"

# The CPU time a process has used so far (all its threads), in clock ticks:
# "user system". The system part is mostly the kernel's loopback TCP work,
# the same for every proxy; the user part is the proxy's own code.
cpu_ticks() {  # cpu_ticks PID
  awk '{ print $14, $15 }' "/proc/$1/stat"
}
clock_ticks="$(getconf CLK_TCK)"

# Parses a sysbench report into "tps qps p95 errors reconnects queries".
parse_sysbench() {
  awk '
    /^ *transactions:/ { gsub(/[()]/, "", $3); tps = $3 }
    /^ *queries:/ { gsub(/[()]/, "", $3); qps = $3; queries = $2 }
    /^ *ignored errors:/ { errors = $3 }
    /^ *reconnects:/ { reconnects = $2 }
    /95th percentile:/ { p95 = $3 }
    END { if (tps == "") exit 1; printf "%s %s %s %s %s %s\n", tps, qps, p95, errors, reconnects, queries }
  ' "$1"
}

n_targets=${#targets[@]}
total_runs=$((${#workloads[@]} * ROUNDS * n_targets))
run_no=0
for w in "${workloads[@]}"; do
  for ((r = 1; r <= ROUNDS; r++)); do
    for ((i = 0; i < n_targets; i++)); do
      t="${targets[$(((i + r - 1) % n_targets))]}"  # rotate the order each round
      port="${target_port[$t]}"
      run_no=$((run_no + 1))
      test="$w"
      [[ $w == connect ]] && test="$here/connect.lua"
      sb=(sysbench "$test" "${sb_common[@]}" --mysql-port="$port" --threads="$SB_THREADS" --db-ps-mode="$SB_PS_MODE"
          --report-interval=0 --rand-type=uniform)
      # --mysql-ssl=on reads cacert.pem, client-cert.pem and client-key.pem from the working directory.
      sb_dir="$workdir"
      if [[ -n "${target_ssl[$t]:-}" ]]; then
        sb+=(--mysql-ssl=on)
        sb_dir="$certdir"
      fi
      if ((SB_WARMUP > 0)); then
        (cd "$sb_dir" && "${sb[@]}" --time="$SB_WARMUP" run) >"$workdir/warmup-$w-$r-$t.log" 2>&1 ||
          { tail -20 "$workdir/warmup-$w-$r-$t.log"; die "warmup $w $t failed"; }
      fi
      out="$workdir/run-$w-$r-$t.log"
      pid="${target_pid[$t]}"
      [[ -n $pid ]] && read -r user_before sys_before < <(cpu_ticks "$pid")
      (cd "$sb_dir" && "${sb[@]}" --time="$SB_TIME" run) >"$out" 2>&1 ||
        { tail -20 "$out"; die "sysbench $w against $t failed"; }
      if grep -q FATAL "$out"; then tail -20 "$out"; die "sysbench $w against $t reported FATAL"; fi
      read -r tps qps p95 errors reconnects queries < <(parse_sysbench "$out") || die "cannot parse $out"
      cpu="" user=""  # the direct target has no process of ours to measure
      if [[ -n $pid ]]; then
        read -r user_after sys_after < <(cpu_ticks "$pid")
        read -r cpu user < <(awk -v u="$((user_after - user_before))" -v s="$((sys_after - sys_before))" \
          -v hz="$clock_ticks" -v q="$queries" 'BEGIN { printf "%.2f %.2f\n", (u + s) * 1e6 / hz / q, u * 1e6 / hz / q }')
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$r" "$t" "$tps" "$qps" "$p95" "$errors" "$reconnects" \
        "$cpu" "$user" >>"$raw"
      log "[$run_no/$total_runs] $w round $r $t: tps=$tps qps=$qps p95=${p95}ms errors=$errors" \
          "reconnects=$reconnects${cpu:+ cpu=${cpu}us/query user=${user}us/query}"
    done
  done
done

# sysbench --mysql-ssl=on must have used TLS: the server and the proxies count it.
if ((client_tls || backend_tls)); then
  ssl_accepts="$(mysql_cli -N -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | cut -f2)"
  log "server Ssl_accepts during the runs: $((ssl_accepts - ssl_accepts_before))"
  if [[ " ${targets[*]} " == *" direct_tls "* || $backend_tls == 1 ]] && ((ssl_accepts == ssl_accepts_before)); then
    die "the server accepted no TLS connection during the runs"
  fi
fi
for t in cutover_t1 cutover_t2; do
  if [[ " ${targets[*]} " == *" ${t}_tls "* ]]; then
    n_tls="$(proxy_tls_sessions "$t")"
    log "$t: $((n_tls - tls_sessions_before[$t])) TLS client sessions during the runs"
    ((n_tls > tls_sessions_before[$t])) || die "$t counted no TLS client session during the ${t}_tls runs"
  fi
done

# Proxies should have logged nothing at warn level; show it if they did.
for t in "${proxies[@]}"; do
  if [[ -s "$workdir/$t.log" ]]; then
    log "$t log:"
    head -20 "$workdir/$t.log" >&2
  fi
done

# --- summary -----------------------------------------------------------------
summary="$workdir/summary.tsv"
ratios="$workdir/ratios.tsv"
"$PYTHON" - "$raw" "$summary" "${targets[*]}" "$ratios" <<'EOF'
import csv, statistics, sys
raw, summary, targets, ratios = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4]
rows = list(csv.DictReader(open(raw), delimiter="\t"))
workloads = list(dict.fromkeys(r["workload"] for r in rows))
out = open(summary, "w")
# (target, baseline): the TLS targets and the change under test against what they are compared with.
pairs = [("cutover_t1", "baseline_t1"), ("cutover_t2", "baseline_t2"), ("direct_tls", "direct"), ("cutover_t1_tls", "cutover_t1"), ("cutover_t2_tls", "cutover_t2"),
             ("cutover_t1_backend_tls", "cutover_t1"), ("cutover_t1_tls", "direct_tls"),
             ("cutover_t2_tls", "direct_tls")]
ratio_rows = []
out.write("workload\ttarget\truns\ttps_median\ttps_min\ttps_max\tqps_median\tp95_ms_median\terrors\treconnects\t"
          "tps_ratio_to_direct\tcpu_us_per_query_median\tuser_us_per_query_median\n")
for w in workloads:
    med = {}
    for t in targets:
        rs = [r for r in rows if r["workload"] == w and r["target"] == t]
        if not rs:
            continue
        tps = [float(r["tps"]) for r in rs]
        med[t] = dict(
            runs=len(rs), tps=statistics.median(tps), tps_min=min(tps), tps_max=max(tps),
            qps=statistics.median(float(r["qps"]) for r in rs),
            p95=statistics.median(float(r["p95_ms"]) for r in rs),
            errors=sum(int(r["errors"]) for r in rs),
            reconnects=sum(int(r["reconnects"]) for r in rs),
            cpu=statistics.median(float(r["cpu_us_per_query"]) for r in rs) if rs[0]["cpu_us_per_query"] else None,
            user=statistics.median(float(r["user_us_per_query"]) for r in rs) if rs[0]["user_us_per_query"] else None)
    direct = med.get("direct", {}).get("tps")
    print(f"\n{w}  (median of {max(m['runs'] for m in med.values())} runs)")
    print(f"  {'target':<22} {'tps':>10} {'(min..max)':>21} {'qps':>10} {'p95 ms':>8} {'vs direct':>10} {'errors':>7}"
          f" {'cpu us/q':>9} {'user us/q':>10}")
    for t, m in med.items():
        ratio = m["tps"] / direct if direct else float("nan")
        rng = f"({m['tps_min']:.0f}..{m['tps_max']:.0f})"
        cpu = "" if m["cpu"] is None else f"{m['cpu']:.2f}"
        user = "" if m["user"] is None else f"{m['user']:.2f}"
        print(f"  {t:<22} {m['tps']:>10.1f} {rng:>21} {m['qps']:>10.1f} {m['p95']:>8.2f} {ratio:>9.1%} {m['errors']:>7}"
              f" {cpu:>9} {user:>10}")
        out.write(f"{w}\t{t}\t{m['runs']}\t{m['tps']:.2f}\t{m['tps_min']:.2f}\t{m['tps_max']:.2f}\t{m['qps']:.2f}\t"
                  f"{m['p95']:.2f}\t{m['errors']}\t{m['reconnects']}\t{ratio:.4f}\t{cpu}\t{user}\n")
    if "haproxy" in med:
        for t in ("cutover_t1", "cutover_t2", "baseline_t1", "baseline_t2"):
            if t in med:
                verdict = "met" if med[t]["tps"] >= med["haproxy"]["tps"] else "NOT met"
                cpu = ""
                if med[t]["cpu"] and med["haproxy"]["cpu"]:
                    cpu = f", {med[t]['cpu'] / med['haproxy']['cpu']:.2f}x its CPU per query"
                if med[t]["user"] and med["haproxy"]["user"]:
                    cpu += f", {med[t]['user'] / med['haproxy']['user']:.2f}x its user CPU"
                print(f"  goal {t} tps >= haproxy tps: {verdict} "
                      f"({med[t]['tps'] / med['haproxy']['tps']:.1%} of haproxy{cpu})")
    for t, base in pairs:
        if t in med and base in med:
            tps_ratio = med[t]["tps"] / med[base]["tps"]
            p95_ratio = med[t]["p95"] / med[base]["p95"] if med[base]["p95"] else float("nan")
            cpu_ratio = med[t]["cpu"] / med[base]["cpu"] if med[t]["cpu"] and med[base]["cpu"] else float("nan")
            user_ratio = med[t]["user"] / med[base]["user"] if med[t]["user"] and med[base]["user"] else float("nan")
            print(f"  {t} / {base}: tps {tps_ratio:.1%}, p95 {p95_ratio:.2f}x, cpu per query {cpu_ratio:.2f}x, "
                  f"user cpu per query {user_ratio:.2f}x")
            ratio_rows.append(f"{w}\t{t}\t{base}\t{tps_ratio:.4f}\t{p95_ratio:.4f}\t{cpu_ratio:.4f}\t{user_ratio:.4f}\n")
if ratio_rows:
    with open(ratios, "w") as f:
        f.write("workload\ttarget\tbaseline\ttps_ratio\tp95_ratio\tcpu_ratio\tuser_cpu_ratio\n")
        f.writelines(ratio_rows)
EOF

{
  echo "# cutover bench/proxy/run.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname) cpus=$(nproc)"
  echo "# SB_THREADS=$SB_THREADS SB_TIME=$SB_TIME SB_WARMUP=$SB_WARMUP SB_TABLES=$SB_TABLES SB_TABLE_SIZE=$SB_TABLE_SIZE" \
       "SB_PS_MODE=$SB_PS_MODE ROUNDS=$ROUNDS BUFFER_POOL=$BUFFER_POOL HAPROXY_THREADS=$HAPROXY_THREADS" \
       "MARIADBD_ARGS=\"$MARIADBD_ARGS\""
  echo "# WORKLOADS=\"$WORKLOADS\" TARGETS=\"$TARGETS\""
  echo "# runs"
  cat "$raw"
  echo "# medians"
  cat "$summary"
  if [[ -s $ratios ]]; then
    echo "# ratios (medians of target / medians of baseline)"
    cat "$ratios"
  fi
} >"$results_file"

# --- idle connections --------------------------------------------------------
if [[ "$IDLE" == 1 ]]; then
  # Stop everything the throughput part started: the idle step gets a server
  # of its own (pool-of-threads, max_connections above N) and a fresh proxy.
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()

  hard="$(ulimit -Hn)"
  ulimit -Sn "$hard"
  n="$IDLE_CONNECTIONS"
  # The proxy holds a client and a backend socket per session, plus ~20 of its own.
  max_n=$(((hard - 40) / 2))
  if ((n > max_n)); then
    log "NOTE: the open-files hard limit is $hard (and cannot be raised here), so one proxy process can hold" \
        "at most ~$max_n sessions (2 sockets each); measuring $max_n idle connections instead of $n"
    n=$max_n
  fi
  log "idle connections: starting a server for $n connections (pool-of-threads)"
  start_local_server idle --buffer-pool 128M --max-connections $((n + 200)) \
    --mariadbd-arg=--thread-handling=pool-of-threads
  idle_port="$server_port"
  start_cutover cutover_idle 1 "$idle_port"
  "$PYTHON" "$here/idle_connections.py" --port "$proxy_port" --pid "$proxy_pid" --user "$APP_USER" \
    --password "$APP_PASSWORD" -n "$n" --tsv "$workdir/idle.tsv" || die "idle_connections.py failed"
  {
    echo "# idle connections through cutover (threads=1)"
    cat "$workdir/idle.tsv"
  } >>"$results_file"
  if [[ "$IDLE_TLS" == 1 ]]; then
    # A fresh proxy: the first one's heap keeps its high-water mark.
    kill -TERM "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
    [[ -s $certdir/cacert.pem ]] || make_certificates
    start_cutover cutover_idle_tls 1 "$idle_port" 1
    log "idle connections over TLS: $n through a fresh proxy with tls_cert"
    "$PYTHON" "$here/idle_connections.py" --port "$proxy_port" --pid "$proxy_pid" --user "$APP_USER" \
      --password "$APP_PASSWORD" -n "$n" --ssl-ca "$certdir/cacert.pem" --tsv "$workdir/idle-tls.tsv" ||
      die "idle_connections.py --ssl-ca failed"
    {
      echo "# idle TLS connections through cutover (threads=1)"
      cat "$workdir/idle-tls.tsv"
    } >>"$results_file"
  fi
fi

log "results: $results_file"
