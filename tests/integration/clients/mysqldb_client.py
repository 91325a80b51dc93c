#!/usr/bin/python3
"""MySQLdb (mysqlclient, over libmariadb) through the cutover proxy.

Usage: mysqldb_client.py PORT SCENARIO
Scenarios:
  queries           types, NULLs, transactions, multi-statements, a streamed result
  session_commands  COM_PING, COM_STATISTICS, COM_INIT_DB, COM_SET_OPTION and
                    COM_CHANGE_USER (needs user app2 / app2-secret on the proxy and server)
  change_user_keeps_set_option
                    the multi-statement option set by COM_SET_OPTION survives
                    COM_CHANGE_USER, as on a server (needs app2 too)
Prints what it checked; exits 1 with a message naming the failed check.
Run with /usr/bin/python3 (Debian's python3-mysqldb).
"""
import sys

import MySQLdb
import MySQLdb.cursors
from MySQLdb.constants import CLIENT

from checks import check, fail

PORT = int(sys.argv[1])


def connect(user="app", password="app-secret", **kwargs):
    return MySQLdb.connect(host="127.0.0.1", port=PORT, user=user, password=password, database="app",
                           charset="utf8mb4", **kwargs)


def one(cur, sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()


def all_sets(cur):
    sets = []
    while True:
        sets.append([tuple(r) for r in cur.fetchall()] if cur.description else None)
        if not cur.nextset():
            return sets


def queries():
    conn = connect(client_flag=CLIENT.MULTI_STATEMENTS)
    cur = conn.cursor()
    cur.execute("CREATE TABLE q (id INT PRIMARY KEY, s VARCHAR(50), d DECIMAL(10,2), b VARBINARY(10), n INT NULL)"
                " DEFAULT CHARSET utf8mb4")
    values = [(1, "plain", "1.50", b"\x00\x01\xff", None), (2, "ünïcødé ✓ 'quote' \\ back", "-3.25", b"", 7)]
    cur.executemany("INSERT INTO q VALUES (%s, %s, %s, %s, %s)", values)
    conn.commit()
    cur.execute("SELECT id, s, CAST(d AS CHAR), b, n FROM q ORDER BY id")
    got = [tuple(r) for r in cur.fetchall()]
    check(got == values, "rows read back: %r, expected %r" % (got, values))

    # A transaction rolled back through the API leaves nothing behind.
    cur.execute("INSERT INTO q (id, s) VALUES (3, 'rolled back')")
    conn.rollback()
    check(one(cur, "SELECT COUNT(*) FROM q") == (2,), "the rolled-back row is still there")

    # CLIENT_MULTI_STATEMENTS, asked for at connect.
    cur.execute("SELECT 1; UPDATE q SET n = 8 WHERE id = 2; SELECT n FROM q WHERE id = 2")
    sets = all_sets(cur)
    check(sets == [[(1,)], None, [(8,)]], "multi-statement result sets: %r" % (sets,))
    conn.commit()

    # A streamed (unbuffered) result: rows read as they arrive.
    cur.execute("INSERT INTO q (id, s) SELECT seq, 'gen' FROM seq_100_to_20000")
    conn.commit()
    stream = conn.cursor(MySQLdb.cursors.SSCursor)
    stream.execute("SELECT id FROM q WHERE s = 'gen' ORDER BY id")
    ids = [r[0] for r in stream]
    stream.close()
    check(ids == list(range(100, 20001)), "streamed %d ids, expected 19901" % len(ids))
    check(one(cur, "SELECT 'after'") == ("after",), "the connection after the streamed result")
    print("queries: ok")


def session_commands():
    conn = connect()
    cur = conn.cursor()

    conn.ping()  # COM_PING
    stat = conn.stat()  # COM_STATISTICS
    check(stat.startswith("Uptime:") and "Threads:" in stat, "COM_STATISTICS answer: %r" % stat)

    conn.select_db("mysql")  # COM_INIT_DB
    check(one(cur, "SELECT DATABASE()") == ("mysql",), "DATABASE() after select_db")
    conn.select_db("app")
    print("ping, statistics, init_db: ok")

    # COM_SET_OPTION: multi-statements off, then on again.
    conn.set_server_option(1)  # MYSQL_OPTION_MULTI_STATEMENTS_OFF
    try:
        cur.execute("SELECT 1; SELECT 2")
        fail("a multi-statement ran with multi-statements switched off")
    except MySQLdb.ProgrammingError as e:
        check(e.args[0] == 1064, "multi-statement while off: expected 1064, got %r" % (e.args,))
    check(one(cur, "SELECT 'single'") == ("single",), "a single statement while multi-statements are off")
    conn.set_server_option(0)  # MYSQL_OPTION_MULTI_STATEMENTS_ON
    cur.execute("SELECT 1; SELECT 2")
    check(all_sets(cur) == [[(1,)], [(2,)]], "multi-statement after switching it back on")
    print("set_server_option: ok")

    # COM_CHANGE_USER: a new user, with the old session's state gone.
    cur.execute("SET @marker = 'old session'")
    cur.execute("CREATE TEMPORARY TABLE tmp_old (x INT)")
    conn.change_user("app2", "app2-secret", "app")
    cur = conn.cursor()
    check(one(cur, "SELECT CURRENT_USER(), DATABASE(), @marker") == ("app2@%", "app", None),
          "after change_user to app2: %r" % (one(cur, "SELECT CURRENT_USER(), DATABASE(), @marker"),))
    try:
        cur.execute("SELECT * FROM tmp_old")
        fail("a temporary table survived change_user")
    except MySQLdb.ProgrammingError as e:
        check(e.args[0] == 1146, "temporary table after change_user: expected 1146, got %r" % (e.args,))
    conn.change_user("app", "app-secret", "mysql")
    cur = conn.cursor()
    check(one(cur, "SELECT CURRENT_USER(), DATABASE()") == ("app@%", "mysql"), "after change_user back to app")
    print("change_user: ok")

    # A wrong password is refused with 1045.
    try:
        conn.change_user("app2", "wrong", "app")
        fail("change_user with a wrong password succeeded")
    except MySQLdb.OperationalError as e:
        check(e.args[0] == 1045, "change_user with a wrong password: expected 1045, got %r" % (e.args,))
    print("session_commands: ok")


def change_user_keeps_set_option():
    """COM_CHANGE_USER does not undo COM_SET_OPTION on a server: the
    multi-statement option is the connection's, not the user's."""
    conn = connect()  # without CLIENT_MULTI_STATEMENTS
    cur = conn.cursor()
    conn.set_server_option(0)  # MYSQL_OPTION_MULTI_STATEMENTS_ON
    cur.execute("SELECT 1; SELECT 2")
    check(all_sets(cur) == [[(1,)], [(2,)]], "multi-statements after switching them on")
    conn.change_user("app2", "app2-secret", "app")
    cur = conn.cursor()
    try:
        cur.execute("SELECT 1; SELECT 2")
    except MySQLdb.ProgrammingError as e:
        fail("multi-statements switched on with COM_SET_OPTION are off after change_user: %r" % (e.args,))
    check(all_sets(cur) == [[(1,)], [(2,)]], "multi-statements after change_user")

    conn = connect(client_flag=CLIENT.MULTI_STATEMENTS)
    cur = conn.cursor()
    conn.set_server_option(1)  # MYSQL_OPTION_MULTI_STATEMENTS_OFF
    conn.change_user("app2", "app2-secret", "app")
    cur = conn.cursor()
    try:
        cur.execute("SELECT 1; SELECT 2")
        fail("multi-statements switched off with COM_SET_OPTION are on again after change_user")
    except MySQLdb.ProgrammingError as e:
        check(e.args[0] == 1064, "multi-statement while off: expected 1064, got %r" % (e.args,))
    print("change_user_keeps_set_option: ok")


SCENARIOS = {f.__name__: f for f in (queries, session_commands, change_user_keeps_set_option)}

if __name__ == "__main__":
    try:
        SCENARIOS[sys.argv[2]]()
    except MySQLdb.MySQLError as e:
        fail("%s: %r" % (type(e).__name__, e.args))
