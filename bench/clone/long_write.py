#!/usr/bin/python3
"""A batch job for bench/clone/run.sh (LONG_WRITE=S): runs one write statement
that takes S seconds on the source, back to back, until SIGTERM/SIGINT.

    UPDATE <table> SET n = n + 1 WHERE SLEEP(S) = 0

on a one-row table of its own. It blocks nobody by itself (it locks one row of
its own table), but FLUSH TABLES WITH READ LOCK has to wait for it to finish,
and while FTWRL waits, every other write on the server waits behind FTWRL. A
clone that takes a global read lock therefore stalls the source's writes for up
to S seconds; a lock-free clone does not.

With --phase-epoch T the statements are lined up so that one of them is half
done at time T (they end at T + S/2 + k*S): a clone started at T that takes
FLUSH TABLES WITH READ LOCK right away stalls the source's writes for about S/2,
run after run, instead of for a random 0..S.

Needs pymysql; use /usr/bin/python3 (Debian's python3-pymysql).
"""
import argparse
import math
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
    ap.add_argument("--table", default="sbtest.cutover_batch", help="created if missing")
    ap.add_argument("--seconds", type=float, required=True, help="duration of each statement")
    ap.add_argument("--phase-epoch", type=float, help="line statements up so that one is half done at this time")
    args = ap.parse_args()

    def connect():
        return pymysql.connect(host=args.host, port=args.port, user=args.user, password=args.password,
                               autocommit=True, connect_timeout=10)

    conn = connect()

    def stop(signum, frame):
        # The server would finish the running statement after we are gone; end it now
        # so that the source stops changing when the caller stops the load.
        try:
            killer = connect()
            with killer.cursor() as c:
                c.execute(f"KILL QUERY {conn.thread_id()}")
            killer.close()
        except pymysql.MySQLError:
            pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with conn.cursor() as c:
        c.execute(f"CREATE TABLE IF NOT EXISTS {args.table} (id INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB")
        c.execute(f"INSERT IGNORE INTO {args.table} VALUES (1, 0)")
    period = args.seconds
    while True:
        seconds = period
        if args.phase_epoch is not None:
            now = time.time()
            first_end = args.phase_epoch + period / 2
            end = first_end + math.ceil((now - first_end) / period) * period
            if end - now < 0.05:
                end += period
            seconds = end - now
        try:
            with conn.cursor() as c:
                c.execute(f"UPDATE {args.table} SET n = n + 1 WHERE SLEEP(%s) = 0", (round(seconds, 3),))
        except pymysql.MySQLError as e:
            print(f"long_write: {e}", file=sys.stderr)
            time.sleep(0.5)
            try:
                conn.close()
            except Exception:
                pass
            try:
                conn = connect()
            except pymysql.MySQLError:
                pass


if __name__ == "__main__":
    main()
