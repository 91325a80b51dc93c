#!/usr/bin/python3
"""pymysql through the cutover proxy.

Usage: pymysql_client.py PORT SCENARIO
Scenarios: transactions, multi_statements, local_infile, big_blob.
Prints what it checked; exits 1 with a message naming the failed check.
Run with /usr/bin/python3 (Debian's python3-pymysql).
"""
import hashlib
import os
import sys
import tempfile

import pymysql
from pymysql.constants import CLIENT

from checks import check, fail

PORT = int(sys.argv[1])


def connect(**kwargs):
    return pymysql.connect(host="127.0.0.1", port=PORT, user="app", password="app-secret",
                           database="app", **kwargs)


def one(cursor, sql, args=None):
    cursor.execute(sql, args)
    return cursor.fetchone()


def transactions():
    conn = connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE TABLE tx (id INT PRIMARY KEY, v VARCHAR(20))")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO tx VALUES (1, 'committed'), (2, 'committed')")
    cur.execute("COMMIT")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO tx VALUES (3, 'rolled back')")
    cur.execute("UPDATE tx SET v = 'rolled back' WHERE id = 1")
    cur.execute("ROLLBACK")
    # pymysql's own transaction API: autocommit off, commit() and rollback().
    conn.autocommit(False)
    cur.execute("INSERT INTO tx VALUES (4, 'committed')")
    conn.commit()
    cur.execute("INSERT INTO tx VALUES (5, 'rolled back')")
    conn.rollback()
    # A statement that fails inside a transaction leaves it open and usable.
    cur.execute("INSERT INTO tx VALUES (6, 'committed')")
    try:
        cur.execute("INSERT INTO tx VALUES (1, 'duplicate')")
        fail("a duplicate key was accepted")
    except pymysql.err.IntegrityError as e:
        check(e.args[0] == 1062, "duplicate key: expected 1062, got %r" % (e.args,))
    conn.commit()
    # What the user cares about: another session sees exactly the committed rows.
    other = connect(autocommit=True)
    ocur = other.cursor()
    ocur.execute("SELECT id, v FROM tx ORDER BY id")
    rows = [tuple(r) for r in ocur.fetchall()]
    expected = [(1, "committed"), (2, "committed"), (4, "committed"), (6, "committed")]
    check(rows == expected, "rows seen by another session: %r, expected %r" % (rows, expected))
    print("transactions: ok", rows)


def multi_statements():
    conn = connect(autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS)
    cur = conn.cursor()
    cur.execute("CREATE TABLE m (id INT PRIMARY KEY, v VARCHAR(10));"
                "CREATE PROCEDURE two_sets() BEGIN SELECT 'p1'; SELECT 'p2', 'p2b'; END")
    while cur.nextset():
        pass
    cur.execute("SELECT 1; SELECT 'a', 'b' UNION ALL SELECT 'c', 'd'; "
                "INSERT INTO m VALUES (1, 'x'), (2, 'y'); SELECT COUNT(*) FROM m; "
                "SELECT * FROM m WHERE id > 100; CALL two_sets(); SELECT 'last'")
    sets = []
    while True:
        sets.append((cur.rowcount, [tuple(r) for r in cur.fetchall()] if cur.description else None))
        if not cur.nextset():
            break
    expected = [
        (1, [(1,)]),
        (2, [("a", "b"), ("c", "d")]),
        (2, None),            # the INSERT's OK
        (1, [(2,)]),
        (0, []),              # an empty result set
        (1, [("p1",)]),       # CALL: two result sets ...
        (1, [("p2", "p2b")]),
        (0, None),            # ... and the CALL's own OK
        (1, [("last",)]),
    ]
    check(sets == expected, "result sets: %r, expected %r" % (sets, expected))
    # An error in the middle ends the batch; the connection stays usable.
    cur.execute("SELECT 'before'; SELECT * FROM no_such_table; SELECT 'never'")
    check(cur.fetchall() == (("before",),), "first result of the failing batch")
    try:
        cur.nextset()
        fail("the failing statement of the batch raised no error")
    except pymysql.err.ProgrammingError as e:
        check(e.args[0] == 1146, "expected 1146, got %r" % (e.args,))
    check(one(cur, "SELECT 'after'") == ("after",), "the connection after a failed batch")
    print("multi_statements: ok,", len(sets), "result sets")


def local_infile():
    conn = connect(autocommit=True, local_infile=True)
    cur = conn.cursor()
    cur.execute("CREATE TABLE li (id INT PRIMARY KEY, name VARCHAR(40), note TEXT)")
    rows = 50000  # about 2.5 MB: many 16 KB packets from pymysql
    digest = hashlib.sha1()
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        path = f.name
        for i in range(1, rows + 1):
            line = "%d\tname-%d\t%s\n" % (i, i, "n" * (i % 50))
            f.write(line)
    try:
        cur.execute("LOAD DATA LOCAL INFILE %s INTO TABLE li", (path,))
        check(cur.rowcount == rows, "LOAD DATA reported %d rows, expected %d" % (cur.rowcount, rows))
        count, id_sum, name_len, note_len = one(
            cur, "SELECT COUNT(*), SUM(id), SUM(LENGTH(name)), SUM(LENGTH(note)) FROM li")
        exp_name = sum(len("name-%d" % i) for i in range(1, rows + 1))
        exp_note = sum(i % 50 for i in range(1, rows + 1))
        check((count, id_sum, name_len, note_len) == (rows, rows * (rows + 1) // 2, exp_name, exp_note),
              "rows that landed: %r" % ((count, id_sum, name_len, note_len),))
        # A file the client cannot read: the client reports it, sends the empty
        # packet, and the session goes on.
        try:
            cur.execute("LOAD DATA LOCAL INFILE '/nonexistent/cutover.tsv' INTO TABLE li")
            fail("a missing local file raised no error")
        except pymysql.err.OperationalError as e:
            check(e.args[0] == 1017, "missing file: expected 1017, got %r" % (e.args,))
        check(one(cur, "SELECT COUNT(*) FROM li") == (rows,), "the session after a missing file")
        # An empty file loads nothing.
        with open(path, "w"):
            pass
        cur.execute("LOAD DATA LOCAL INFILE %s INTO TABLE li", (path,))
        check(cur.rowcount == 0, "an empty file loaded %d rows" % cur.rowcount)
    finally:
        os.unlink(path)
    print("local_infile: ok,", rows, "rows")


def big_blob():
    size = 20 * 1024 * 1024
    conn = connect(autocommit=True, max_allowed_packet=64 * 1024 * 1024)
    cur = conn.cursor()
    cur.execute("CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
    data = os.urandom(size)
    sent = hashlib.sha1(data).hexdigest()
    # The escaped INSERT is over 20 MiB: the client splits it into 16 MiB frames.
    cur.execute("INSERT INTO blobs VALUES (1, %s)", (data,))
    length, stored = one(cur, "SELECT LENGTH(b), SHA1(b) FROM blobs WHERE id = 1")
    check((length, stored) == (size, sent), "server stored %r bytes with sha1 %r, expected %d %s"
          % (length, stored, size, sent))
    # The row comes back over 16 MiB frames too.
    (back,) = one(cur, "SELECT b FROM blobs WHERE id = 1")
    check(len(back) == size and hashlib.sha1(back).hexdigest() == sent,
          "read back %d bytes with sha1 %s, expected %d %s"
          % (len(back), hashlib.sha1(back).hexdigest(), size, sent))
    # Rows around the frame edge: a row's payload is a 4-byte length prefix
    # plus the value, so 0xFFFFFF - 4 fills one frame exactly and needs an
    # empty frame after it.
    for n in (0xFFFFFF - 5, 0xFFFFFF - 4, 0xFFFFFF - 3):
        cur.execute("SELECT REPEAT('z', %s)", (n,))
        (v,) = cur.fetchone()
        check(v == "z" * n, "REPEAT of %d bytes came back as %d bytes" % (n, len(v)))
    # Queries around the same edge, client to server: the payload is the
    # command byte plus the SQL text.
    for payload in (0xFFFFFF - 1, 0xFFFFFF, 0xFFFFFF + 1):
        filler = payload - 1 - len("SELECT LENGTH('')")
        cur.execute("SELECT LENGTH('" + "q" * filler + "')")
        (v,) = cur.fetchone()
        check(v == filler, "a query of payload %d bytes: LENGTH %r, expected %d" % (payload, v, filler))
    check(one(cur, "SELECT 'after'") == ("after",), "the session after the big rows")
    print("big_blob: ok,", size, "bytes, sha1", sent)


SCENARIOS = {f.__name__: f for f in (transactions, multi_statements, local_infile, big_blob)}

if __name__ == "__main__":
    try:
        SCENARIOS[sys.argv[2]]()
    except pymysql.err.MySQLError as e:
        fail("%s: %r" % (type(e).__name__, e.args))
