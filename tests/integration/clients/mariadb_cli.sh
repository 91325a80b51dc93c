#!/usr/bin/env bash
# The mariadb command-line client through the cutover proxy.
#
# Usage: mariadb_cli.sh PORT [CLIENT OPTION...]
# The options go to every mariadb call, e.g. --compress --skip-ssl; with
# --compress, `status` must also show the compressed protocol.
# Runs one batch session (multi-statements, a stored procedure with several
# result sets, LOAD DATA LOCAL INFILE, USE, transactions, an error with
# --force) and compares its whole output with what a server gives; then the
# `status` command (COM_STATISTICS). Exits 1 with a diff on any difference.
set -euo pipefail
port="$1"
shift
options=("$@")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
cli() { mariadb -h127.0.0.1 -P"$port" -uapp -papp-secret "${options[@]}" "$@"; }

for i in $(seq 1 3000); do printf '%d,line %d\n' "$i" "$i"; done > "$work/data.csv"

cat > "$work/session.sql" <<SQL
CREATE TABLE app.cli (id INT PRIMARY KEY, v VARCHAR(40));
USE app;
SELECT DATABASE();
LOAD DATA LOCAL INFILE '$work/data.csv' INTO TABLE cli FIELDS TERMINATED BY ',';
SELECT COUNT(*), SUM(id), MAX(v) FROM cli;
SELECT 'one'; SELECT 'two', 2; SELECT 'three';
DELIMITER //
CREATE PROCEDURE sets(n INT)
BEGIN
  SELECT n AS first;
  SELECT n * 2 AS second;
  UPDATE cli SET v = 'by procedure' WHERE id = n;
END//
DELIMITER ;
CALL sets(7);
SELECT v FROM cli WHERE id = 7;
BEGIN;
DELETE FROM cli WHERE id > 10;
ROLLBACK;
START TRANSACTION;
DELETE FROM cli WHERE id > 2000;
COMMIT;
SELECT COUNT(*) FROM cli;
SELECT * FROM no_such_table;
SELECT 'after the error';
SQL

cat > "$work/expected" <<'OUT'
app
3000	4501500	line 999
one
two	2
three
7
14
by procedure
2000
after the error
OUT

# --force goes on after the error; the error goes to stderr.
cli -N -B --local-infile=1 --force < "$work/session.sql" > "$work/actual" 2> "$work/stderr" \
  || true
if ! diff -u "$work/expected" "$work/actual"; then
  cat "$work/stderr"
  fail "the session's output differs from the expected output (above)"
fi
grep -q "ERROR 1146 (42S02) at line .*: Table 'app.no_such_table' doesn't exist" "$work/stderr" \
  || { cat "$work/stderr"; fail "the expected 1146 error is missing from stderr"; }
if [[ $(grep -c ERROR "$work/stderr") -ne 1 ]]; then cat "$work/stderr"; fail "errors other than the expected one"; fi

status="$(cli -e status)" || fail "the status command failed: $status"
grep -q "^Uptime:" <<<"$status" || { echo "$status"; fail "status shows no server statistics"; }
grep -q "^Current user:.*app@" <<<"$status" || { echo "$status"; fail "status shows no current user"; }
if [[ " ${options[*]} " == *" --compress "* ]]; then
  grep -q "^Protocol:.*Compressed" <<<"$status" || { echo "$status"; fail "status shows no compressed protocol"; }
fi
echo "mariadb_cli: ok"
