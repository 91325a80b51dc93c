<?php
// PHP's mysqlnd logging in through the cutover proxy with whatever plugin the
// proxy asks for (caching_sha2_password in the tests).
// Usage: php auth_mysqlnd.php PORT USER PASSWORD
// Prints "mysqlnd: ok USER@HOST 42"; exits 1 with a message naming the failed check.
mysqli_report(MYSQLI_REPORT_OFF);
[$script, $port, $user, $password] = $argv;
$m = mysqli_init();
if (!@$m->real_connect('127.0.0.1', $user, $password, '', (int)$port)) {
    echo 'FAIL: connect: ', mysqli_connect_errno(), ' ', mysqli_connect_error(), PHP_EOL;
    exit(1);
}
$result = $m->query('SELECT CURRENT_USER(), 6 * 7');
if (!$result) {
    echo 'FAIL: query: ', $m->errno, ' ', $m->error, PHP_EOL;
    exit(1);
}
echo 'mysqlnd: ok ', implode(' ', $result->fetch_row()), PHP_EOL;
