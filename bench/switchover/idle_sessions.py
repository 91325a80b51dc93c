#!/usr/bin/env python3
"""Holds N idle client sessions open through a proxy, as an application's pool does.

A third of them set a session time zone (state the proxy must carry across a
move). Prints "ready N" on stdout once every session is logged in, then waits
until stdin closes (or SIGTERM), then checks every session: it must still answer
and still have its time zone. Prints "checked N ok M" and exits 0 when all are ok,
1 otherwise (with the first failures on stderr), 2 when it could not open them.
Raises its own open-files limit to the hard limit (each session is a socket).
"""
import argparse
import resource
import signal
import sys
import time

import pymysql


def zone(i):
    # Whole and half hours only: MariaDB 10.11 caches offset time zones so that some
    # offsets alias others ('+08:10' reads back '+05:54' once '+05:54' was used).
    return f"+{i % 13:02d}:{(i // 13) % 2 * 30:02d}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("-n", type=int, required=True, help="sessions to hold")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.stdin.close())

    sessions = []
    start = time.monotonic()
    try:
        for i in range(a.n):
            c = pymysql.connect(host=a.host, port=a.port, user=a.user, password=a.password, autocommit=True,
                                connect_timeout=10, read_timeout=60, write_timeout=60)
            if i % 3 == 0:
                with c.cursor() as cur:
                    cur.execute(f"SET time_zone = '{zone(i)}'")
            sessions.append(c)
    except Exception as e:
        print(f"could not open session {len(sessions) + 1} of {a.n}: {e}", file=sys.stderr)
        return 2
    print(f"ready {a.n} in {time.monotonic() - start:.1f} s", flush=True)
    try:
        sys.stdin.read()
    except (ValueError, OSError):
        pass

    ok = 0
    failures = []
    for i, c in enumerate(sessions):
        try:
            with c.cursor() as cur:
                cur.execute("SELECT @@time_zone")
                tz = cur.fetchone()[0]
            want = zone(i) if i % 3 == 0 else "SYSTEM"
            if tz == want:
                ok += 1
            else:
                failures.append(f"session {i}: time_zone {tz}, expected {want}")
        except Exception as e:
            failures.append(f"session {i}: {e}")
    print(f"checked {a.n} ok {ok}", flush=True)
    for f in failures[:5]:
        print(f, file=sys.stderr)
    return 0 if ok == a.n else 1


if __name__ == "__main__":
    sys.exit(main())
