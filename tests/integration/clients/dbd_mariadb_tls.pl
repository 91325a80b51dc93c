#!/usr/bin/perl
# Perl DBD::MariaDB over TLS through the cutover proxy, the proxy's
# certificate checked against CA.
#
# Usage: dbd_mariadb_tls.pl PORT CA
# Exits 1 with a message naming the failed check.
use strict;
use warnings;
use DBI;

my ($port, $ca) = @ARGV;
die "usage: $0 PORT CA\n" unless $ca;

sub fail { print "FAIL: $_[0]\n"; exit 1; }

my $dbh = DBI->connect("DBI:MariaDB:database=app;host=127.0.0.1;port=$port;mariadb_ssl=1;"
                         . "mariadb_ssl_ca_file=$ca;mariadb_ssl_verify_server_cert=1",
                       'app', 'app-secret', { RaiseError => 0, PrintError => 0, AutoCommit => 1 })
  or fail("connect: $DBI::errstr");
my ($sum) = $dbh->selectrow_array('SELECT 40 + 2') or fail('select: ' . $dbh->errstr);
fail("40 + 2 = $sum") unless $sum == 42;
my $sth = $dbh->prepare('SELECT ? * 2') or fail('prepare: ' . $dbh->errstr);
$sth->execute(21) or fail('execute: ' . $sth->errstr);
my ($twice) = $sth->fetchrow_array;
fail("21 * 2 = $twice") unless $twice == 42;
$dbh->disconnect;
print "dbd_mariadb_tls: ok\n";
