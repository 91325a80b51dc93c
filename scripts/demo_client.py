"""The interim demo: a live client session moves between two servers.

Starts two throw-away MariaDB servers ("source" and "target", same users, not
replicated), the cutover proxy in front of the source, and one client
connection through the proxy. The client sets session state; the proxy is
paused, re-pointed to the target and resumed while a second client keeps
querying; then the first client shows its state intact on the new server.

Usage: /usr/bin/python3 scripts/demo_client.py path/to/cutover
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pymysql

TOKEN = "demo-token"


def start_server(cutover, name, server_id):
    proc = subprocess.Popen(
        [cutover, "local-server", "--name", name, "--server-id", str(server_id),
         "--app-user", "app", "--app-password", "app-secret"],
        stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("port="):
            return proc, int(line.strip().split("=")[1])
    raise SystemExit(f"local server {name} did not start (exit {proc.wait()})")


def admin(port, method, path, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=json.dumps(body or {}).encode(), headers={"Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        return json.load(e)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    cutover = sys.argv[1]
    children = []
    try:
        print("starting two local MariaDB servers ...")
        source, source_port = start_server(cutover, "source", 1)
        children.append(source)
        target, target_port = start_server(cutover, "target", 2)
        children.append(target)
        listen, admin_port = free_port(), free_port()
        tmp = tempfile.mkdtemp(prefix="cutover-demo-")
        config = os.path.join(tmp, "cutover.toml")
        with open(config, "w") as f:
            f.write(f"""[proxy]
listen = "127.0.0.1:{listen}"
admin_listen = "127.0.0.1:{admin_port}"
admin_token = "{TOKEN}"
state_file = "{tmp}/proxy.state"

[[proxy.users]]
name = "app"
password = "app-secret"

[source]
host = "127.0.0.1"
port = {source_port}
user = "root"
password = "cutover-root"
""")
        proxy = subprocess.Popen([cutover, "proxy", "--config", config])
        children.append(proxy)
        time.sleep(0.5)
        print(f"source 127.0.0.1:{source_port} (server_id 1), target 127.0.0.1:{target_port} (server_id 2)")
        print(f"proxy on 127.0.0.1:{listen}, admin API on 127.0.0.1:{admin_port}\n")

        # The servers are not replicated here (cutover clone does that): give
        # the target the schema the client will use.
        root = pymysql.connect(host="127.0.0.1", port=target_port, user="root", password="cutover-root")
        root.cursor().execute("CREATE DATABASE shop")
        root.close()

        conn = pymysql.connect(host="127.0.0.1", port=listen, user="app", password="app-secret",
                               autocommit=True)
        cur = conn.cursor()
        for sql in ["CREATE DATABASE IF NOT EXISTS shop", "USE shop", "SET time_zone = '+09:00'",
                    "SET SESSION sql_mode = 'ANSI_QUOTES'", "SET NAMES latin1"]:
            cur.execute(sql)
            print(f"client> {sql}")
        show = "SELECT @@server_id, DATABASE(), @@time_zone, @@sql_mode, @@character_set_client"
        cur.execute(show)
        print(f"client> {show}\n        {cur.fetchone()}\n")

        # A second client queries in a loop; its longest wait is the pause it saw.
        stop = threading.Event()
        seen = {"queries": 0, "errors": 0, "longest_ms": 0.0, "servers": set()}

        def loop():
            c = pymysql.connect(host="127.0.0.1", port=listen, user="app", password="app-secret")
            k = c.cursor()
            while not stop.is_set():
                t0 = time.monotonic()
                try:
                    k.execute("SELECT @@server_id")
                    seen["servers"].add(k.fetchone()[0])
                    seen["queries"] += 1
                except pymysql.MySQLError:
                    seen["errors"] += 1
                seen["longest_ms"] = max(seen["longest_ms"], (time.monotonic() - t0) * 1000)
            c.close()

        worker = threading.Thread(target=loop)
        worker.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        pause = admin(admin_port, "POST", "/pause", {"drain_timeout_ms": 2000})
        repoint = admin(admin_port, "POST", "/repoint", {"host": "127.0.0.1", "port": target_port})
        admin(admin_port, "POST", "/resume")
        print(f"admin> pause: drained={pause.get('drained')} in {pause.get('waited_us')} us")
        if "error" in repoint:
            print(f"admin> repoint failed: {repoint['error']}")
        else:
            print(f"admin> repoint: moved {repoint.get('moved')} session(s) to {repoint.get('to')} "
                  f"in {repoint.get('took_us')} us")
        print(f"admin> resume: total pause {(time.monotonic() - t0) * 1000:.1f} ms\n")
        time.sleep(0.5)
        stop.set()
        worker.join()

        cur.execute(show)
        print(f"client> {show}\n        {cur.fetchone()}   <- same connection, new server, same state\n")
        print(f"second client: {seen['queries']} queries, {seen['errors']} errors, "
              f"longest wait {seen['longest_ms']:.1f} ms, servers seen {sorted(seen['servers'])}")
        conn.close()
        return 0 if seen["errors"] == 0 and "error" not in repoint else 1
    finally:
        for child in reversed(children):
            child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
