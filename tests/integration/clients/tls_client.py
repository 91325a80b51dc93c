#!/usr/bin/python3
"""pymysql over TLS through the cutover proxy, and clients that break the TLS handshake.

Usage: tls_client.py PORT SCENARIO [ARGS]
Scenarios:
  verify CA                 TLS with the certificate checked against CA and the
                            host name (127.0.0.1); prints the TLS version and the
                            SHA-256 fingerprint of the proxy's certificate
  wrong_ca CA               the same against a CA that did not sign it: refused
                            by the client with CERTIFICATE_VERIFY_FAILED
  plaintext_refused         no TLS: the proxy answers 3159 (require_tls)
  client_cert CA CERT KEY   TLS presenting a client certificate: logged in
  bad_client_cert CA CERT KEY  the same with a certificate the proxy must refuse
  no_client_cert CA         TLS without a client certificate: refused
  garbage_hello             SSLRequest, then bytes that are no ClientHello: the
                            proxy closes the connection
  stalled_hello SECONDS     SSLRequest, then half a ClientHello and silence: the
                            proxy closes the connection within SECONDS
  hold_session CA SECONDS [CERT KEY]  a TLS session that runs a query every
                            0.2 s for SECONDS (others' bad handshakes must not
                            touch it)
Exits 1 with a message naming the failed check.
Run with /usr/bin/python3 (Debian's python3-pymysql).
"""
import hashlib
import socket
import ssl
import struct
import sys
import time

import pymysql

from checks import check, fail

PORT = int(sys.argv[1])
SCENARIO = sys.argv[2]
ARGS = sys.argv[3:]


def context(ca, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def connect(ctx=None):
    kwargs = {"ssl": ctx} if ctx is not None else {}
    return pymysql.connect(host="127.0.0.1", port=PORT, user="app", password="app-secret", database="app",
                           connect_timeout=10, **kwargs)


def query_one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


def tls_facts(conn):
    sock = conn._sock
    check(isinstance(sock, ssl.SSLSocket), "the connection is not TLS")
    der = sock.getpeercert(binary_form=True)
    return sock.version(), hashlib.sha256(der).hexdigest()


def expect_refused(ctx, words):
    try:
        conn = connect(ctx)
    except Exception as e:  # pymysql wraps ssl errors in OperationalError
        text = repr(e)
        check(any(w in text for w in words), "refused, but not for the expected reason: " + text)
        return text
    conn.close()
    fail("logged in, but should have been refused")


def raw_ssl_request():
    """Reads the greeting and sends an SSLRequest; returns the socket."""
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    header = sock.recv(4)
    length = header[0] | header[1] << 8 | header[2] << 16
    greeting = b""
    while len(greeting) < length:
        greeting += sock.recv(length - len(greeting))
    caps_low = struct.unpack_from("<H", greeting, greeting.index(b"\0", 1) + 1 + 4 + 9)[0]
    check(caps_low & 0x800, "the greeting does not offer CLIENT_SSL")
    caps = 0x00000200 | 0x00008000 | 0x00000800 | 0x00080000  # PROTOCOL_41, SECURE_CONNECTION, SSL, PLUGIN_AUTH
    payload = struct.pack("<IIB", caps, 1 << 24, 45) + b"\0" * 23
    sock.sendall(struct.pack("<I", len(payload))[:3] + b"\x01" + payload)
    return sock


def wait_closed(sock, seconds):
    sock.settimeout(seconds)
    start = time.monotonic()
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                break
    except ConnectionResetError:
        pass
    except socket.timeout:
        fail("the proxy kept the connection open for {} s".format(seconds))
    return time.monotonic() - start


if SCENARIO == "verify":
    conn = connect(context(ARGS[0]))
    check(query_one(conn, "SELECT 1 + 1") == (2,), "SELECT 1 + 1 over TLS")
    version, fingerprint = tls_facts(conn)
    check(version in ("TLSv1.2", "TLSv1.3"), "TLS version " + str(version))
    conn.close()
    print("verify: ok {} {}".format(version, fingerprint))
elif SCENARIO == "wrong_ca":
    print(expect_refused(context(ARGS[0]), ["CERTIFICATE_VERIFY_FAILED", "certificate verify failed"]))
    print("wrong_ca: ok")
elif SCENARIO == "plaintext_refused":
    print(expect_refused(None, ["3159"]))
    print("plaintext_refused: ok")
elif SCENARIO == "client_cert":
    conn = connect(context(ARGS[0], ARGS[1], ARGS[2]))
    check(query_one(conn, "SELECT CURRENT_USER() LIKE 'app@%'") == (1,), "logged in as app")
    tls_facts(conn)
    conn.close()
    print("client_cert: ok")
elif SCENARIO == "bad_client_cert":
    print(expect_refused(context(ARGS[0], ARGS[1], ARGS[2]), ["OperationalError", "SSL", "Lost connection"]))
    print("bad_client_cert: ok")
elif SCENARIO == "no_client_cert":
    print(expect_refused(context(ARGS[0]), ["OperationalError", "SSL", "Lost connection"]))
    print("no_client_cert: ok")
elif SCENARIO == "garbage_hello":
    sock = raw_ssl_request()
    sock.sendall(b"GET / HTTP/1.1\r\n" + bytes(range(256)) * 4)
    took = wait_closed(sock, 5)
    print("garbage_hello: ok (closed after {:.2f} s)".format(took))
elif SCENARIO == "stalled_hello":
    sock = raw_ssl_request()
    sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's first bytes, then nothing
    took = wait_closed(sock, float(ARGS[0]))
    print("stalled_hello: ok (closed after {:.2f} s)".format(took))
elif SCENARIO == "hold_session":
    conn = connect(context(ARGS[0], *ARGS[2:4]))
    end = time.monotonic() + float(ARGS[1])
    n = 0
    while time.monotonic() < end:
        check(query_one(conn, "SELECT {}".format(n)) == (n,), "query {} on the held session".format(n))
        n += 1
        time.sleep(0.2)
    conn.close()
    print("hold_session: ok ({} queries)".format(n))
else:
    fail("unknown scenario " + SCENARIO)
