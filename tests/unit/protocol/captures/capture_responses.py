#!/usr/bin/python3
"""Captures raw server responses for response_tracker_test.cpp.

Usage: capture_responses.py PORT > out.txt
Talks to a throwaway mariadbd started with --skip-grant-tables --local-infile=1
(any password works). Logs in twice, without and with CLIENT_DEPRECATE_EOF,
sends each command and records every byte the server sends until it stays
silent for a while, printing one "name hex" line per response.
"""
import socket
import struct
import sys
import time

CAPS = (1 | 4 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000
        | 0x80000 | 0x800000)  # + LOCAL_FILES, MULTI_*, PS_MULTI, SESSION_TRACK
DEPRECATE_EOF = 1 << 24


def frame(payload, seq=0):
    return struct.pack('<I', len(payload))[:3] + bytes([seq]) + payload


class Conn:
    def __init__(self, port, caps):
        self.s = socket.create_connection(('127.0.0.1', port))
        self.read_all(0.5)  # greeting
        resp = struct.pack('<IIB', caps, 1 << 24, 33) + bytes(23)
        resp += b'root\0' + b'\0' + b'mysql_native_password\0'
        self.s.sendall(frame(resp, 1))
        ok = self.read_all(0.5)
        assert ok[4] == 0, ok

    def read_all(self, idle=0.3):
        out = b''
        self.s.settimeout(idle)
        while True:
            try:
                chunk = self.s.recv(1 << 20)
            except socket.timeout:
                return out
            if not chunk:
                return out
            out += chunk

    def command(self, payload, idle=0.3):
        self.s.sendall(frame(payload))
        return self.read_all(idle)


def query(c, sql):
    return c.command(b'\x03' + sql.encode())


def prepare(c, sql):
    r = c.command(b'\x16' + sql.encode())
    return r, struct.unpack('<I', r[5:9])[0]


def execute(stmt_id, flags=0):
    return b'\x17' + struct.pack('<IBI', stmt_id, flags, 1)


def main():
    port = int(sys.argv[1])
    setup = Conn(port, CAPS)
    for sql in ['DROP DATABASE IF EXISTS db1', 'CREATE DATABASE db1',
                'CREATE TABLE db1.t (id INT PRIMARY KEY, name VARCHAR(20))',
                "INSERT INTO db1.t VALUES (1,'one'),(2,NULL),(3,'three')",
                'CREATE TABLE db1.t2 (a INT, b VARCHAR(10))',
                'CREATE PROCEDURE db1.p() BEGIN SELECT 1; SELECT 2; END']:
        r = query(setup, sql)
        assert r[4] == 0, (sql, r)
    for suffix, caps in [('', CAPS), ('_deof', CAPS | DEPRECATE_EOF)]:
        c = Conn(port, caps)
        out = []

        def rec(name, data):
            out.append((name + suffix, data))
        rec('set_tracking', query(c, "SET session_track_system_variables='*', "
                                  'session_track_state_change=ON'))
        rec('use_db', query(c, 'USE db1'))
        rec('set_names', query(c, 'SET NAMES utf8mb4'))
        rec('select_rows', query(c, 'SELECT id, name FROM t ORDER BY id'))
        rec('select_empty', query(c, 'SELECT id FROM t WHERE id < 0'))
        rec('multi', query(c, 'SELECT 1; SELECT 2; SET @a=1'))
        rec('multi_err', query(c, 'SELECT 1; SELECT * FROM nosuch; SELECT 3'))
        rec('query_err', query(c, 'SELECT * FROM nosuch'))
        rec('err_mid_rows', query(c, 'SELECT id, IF(id=2, (SELECT 1 UNION SELECT 2), id) '
                                  'FROM t ORDER BY id'))
        rec('call_query', query(c, 'CALL p()'))
        rec('infile_request', query(c, "LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t2 "
                                    "FIELDS TERMINATED BY ','"))
        c.s.sendall(frame(b'1,a\n2,b\n', 2) + frame(b'', 3))
        rec('infile_done', c.read_all())
        rec('begin', query(c, 'BEGIN'))
        rec('select_in_trans', query(c, 'SELECT 1'))
        rec('commit', query(c, 'COMMIT'))
        r, sid = prepare(c, 'SELECT id, name FROM t WHERE id > ? AND name <> ?')
        rec('prepare_params_columns', r)
        r, sid_ins = prepare(c, 'INSERT INTO t2 VALUES (?, ?)')
        rec('prepare_params_only', r)
        r, sid_sel = prepare(c, 'SELECT id, name FROM t ORDER BY id')
        rec('prepare_columns_only', r)
        rec('prepare_err', c.command(b'\x16SELECT * FROM nosuch')[0:])
        rec('execute_rows', c.command(execute(sid_sel)))
        rec('execute_cursor', c.command(execute(sid_sel, 1)))
        rec('fetch_2', c.command(b'\x1c' + struct.pack('<II', sid_sel, 2)))
        rec('fetch_rest', c.command(b'\x1c' + struct.pack('<II', sid_sel, 10)))
        rec('fetch_err', c.command(b'\x1c' + struct.pack('<II', 12345, 10)))
        rec('stmt_reset', c.command(b'\x1a' + struct.pack('<I', sid_sel)))
        r, sid_call = prepare(c, 'CALL p()')
        rec('prepare_call', r)
        rec('execute_call', c.command(execute(sid_call)))
        r, sid_do = prepare(c, 'DO 1')
        rec('execute_ok', c.command(execute(sid_do)))
        rec('stmt_close', c.command(b'\x19' + struct.pack('<I', sid_do)))
        rec('field_list', c.command(b'\x04t\0'))
        rec('field_list_err', c.command(b'\x04nosuch\0'))
        rec('statistics', c.command(b'\x09'))
        rec('ping', c.command(b'\x0e'))
        rec('init_db', c.command(b'\x02db1'))
        rec('set_option_on', c.command(b'\x1b' + struct.pack('<H', 0)))
        rec('set_option_off', c.command(b'\x1b' + struct.pack('<H', 1)))
        rec('process_info', c.command(b'\x0a'))
        rec('process_kill_err', c.command(b'\x0c' + struct.pack('<I', 999999)))
        rec('refresh', c.command(b'\x07\x00'))
        rec('debug', c.command(b'\x0d'))
        rec('time', c.command(b'\x0f'))
        rec('create_db', c.command(b'\x05db2'))
        rec('reset_connection', c.command(b'\x1f'))
        rec('quit', c.command(b'\x01'))
        for name, data in out:
            print(name, data.hex())
    query(setup, 'DROP DATABASE db1')


main()
