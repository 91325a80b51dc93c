#!/usr/bin/python3
"""Write-stall probe for bench/clone/run.sh.

Inserts one row into a probe table on the source every INTERVAL ms (autocommit)
and appends "<start epoch seconds> <latency ms>" per INSERT to --out, so that the
caller can take the longest single INSERT inside the clone's time window. A
global lock (FLUSH TABLES WITH READ LOCK, LOCK TABLES ... READ on the table) shows
up as one long INSERT.

Stops on SIGTERM/SIGINT. If an INSERT is still waiting at that moment, its
elapsed time so far is written too (marked "inflight"), so a lock that outlasts
the probe is not missed. A lost connection is written as "error" with the time
until the error and the probe reconnects.

Needs pymysql; use /usr/bin/python3 (Debian's python3-pymysql).
"""
import argparse
import signal
import sys
import time

import pymysql


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="")
    ap.add_argument("--table", default="sbtest.cutover_probe", help="created if missing")
    ap.add_argument("--interval-ms", type=float, default=10.0)
    ap.add_argument("--out", required=True, help="file to append '<epoch> <latency_ms> [note]' lines to")
    args = ap.parse_args()

    out = open(args.out, "a", buffering=1)
    state = {"inflight_since": None}

    def stop(signum, frame):
        t0 = state["inflight_since"]
        if t0 is not None:
            out.write(f"{t0[1]:.6f} {(time.monotonic() - t0[0]) * 1000:.3f} inflight\n")
        out.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def connect():
        return pymysql.connect(host=args.host, port=args.port, user=args.user, password=args.password,
                               autocommit=True, connect_timeout=10)

    conn = connect()
    with conn.cursor() as c:
        c.execute(f"CREATE TABLE IF NOT EXISTS {args.table} "
                  "(id BIGINT AUTO_INCREMENT PRIMARY KEY, ts DOUBLE NOT NULL, pad CHAR(16) NOT NULL DEFAULT '')"
                  " ENGINE=InnoDB")
    sql = f"INSERT INTO {args.table} (ts) VALUES (%s)"
    interval = args.interval_ms / 1000.0
    next_tick = time.monotonic()
    while True:
        now_wall = time.time()
        t0 = time.monotonic()
        state["inflight_since"] = (t0, now_wall)
        try:
            with conn.cursor() as c:
                c.execute(sql, (now_wall,))
            lat = (time.monotonic() - t0) * 1000
            state["inflight_since"] = None
            out.write(f"{now_wall:.6f} {lat:.3f}\n")
        except pymysql.MySQLError as e:
            lat = (time.monotonic() - t0) * 1000
            state["inflight_since"] = None
            out.write(f"{now_wall:.6f} {lat:.3f} error {e.args[0] if e.args else ''}\n")
            time.sleep(0.1)
            try:
                conn.close()
            except Exception:
                pass
            try:
                conn = connect()
            except pymysql.MySQLError:
                pass
            next_tick = time.monotonic()
        next_tick += interval
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_tick = time.monotonic()  # fell behind (a stall): do not burst to catch up


if __name__ == "__main__":
    main()
