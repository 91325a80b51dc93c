#!/usr/bin/python3
"""Measures a proxy's memory per idle client connection.

Opens N logged-in client connections through the proxy (pymysql, no query at
login), reads the proxy's VmRSS from /proc/<pid>/status before and after, runs
one `SELECT 1` on every connection (a pooled connection has been used at least
once, so its buffers have been touched) and reads VmRSS again. Prints KiB per
connection for both states.

The proxy keeps a client and a backend socket per session, so it needs about
2*N open files; the server behind it needs max_connections > N (and, to hold
10,000 connections comfortably, --thread-handling=pool-of-threads).

With --ssl-ca CA_FILE every connection logs in over TLS (verifying the
proxy's certificate against CA_FILE), so the figures include the proxy's TLS
session state.

Usage: idle_connections.py --port PROXY_PORT --pid PROXY_PID [-n 10000]
                           [--user app --password secret] [--ssl-ca CA] [--tsv FILE]
"""
import argparse
import concurrent.futures
import os
import resource
import ssl
import sys
import time

import pymysql


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def open_files(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def nofile_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


def settle_rss(pid, seconds=1.0):
    """RSS after it stops changing (the proxy may still be finishing logins)."""
    last = status_kib(pid, "VmRSS")
    deadline = time.time() + 10
    while time.time() < deadline:
        time.sleep(seconds)
        now = status_kib(pid, "VmRSS")
        if now == last:
            break
        last = now
    return last


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True, help="the proxy's listen port")
    ap.add_argument("--pid", type=int, required=True, help="the proxy's process id (for /proc/PID/status)")
    ap.add_argument("-n", "--connections", type=int, default=10000)
    ap.add_argument("--user", default="app")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--parallel", type=int, default=16, help="connections opened at a time")
    ap.add_argument("--ssl-ca", help="connect over TLS, verifying the proxy's certificate with this CA file")
    ap.add_argument("--tsv", help="append machine-readable results here")
    args = ap.parse_args()
    n = args.connections
    tls = {"ssl": ssl.create_default_context(cafile=args.ssl_ca)} if args.ssl_ca else {}

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        sys.exit(f"open-files limit {soft} (hard {hard}) is too low for {n} client connections")
    proxy_limit = nofile_limit(args.pid)
    proxy_fds = open_files(args.pid)
    if proxy_limit is not None and proxy_fds + 2 * n > proxy_limit:
        print(f"WARNING: the proxy has {proxy_fds} files open and a limit of {proxy_limit}; "
              f"{n} sessions need {2 * n} more", file=sys.stderr)

    rss_before = settle_rss(args.pid, 0.2)
    fds_before = open_files(args.pid)

    def connect(_):
        return pymysql.connect(host=args.host, port=args.port, user=args.user, password=args.password,
                               autocommit=None, connect_timeout=30, **tls)

    conns = []
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        for c in pool.map(connect, range(n)):
            conns.append(c)
            if len(conns) % 1000 == 0:
                print(f"  {len(conns)} connections ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    connect_s = time.time() - t0
    rss_connected = settle_rss(args.pid)
    fds_connected = open_files(args.pid)

    def ping(c):
        with c.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchall()

    with concurrent.futures.ThreadPoolExecutor(args.parallel) as pool:
        list(pool.map(ping, conns))
    rss_used = settle_rss(args.pid)
    hwm = status_kib(args.pid, "VmHWM")

    for c in conns:
        c.close()
    conns.clear()
    time.sleep(2)
    rss_closed = settle_rss(args.pid)

    per_login = (rss_connected - rss_before) / n
    per_used = (rss_used - rss_before) / n
    print(f"idle {'TLS ' if tls else ''}connections through the proxy: {n} (opened in {connect_s:.1f} s, "
          f"proxy fds {fds_before} -> {fds_connected})")
    rows = [("proxy VmRSS before", rss_before, ""),
            (f"after {n} logins (no query yet)", rss_connected, f"  -> {per_login:.1f} KiB per connection"),
            ("after one SELECT 1 on each", rss_used, f"  -> {per_used:.1f} KiB per connection"),
            ("after closing them all", rss_closed, f"  (VmHWM {hwm} KiB)")]
    for label, kib, note in rows:
        print(f"  {label + ':':<40} {kib:>9} KiB{note}")
    goal = "met" if per_used < 100 else "NOT met"
    print(f"  goal < 100 KiB per idle connection: {goal}")
    if args.tsv:
        with open(args.tsv, "a") as f:
            f.write("connections\trss_before_kib\trss_logged_in_kib\trss_after_query_kib\trss_closed_kib\t"
                    "kib_per_conn_logged_in\tkib_per_conn_after_query\n")
            f.write(f"{n}\t{rss_before}\t{rss_connected}\t{rss_used}\t{rss_closed}\t{per_login:.1f}\t{per_used:.1f}\n")


if __name__ == "__main__":
    main()
