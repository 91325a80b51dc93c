#!/usr/bin/python3
"""pymysql logging in through the cutover proxy with the plugin the proxy asks for.

Usage: auth_client.py PORT SCENARIO USER PASSWORD [CA]
Scenarios:
  login    logs in (over TLS when CA is given, the proxy's certificate checked),
           checks CURRENT_USER() and a query
  denied   the login is refused with 1045
  refused  the login is refused with the error number given as PASSWORD's
           suffix after a ':' (e.g. "secret:3159")
Exits 1 with a message naming the failed check.
Run with /usr/bin/python3 (Debian's python3-pymysql; RSA needs python3-cryptography).
"""
import ssl
import sys

import pymysql

from checks import fail

PORT = int(sys.argv[1])
SCENARIO, USER, PASSWORD = sys.argv[2:5]
CA = sys.argv[5] if len(sys.argv) > 5 else None


def connect(password):
    kwargs = {"ssl": ssl.create_default_context(cafile=CA)} if CA else {}
    return pymysql.connect(host="127.0.0.1", port=PORT, user=USER, password=password, connect_timeout=10, **kwargs)


def expect_error(password, code):
    try:
        conn = connect(password)
    except pymysql.err.OperationalError as e:
        if e.args[0] != code:
            fail("refused with {} instead of {}: {}".format(e.args[0], code, e.args))
        print("refused: {}".format(e.args))
        return
    conn.close()
    fail("logged in, but should have been refused")


if SCENARIO == "login":
    conn = connect(PASSWORD)
    with conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER(), 6 * 7")
        user, answer = cur.fetchone()
    if not user.startswith(USER + "@") or answer != 42:
        fail("CURRENT_USER() = {}, 6 * 7 = {}".format(user, answer))
    print("login: ok")
    conn.close()
elif SCENARIO == "denied":
    expect_error(PASSWORD, 1045)
    print("denied: ok")
elif SCENARIO == "refused":
    password, code = PASSWORD.rsplit(":", 1)
    expect_error(password, int(code))
    print("refused: ok")
else:
    fail("unknown scenario " + SCENARIO)
