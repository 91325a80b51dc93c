#!/usr/bin/perl
# Perl DBD::MariaDB with server-side prepared statements through the cutover proxy.
#
# Usage: dbd_mariadb.pl PORT
# Prepares statements once (COM_STMT_PREPARE) and executes them many times
# with different parameters and NULLs (COM_STMT_EXECUTE, binary result rows),
# inside and outside transactions, after errors, and with a parameter bigger
# than one 16 MiB frame. Exits 1 with a message naming the failed check.
use strict;
use warnings;
use utf8;
use DBI qw(:sql_types);
use Digest::SHA qw(sha1_hex);

my $port = $ARGV[0] or die "usage: $0 PORT\n";

sub fail { print "FAIL: $_[0]\n"; exit 1; }
sub check { my ($ok, $message) = @_; fail($message) unless $ok; }
sub show { join(',', map { defined $_ ? $_ : 'NULL' } @_) }

my $dbh = DBI->connect("DBI:MariaDB:database=app;host=127.0.0.1;port=$port;mariadb_server_prepare=1",
                       'app', 'app-secret', { RaiseError => 0, PrintError => 0, AutoCommit => 1 })
  or fail("connect: $DBI::errstr");
check($dbh->{mariadb_server_prepare}, 'server-side prepare is on');

$dbh->do('CREATE TABLE ps (id INT PRIMARY KEY, name VARCHAR(40), score DOUBLE, born DATE, data MEDIUMBLOB)')
  or fail("create: " . $dbh->errstr);

my $insert = $dbh->prepare('INSERT INTO ps (id, name, score, born, data) VALUES (?, ?, ?, ?, ?)')
  or fail("prepare insert: " . $dbh->errstr);
my @rows = (
  [1, 'alice', 1.5, '2001-02-03', "\x00\x01binary\xff"],
  [2, undef, undef, undef, undef],                      # all NULLs
  [3, "o'brien \\ \"q\"", -0.25, '1999-12-31', ''],      # quoting is the protocol's job
  [4, 'dave', undef, '2020-01-01', undef],              # NULLs mixed with values
  [5, 'ünïcødé', 1e300, undef, 'x' x 70000],            # a long parameter
);
# Binary values are bound as SQL_BLOB: DBD::MariaDB sends other strings as UTF-8.
sub execute_insert {
  my ($sth, @row) = @_;
  $sth->bind_param($_ + 1, $row[$_]) for 0 .. 3;
  $sth->bind_param(5, $row[4], SQL_BLOB);
  return $sth->execute;
}
for my $row (@rows) {
  execute_insert($insert, @$row) or fail("execute insert (@{[show(@$row)]}): " . $insert->errstr);
  check($insert->rows == 1, "insert of id $row->[0] affected " . $insert->rows . " rows");
}

# Re-executing after an error: a duplicate key fails, the statement still works.
check(!execute_insert($insert, 1, 'dup', 0, undef, undef), 'a duplicate id was accepted');
check($insert->err == 1062, 'duplicate key error is 1062, got ' . ($insert->err // 'none'));
execute_insert($insert, 6, 'after error', 6, undef, undef) or fail('insert after the error: ' . $insert->errstr);

# One SELECT statement executed with different parameters, rows in the binary protocol.
my $select = $dbh->prepare('SELECT id, name, score, born, data FROM ps WHERE id = ?')
  or fail("prepare select: " . $dbh->errstr);
for my $row (@rows) {
  $select->execute($row->[0]) or fail("execute select $row->[0]: " . $select->errstr);
  my @got = $select->fetchrow_array;
  check(!$select->fetchrow_arrayref, "one row for id $row->[0]");
  $got[4] = sha1_hex($got[4]) if defined $got[4];
  my @want = @$row;
  $want[4] = sha1_hex($want[4]) if defined $want[4];
  check(show(@got) eq show(@want), "id $row->[0]: got (" . show(@got) . "), expected (" . show(@want) . ")");
}
$select->execute(999) or fail('select of a missing id: ' . $select->errstr);
check(!defined $select->fetchrow_arrayref, 'a missing id returns no row');

# A NULL parameter in a comparison matches nothing; IS NULL through a parameter does.
my $nulls = $dbh->prepare('SELECT COUNT(*) FROM ps WHERE name <=> ?') or fail('prepare nulls');
$nulls->execute(undef) or fail('execute with NULL: ' . $nulls->errstr);
check(($nulls->fetchrow_array)[0] == 1, 'exactly one row has a NULL name');
$nulls->execute('dave') or fail('execute with a value: ' . $nulls->errstr);
check(($nulls->fetchrow_array)[0] == 1, 'exactly one row is named dave');

# Prepared statements inside a transaction: rollback removes, commit keeps.
$dbh->begin_work or fail('begin_work: ' . $dbh->errstr);
execute_insert($insert, 7, 'rolled back', undef, undef, undef) or fail('insert 7: ' . $insert->errstr);
$dbh->rollback or fail('rollback: ' . $dbh->errstr);
$dbh->begin_work or fail('begin_work: ' . $dbh->errstr);
execute_insert($insert, 8, 'committed', undef, undef, undef) or fail('insert 8: ' . $insert->errstr);
$dbh->commit or fail('commit: ' . $dbh->errstr);
my $ids = $dbh->selectcol_arrayref('SELECT id FROM ps ORDER BY id') or fail('select ids: ' . $dbh->errstr);
check("@$ids" eq '1 2 3 4 5 6 8', "ids after the transactions: @$ids");

# A parameter bigger than one 16 MiB frame: COM_STMT_EXECUTE is split by the client.
$dbh->do('CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)') or fail('create big: ' . $dbh->errstr);
my $big = join('', map { chr(($_ * 7 + 3) % 256) } 0 .. 255) x (17 * 4096);  # 17 MiB
my $big_insert = $dbh->prepare('INSERT INTO big VALUES (?, ?)') or fail('prepare big insert');
$big_insert->bind_param(1, 1);
$big_insert->bind_param(2, $big, SQL_BLOB);
$big_insert->execute or fail('execute big insert: ' . $big_insert->errstr);
my ($len, $sha) = $dbh->selectrow_array('SELECT LENGTH(b), SHA1(b) FROM big WHERE id = ?', undef, 1);
check($len == length($big) && $sha eq sha1_hex($big), "the server stored $len bytes, sha1 $sha");
my ($back) = $dbh->selectrow_array('SELECT b FROM big WHERE id = ?', undef, 1);
check(length($back) == length($big) && sha1_hex($back) eq sha1_hex($big),
      'the 17 MiB value read back through a prepared statement differs');

# The first statement still works after everything else ran on the session.
$select->execute(1) or fail('final select: ' . $select->errstr);
check(($select->fetchrow_array)[1] eq 'alice', 'final select returns alice');
$_->finish for ($insert, $select, $nulls, $big_insert);
$dbh->disconnect;
print "dbd_mariadb: ok\n";
