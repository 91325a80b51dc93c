#!/usr/bin/python3
"""A tiny MySQL-protocol client on a raw socket, for commands no library sends.

Usage: raw_client.py PORT SCENARIO [ARG]
Scenarios (each logs in as app with mysql_native_password first):
  refused_commands     replication and other commands a proxy must refuse
                       (COM_BINLOG_DUMP 0x12, COM_BINLOG_DUMP_GTID 0x1e,
                       COM_REGISTER_SLAVE 0x15, COM_TABLE_DUMP 0x13) and a command
                       byte no server knows (0x7f) each get one clear ERR, and a
                       COM_QUERY after it still works
  stale_statement_ids  COM_STMT_EXECUTE with ids dropped by COM_RESET_CONNECTION
                       or COM_STMT_CLOSE, or never handed out; COM_STMT_BULK_EXECUTE
                       with an id never handed out
  oversized_packet MAX a command over MAX bytes gets ERR 1153, then the close
  compressed_bad_frames
                       with CLIENT_COMPRESS: a compressed query works, then a
                       frame whose inflated size is not its header's, or
                       garbage zlib data, closes the connection
Exits 1 with a message naming the failed check.
Written from the protocol documentation, independently of cutover's code.
"""
import hashlib
import socket
import struct
import sys
import zlib

from checks import check, fail

PORT = int(sys.argv[1])


class Raw:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)

    def read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                fail("the proxy closed the connection (after %d of %d bytes)" % (len(data), n))
            data += chunk
        return data

    def read_packet(self):
        header = self.read_exact(4)
        length = header[0] | header[1] << 8 | header[2] << 16
        return header[3], self.read_exact(length)

    def write_packet(self, seq, payload):
        self.sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload)


def native_token(password, scramble):
    stage1 = hashlib.sha1(password.encode()).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(scramble + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix))


def login(raw, extra_flags=0):
    seq, greeting = raw.read_packet()
    check(greeting[0] == 10, "greeting protocol version %d" % greeting[0])
    pos = greeting.index(b"\0", 1) + 1           # server version
    pos += 4                                     # connection id
    scramble = greeting[pos:pos + 8]
    pos += 8 + 1                                 # scramble part 1, filler
    caps = struct.unpack_from("<H", greeting, pos)[0]
    pos += 2 + 1 + 2                             # capabilities (low), charset, status
    caps |= struct.unpack_from("<H", greeting, pos)[0] << 16
    pos += 2
    auth_len = greeting[pos]
    pos += 1 + 10                                # auth data length, reserved
    part2 = max(13, auth_len - 8)
    scramble += greeting[pos:pos + part2 - 1]    # without its trailing NUL
    check(len(scramble) == 20, "scramble of %d bytes" % len(scramble))
    CLIENT_LONG_PASSWORD, CLIENT_CONNECT_WITH_DB, CLIENT_PROTOCOL_41 = 1, 8, 512
    CLIENT_TRANSACTIONS, CLIENT_SECURE_CONNECTION, CLIENT_PLUGIN_AUTH = 8192, 32768, 1 << 19
    flags = (CLIENT_LONG_PASSWORD | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
             | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | extra_flags) & caps
    check(flags & extra_flags == extra_flags, "the greeting does not offer flags %#x" % extra_flags)
    token = native_token("app-secret", scramble)
    response = (struct.pack("<IIB", flags, 1 << 24, 45) + b"\0" * 23 + b"app\0" + bytes([len(token)]) + token
                + b"app\0" + b"mysql_native_password\0")
    raw.write_packet(seq + 1, response)
    _, answer = raw.read_packet()
    check(answer[:1] == b"\0", "login answer %r" % answer[:80])


def query_one_value(raw, sql):
    """COM_QUERY returning a single one-column row; returns its text."""
    raw.write_packet(0, b"\x03" + sql.encode())
    _, first = raw.read_packet()
    check(first[0] not in (0x00, 0xFF), "%s: expected a result set, got %r" % (sql, first[:80]))
    _, column = raw.read_packet()                # one column definition
    _, eof = raw.read_packet()
    check(eof[0] == 0xFE, "%s: expected EOF after the columns, got %r" % (sql, eof[:20]))
    _, row = raw.read_packet()
    value = row[1:1 + row[0]].decode()
    _, end = raw.read_packet()
    check(end[0] == 0xFE, "%s: expected EOF after the row, got %r" % (sql, end[:20]))
    return value


def refused_commands():
    raw = Raw(PORT)
    login(raw)
    commands = [
        ("COM_BINLOG_DUMP", b"\x12" + struct.pack("<IHI", 4, 0, 99) + b"mysql-bin.000001"),
        ("COM_BINLOG_DUMP_GTID", b"\x1e" + struct.pack("<HII", 0, 99, 0) + b"\0" * 8 + struct.pack("<I", 0)),
        ("COM_REGISTER_SLAVE", b"\x15" + struct.pack("<I", 99) + b"\0\0\0" + struct.pack("<HII", 0, 0, 0)),
        ("COM_TABLE_DUMP", b"\x13\x03app\x01t"),
        ("command 0x7f", b"\x7f"),
    ]
    for name, payload in commands:
        raw.write_packet(0, payload)
        seq, answer = raw.read_packet()
        check(answer[:1] == b"\xff", "%s: expected an ERR packet, got %r" % (name, answer[:80]))
        code = struct.unpack_from("<H", answer, 1)[0]
        message = answer[9:].decode(errors="replace") if answer[3:4] == b"#" else answer[3:].decode(errors="replace")
        check(seq == 1, "%s: ERR with sequence id %d" % (name, seq))
        check(code == 1047, "%s: expected error 1047 (unknown command), got %d %r" % (name, code, message))
        # A refused command's message says which command and why, not just "unknown".
        if name.startswith("COM_"):
            check(name in message, "%s: the error does not name the command: %r" % (name, message))
        value = query_one_value(raw, "SELECT 'still here'")
        check(value == "still here", "%s: the query after it returned %r" % (name, value))
        print("%s: ERR %d %s; session still usable" % (name, code, message))
    raw.write_packet(0, b"\x01")  # COM_QUIT
    print("refused_commands: ok")


def prepare(raw, sql):
    """COM_STMT_PREPARE; returns the statement id. REQUIRES: no parameters."""
    raw.write_packet(0, b"\x16" + sql.encode())
    _, ok = raw.read_packet()
    check(ok[:1] == b"\0", "prepare %r: %r" % (sql, ok[:80]))
    statement_id, columns, params = struct.unpack_from("<IHH", ok, 1)
    check(params == 0, "prepare %r: %d parameters" % (sql, params))
    for _ in range(columns):
        raw.read_packet()
    if columns:
        raw.read_packet()  # EOF
    return statement_id


def execute(raw, statement_id):
    """COM_STMT_EXECUTE of a one-string-column statement: ("row", value) or ("err", code)."""
    raw.write_packet(0, b"\x17" + struct.pack("<IBI", statement_id, 0, 1))
    _, first = raw.read_packet()
    if first[:1] == b"\xff":
        return "err", struct.unpack_from("<H", first, 1)[0]
    raw.read_packet()  # the column definition
    raw.read_packet()  # EOF
    _, row = raw.read_packet()
    check(row[:2] == b"\0\0", "binary row header %r" % row[:4])
    value = row[3:3 + row[2]].decode()
    _, end = raw.read_packet()
    check(end[:1] == b"\xfe", "EOF after the row: %r" % end[:20])
    return "row", value


def stale_statement_ids():
    """Statement ids the client holds but the server no longer knows get the
    server's own 1243 error, never another statement's rows."""
    raw = Raw(PORT)
    login(raw)
    first = prepare(raw, "SELECT 'first'")
    check(execute(raw, first) == ("row", "first"), "the first statement before the reset")
    check(execute(raw, 777777) == ("err", 1243), "an id never handed out: %r" % (execute(raw, 777777),))
    raw.write_packet(0, b"\xfa" + struct.pack("<IH", 777777, 0) + b"\0")  # COM_STMT_BULK_EXECUTE, one row
    _, answer = raw.read_packet()
    check(answer[:1] == b"\xff" and struct.unpack_from("<H", answer, 1)[0] == 1243,
          "COM_STMT_BULK_EXECUTE of an id never handed out: %r" % answer[:80])
    raw.write_packet(0, b"\x1f")  # COM_RESET_CONNECTION
    _, ok = raw.read_packet()
    check(ok[:1] == b"\0", "COM_RESET_CONNECTION: %r" % ok[:80])
    second = prepare(raw, "SELECT 'second'")
    check(execute(raw, first) == ("err", 1243), "the statement dropped by the reset: %r" % (execute(raw, first),))
    check(execute(raw, second) == ("row", "second"), "the statement prepared after the reset")
    check(execute(raw, 777777) == ("err", 1243), "an id never handed out, after the reset")
    raw.write_packet(0, b"\x19" + struct.pack("<I", second))  # COM_STMT_CLOSE: no answer
    check(execute(raw, second) == ("err", 1243), "a closed statement")
    check(query_one_value(raw, "SELECT 'still here'") == "still here", "a query at the end")
    print("stale_statement_ids: ok")


def oversized_packet():
    """A command bigger than the proxy's max_packet_size (given as the third
    argument) gets ERR 1153 naming the limit, then the connection closes."""
    limit = int(sys.argv[3])
    for size, send_payload in ((limit + 1, True), (2 * limit, True), (64 << 20, False)):
        raw = Raw(PORT)
        login(raw)
        header = struct.pack("<I", min(size, 0xFFFFFF))[:3] + b"\0"
        try:
            raw.sock.sendall(header + b"\x03" + (b"x" * (min(size, 0xFFFFFF) - 1) if send_payload else b""))
        except OSError:
            pass  # the proxy may close before it has read everything; its answer is still there
        seq, answer = raw.read_packet()
        check(answer[:1] == b"\xff", "a %d-byte packet: expected ERR, got %r" % (size, answer[:80]))
        code = struct.unpack_from("<H", answer, 1)[0]
        message = answer[9:].decode(errors="replace")
        check(code == 1153, "a %d-byte packet: expected 1153, got %d %r" % (size, code, message))
        check(str(limit) in message, "the error does not name the limit %d: %r" % (limit, message))
        try:
            rest = raw.sock.recv(100)
        except ConnectionResetError:
            rest = b""
        check(rest == b"", "the connection stayed open after 1153 (got %r)" % rest[:40])
        print("a %d-byte packet: ERR %d %s; closed" % (size, code, message))
    print("oversized_packet: ok")


def compressed_frame(seq, plain, packed=None, plain_length=None):
    """A compressed-protocol frame: int<3> length, int<1> seq, int<3> plain length."""
    packed = zlib.compress(plain) if packed is None else packed
    plain_length = len(plain) if plain_length is None else plain_length
    return struct.pack("<I", len(packed))[:3] + bytes([seq]) + struct.pack("<I", plain_length)[:3] + packed


def inner_packets(plain):
    """The whole packets at the front of decompressed bytes."""
    packets, pos = [], 0
    while pos + 4 <= len(plain):
        length = plain[pos] | plain[pos + 1] << 8 | plain[pos + 2] << 16
        if pos + 4 + length > len(plain):
            break
        packets.append(plain[pos + 4:pos + 4 + length])
        pos += 4 + length
    return packets


def compressed_bad_frames():
    CLIENT_COMPRESS = 32
    query = b"\x03SELECT '" + b"z" * 100 + b"'"
    packet = struct.pack("<I", len(query))[:3] + b"\0" + query
    for name, frame in (("an inflated size one byte over", compressed_frame(0, packet, plain_length=len(packet) + 1)),
                        ("an inflated size one byte under", compressed_frame(0, packet, plain_length=len(packet) - 1)),
                        ("garbage zlib data", compressed_frame(0, packet, packed=b"\x78\x9c" + b"\xa5" * 40))):
        raw = Raw(PORT)
        login(raw, CLIENT_COMPRESS)
        raw.sock.sendall(compressed_frame(0, packet))
        plain = b""
        seq = 1
        while len(inner_packets(plain)) < 5:  # column count, column, EOF, row, EOF
            header = raw.read_exact(7)
            length, got_seq = header[0] | header[1] << 8 | header[2] << 16, header[3]
            plain_length = header[4] | header[5] << 8 | header[6] << 16
            check(got_seq == seq, "compressed seq %d, expected %d" % (got_seq, seq))
            seq += 1
            body = raw.read_exact(length)
            plain += zlib.decompress(body) if plain_length else body
        check(b"z" * 100 in plain, "the compressed query's row is missing: %r" % plain[:200])
        raw.sock.sendall(frame)
        try:
            rest = raw.sock.recv(100)
        except ConnectionResetError:
            rest = b""
        check(rest == b"", "%s: the connection stayed open (got %r)" % (name, rest[:40]))
        print("%s: closed" % name)
    print("compressed_bad_frames: ok")


if __name__ == "__main__":
    scenarios = (refused_commands, stale_statement_ids, oversized_packet, compressed_bad_frames)
    {f.__name__: f for f in scenarios}[sys.argv[2]]()
