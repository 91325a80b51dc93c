<?php
// PHP's own protocol implementation (mysqlnd, Debian's php-cli and php-mysql)
// through the cutover proxy: mysqli and PDO_mysql, each with text statements
// and with server-side prepared statements, running the statements whose OK
// packet carries an info string (UPDATE, multi-row INSERT, LOAD DATA LOCAL,
// ALTER TABLE). mysqlnd does not ask for session tracking, so the proxy
// rewrites those OK packets; a wrong rewrite fails here as "RSET_HEADER packet
// additional data length is past ..." and then 2014 on every later call.
//
// Usage: php -d mysqli.allow_local_infile=1 php_mysqlnd.php PORT
// Exits 1 with a "FAIL: ..." line naming the failed check.

$port = (int)($argv[1] ?? 0);
if ($port <= 0) {
    fwrite(STDERR, "usage: php php_mysqlnd.php PORT\n");
    exit(2);
}

function fail(string $message): void {
    echo "FAIL: $message\n";
    exit(1);
}

function check(bool $ok, string $message): void {
    if (!$ok) fail($message);
}

function same($got, $want, string $what): void {
    check($got === $want, "$what: got " . var_export($got, true) . ", want " . var_export($want, true));
}

$csv = tempnam(sys_get_temp_dir(), 'cutover-php');
file_put_contents($csv, "101\tx\n102\ty\n103\tz\n");

// ---- mysqli, text protocol, then server-side prepared statements ----------
mysqli_report(MYSQLI_REPORT_OFF);
$m = mysqli_init();
$m->options(MYSQLI_OPT_LOCAL_INFILE, true);
if (!@$m->real_connect('127.0.0.1', 'app', 'app-secret', 'app', $port)) {
    fail('mysqli connect: ' . mysqli_connect_error());
}
$q = function (string $sql) use ($m) {
    $r = $m->query($sql);
    if ($r === false) fail("mysqli query '$sql': {$m->errno} {$m->error}");
    return $r;
};
$q('DROP TABLE IF EXISTS php_t');
$q('CREATE TABLE php_t (id INT PRIMARY KEY, v VARCHAR(10))');
$q("INSERT INTO php_t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
same($m->affected_rows, 3, 'mysqli multi-row INSERT affected_rows');
same($m->info, 'Records: 3  Duplicates: 0  Warnings: 0', 'mysqli multi-row INSERT info');
$q("UPDATE php_t SET v = 'a' WHERE id = 1");
same($m->affected_rows, 0, 'mysqli UPDATE that changes nothing: affected_rows');
same($m->info, 'Rows matched: 1  Changed: 0  Warnings: 0', 'mysqli UPDATE info');
$q("UPDATE php_t SET v = 'B' WHERE id >= 2");
same($m->info, 'Rows matched: 2  Changed: 2  Warnings: 0', 'mysqli UPDATE of two rows: info');
$q("LOAD DATA LOCAL INFILE '" . $m->real_escape_string($csv) . "' INTO TABLE php_t");
same($m->affected_rows, 3, 'mysqli LOAD DATA LOCAL affected_rows');
same($m->info, 'Records: 3  Deleted: 0  Skipped: 0  Warnings: 0', 'mysqli LOAD DATA LOCAL info');
$q('ALTER TABLE php_t ADD COLUMN n INT NOT NULL DEFAULT 7');
same($m->info, 'Records: 0  Duplicates: 0  Warnings: 0', 'mysqli ALTER TABLE info');
$row = $q('SELECT COUNT(*), SUM(n) FROM php_t')->fetch_row();
same($row, ['6', '42'], 'mysqli rows after LOAD DATA and ALTER');

$stmt = $m->prepare('UPDATE php_t SET n = n + ? WHERE id <= ?');
check($stmt !== false, "mysqli prepare UPDATE: {$m->error}");
$add = 1;
$upto = 3;
$stmt->bind_param('ii', $add, $upto);
check($stmt->execute(), "mysqli execute UPDATE: {$stmt->error}");
same($stmt->affected_rows, 3, 'mysqli prepared UPDATE affected_rows');
$stmt->close();
$stmt = $m->prepare('INSERT INTO php_t (id, v) VALUES (?, ?), (?, ?)');
check($stmt !== false, "mysqli prepare INSERT: {$m->error}");
$a = 201; $av = 'p'; $b = 202; $bv = 'q';
$stmt->bind_param('isis', $a, $av, $b, $bv);
check($stmt->execute(), "mysqli execute INSERT: {$stmt->error}");
same($stmt->affected_rows, 2, 'mysqli prepared multi-row INSERT affected_rows');
$stmt->close();
$stmt = $m->prepare('SELECT COUNT(*), SUM(n) FROM php_t WHERE id > ?');
$zero = 0;
$stmt->bind_param('i', $zero);
check($stmt->execute(), "mysqli execute SELECT: {$stmt->error}");
$stmt->bind_result($count, $sum);
check($stmt->fetch() === true, 'mysqli prepared SELECT fetch');
same([$count, $sum], [8, '59'], 'mysqli prepared SELECT after prepared UPDATE and INSERT');
$stmt->close();
$m->close();

// ---- PDO_mysql, emulated prepares (text) and native (server-side) ---------
foreach ([true, false] as $emulate) {
    $mode = $emulate ? 'PDO emulated' : 'PDO native';
    try {
        $pdo = new PDO("mysql:host=127.0.0.1;port=$port;dbname=app", 'app', 'app-secret', [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_EMULATE_PREPARES => $emulate,
            PDO::MYSQL_ATTR_LOCAL_INFILE => true,
        ]);
        $pdo->exec('DROP TABLE IF EXISTS php_p');
        $pdo->exec('CREATE TABLE php_p (id INT PRIMARY KEY, v VARCHAR(10))');
        $ins = $pdo->prepare('INSERT INTO php_p VALUES (?, ?), (?, ?), (?, ?)');
        $ins->execute([1, 'a', 2, 'b', 3, 'c']);
        same($ins->rowCount(), 3, "$mode multi-row INSERT rowCount");
        $upd = $pdo->prepare('UPDATE php_p SET v = ? WHERE id = ?');
        $upd->execute(['a', 1]);
        same($upd->rowCount(), 0, "$mode UPDATE that changes nothing: rowCount");
        $upd->execute(['z', 2]);
        same($upd->rowCount(), 1, "$mode UPDATE: rowCount");
        same($pdo->exec("UPDATE php_p SET v = 'y' WHERE id > 1"), 2, "$mode exec UPDATE");
        same($pdo->exec("LOAD DATA LOCAL INFILE " . $pdo->quote($csv) . " INTO TABLE php_p"), 3,
             "$mode LOAD DATA LOCAL");
        same($pdo->exec('ALTER TABLE php_p ADD COLUMN n INT NOT NULL DEFAULT 7'), 0, "$mode ALTER TABLE");
        $sel = $pdo->prepare('SELECT COUNT(*), SUM(n) FROM php_p WHERE id > ?');
        $sel->execute([0]);
        $row = $sel->fetch(PDO::FETCH_NUM);
        same(array_map('strval', $row), ['6', '42'], "$mode rows after LOAD DATA and ALTER");
        $pdo->exec('DROP TABLE php_p');
    } catch (PDOException $e) {
        fail("$mode: " . $e->getMessage());
    }
}

unlink($csv);
echo "php_mysqlnd: ok\n";
