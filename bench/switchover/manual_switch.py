#!/usr/bin/env python3
"""The usual switchover behind haproxy, as DNS- or load-balancer-based runbooks do it.

Moves the primary from --old-port to --new-port (both on --host, root login):

  1. old: SET GLOBAL read_only = ON              (application writes now fail: 1290)
  2. old: SELECT @@gtid_binlog_pos               (its final GTID)
  3. new: SELECT MASTER_GTID_WAIT(pos, timeout)  (the replica has applied everything)
  4. new: STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF   (promoted)
  5. haproxy: set server BE/SRV addr HOST port NEW   (new connections go to the new primary)
  6. haproxy: shutdown sessions server BE/SRV        (existing connections are killed, as a
                                                    DNS switch plus connection drain would)
  7. old: SET GLOBAL gtid_slave_pos = pos; CHANGE MASTER TO the new primary,
     MASTER_USE_GTID=slave_pos; START SLAVE         (reverse replication, so the next move
                                                    can go back; not client-visible)

haproxy's runtime API is reached on its stats socket (a UNIX socket, `level admin`)
directly, which is what `echo CMD | socat stdio UNIX:SOCK` does.

Prints one JSON object: ok, the final GTID, ms per step, and "writes_refused_ms" (from
read_only=ON to the end of step 6: the window in which application writes fail).
Exit status 0 when every step succeeded, 2 otherwise (the JSON says which step failed).
"""
import argparse
import json
import socket
import sys
import time

import pymysql


def haproxy_cmd(sock_path, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall((cmd + "\n").encode())
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode(errors="replace").strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--old-port", type=int, required=True)
    ap.add_argument("--new-port", type=int, required=True)
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="cutover-root")
    ap.add_argument("--repl-user", default="repl")
    ap.add_argument("--repl-password", default="repl-secret")
    ap.add_argument("--haproxy-socket", required=True)
    ap.add_argument("--server", default="be/db", help="haproxy BACKEND/SERVER")
    ap.add_argument("--catchup-timeout", type=float, default=30)
    args = ap.parse_args()

    steps = []
    result = {"ok": False, "steps": steps}
    t_start = time.monotonic()
    t_fence = None

    def step(name, fn):
        t0 = time.monotonic()
        try:
            value = fn()
        except Exception as e:  # report which step failed, then stop
            steps.append({"step": name, "ms": round((time.monotonic() - t0) * 1000, 1), "error": str(e)})
            result["failed_step"] = name
            raise
        steps.append({"step": name, "ms": round((time.monotonic() - t0) * 1000, 1)})
        return value

    def connect(port):
        return pymysql.connect(host=args.host, port=port, user=args.user, password=args.password,
                               autocommit=True, connect_timeout=5)

    try:
        old = connect(args.old_port)
        new = connect(args.new_port)
        oc, nc = old.cursor(), new.cursor()

        t_fence = time.monotonic()
        step("read_only_on_old", lambda: oc.execute("SET GLOBAL read_only = ON"))

        def final_gtid():
            oc.execute("SELECT @@gtid_binlog_pos")
            return oc.fetchone()[0]
        pos = step("read_final_gtid", final_gtid)
        result["final_gtid"] = pos

        def catch_up():
            nc.execute("SELECT MASTER_GTID_WAIT(%s, %s)", (pos, args.catchup_timeout))
            r = nc.fetchone()[0]
            if r != 0:
                raise RuntimeError(f"MASTER_GTID_WAIT('{pos}', {args.catchup_timeout}) returned {r}")
        step("catch_up_new", catch_up)

        def promote():
            nc.execute("STOP SLAVE")
            nc.execute("RESET SLAVE ALL")
            nc.execute("SET GLOBAL read_only = OFF")
        step("promote_new", promote)

        def repoint():
            out = haproxy_cmd(args.haproxy_socket, f"set server {args.server} addr {args.host} port {args.new_port}")
            if "changed" not in out and "no need to change" not in out:
                raise RuntimeError(f"haproxy: {out!r}")
            return out
        result["haproxy_set_server"] = step("haproxy_set_addr", repoint)

        def kill_sessions():
            out = haproxy_cmd(args.haproxy_socket, f"shutdown sessions server {args.server}")
            if out:
                raise RuntimeError(f"haproxy: {out!r}")
        step("haproxy_shutdown_sessions", kill_sessions)
        result["writes_refused_ms"] = round((time.monotonic() - t_fence) * 1000, 1)

        def reverse():
            oc.execute("SET GLOBAL gtid_slave_pos = %s", (pos,))
            oc.execute("CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, MASTER_PASSWORD=%s, "
                       "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
                       (args.host, args.new_port, args.repl_user, args.repl_password))
            oc.execute("START SLAVE")
        step("reverse_replication_old", reverse)
        result["ok"] = True
    except Exception as e:
        result["error"] = str(e)
    result["total_ms"] = round((time.monotonic() - t_start) * 1000, 1)
    print(json.dumps(result))
    return 0 if result["ok"] else 2


if __name__ == "__main__":
    sys.exit(main())
