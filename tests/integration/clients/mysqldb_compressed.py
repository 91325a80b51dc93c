#!/usr/bin/python3
"""MySQLdb (mysqlclient, over libmariadb) with compress=True through the cutover
proxy, moved to a second server mid-session.

Usage: mysqldb_compressed.py PORT ADMIN_PORT ADMIN_TOKEN TARGET_PORT
On server_id 1, then after a prepare/pause/repoint/resume through the admin
API on the same connection on server_id 2: a multi-statement, LOAD DATA LOCAL
INFILE of 3000 rows, a 20 MiB blob (half random, half repeated) byte for byte,
and time_zone set before the move. Exits 1 with a message naming the failed check.
Run with /usr/bin/python3 (Debian's python3-mysqldb).
"""
import json
import os
import random
import sys
import tempfile
import urllib.request

import MySQLdb
from MySQLdb.constants import CLIENT

from checks import check, fail

PORT, ADMIN_PORT, TOKEN, TARGET_PORT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def admin(path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (ADMIN_PORT, path), data=data, method="POST",
                                     headers={"Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        fail("admin %s: %d %s" % (path, e.code, e.read()[:300]))


def one(cur, sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()


def workload(conn, server_id, csv, blob):
    cur = conn.cursor()
    check(one(cur, "SELECT @@server_id") == (server_id,), "not on server %d" % server_id)
    check(one(cur, "SELECT @@session.time_zone") == ("+05:30",), "time_zone lost on server %d" % server_id)

    cur.execute("SELECT 1; SELECT 'two', 2; DO 3")
    sets = []
    while True:
        sets.append([tuple(r) for r in cur.fetchall()] if cur.description else None)
        if not cur.nextset():
            break
    check(sets == [[(1,)], [("two", 2)], None], "multi-statement result sets: %r" % (sets,))

    cur.execute("CREATE TABLE z (id INT PRIMARY KEY, v VARCHAR(40))")
    cur.execute("LOAD DATA LOCAL INFILE %s INTO TABLE z FIELDS TERMINATED BY ','", (csv,))
    check(one(cur, "SELECT COUNT(*), SUM(id), MAX(v) FROM z") == (3000, 4501500, "line 999"),
          "LOAD DATA LOCAL rows on server %d" % server_id)

    cur.execute("CREATE TABLE b (id INT PRIMARY KEY, data LONGBLOB)")
    cur.execute("INSERT INTO b VALUES (1, %s)", (blob,))
    got = one(cur, "SELECT data FROM b WHERE id = 1")[0]
    check(got == blob, "the 20 MiB blob came back changed (%d bytes) on server %d" % (len(got), server_id))
    cur.execute("DROP TABLE z, b")
    print("server %d: multi-statement, LOAD DATA LOCAL, 20 MiB blob: ok" % server_id)


def main():
    work = tempfile.mkdtemp()
    csv = os.path.join(work, "data.csv")
    with open(csv, "w") as f:
        for i in range(1, 3001):
            f.write("%d,line %d\n" % (i, i))
    rng = random.Random(7)
    half = 10 << 20
    blob = rng.randbytes(half) + bytes(range(256)) * (half // 256)

    conn = MySQLdb.connect(host="127.0.0.1", port=PORT, user="app", password="app-secret", database="app",
                           charset="utf8mb4", compress=True, local_infile=True, autocommit=True,
                           client_flag=CLIENT.MULTI_STATEMENTS)
    conn.cursor().execute("SET time_zone = '+05:30'")
    workload(conn, 1, csv, blob)

    target = {"host": "127.0.0.1", "port": TARGET_PORT, "pinned": "refuse"}
    admin("/prepare", target)
    pause = admin("/pause", {"drain_timeout_ms": 5000})
    check(pause.get("drained"), "the pause did not drain: %r" % pause)
    repoint = admin("/repoint", target)
    check(repoint.get("moved") == 1, "repoint moved %r" % repoint)
    admin("/resume")

    workload(conn, 2, csv, blob)
    conn.close()
    os.remove(csv)
    os.rmdir(work)
    print("mysqldb_compressed: ok")


if __name__ == "__main__":
    main()
