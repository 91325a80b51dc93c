#include "clone_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>

#include <fmt/format.h>

extern char** environ;

namespace cutover::testing::clone_tests {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Field(const std::optional<std::string>& v) { return v ? *v : "<NULL>"; }

std::string InList(db::Connection& conn, const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + conn.Quote(s);
  return out.empty() ? "''" : out;
}

// X'000102...FF': every byte value once.
std::string AllBytesLiteral() {
  std::string out = "X'";
  for (int b = 0; b < 256; ++b) out += fmt::format("{:02X}", b);
  return out + "'";
}

}  // namespace

std::string Value(db::Connection& conn, const std::string& sql) {
  auto v = conn.QueryValue(sql);
  if (!v) {
    ADD_FAILURE() << sql << ": " << v.error().message();
    return "<error>";
  }
  return Field(*v);
}

void Exec(db::Connection& conn, const std::string& sql) {
  Status st = conn.Execute(sql);
  ASSERT_TRUE(st) << sql << ": " << st.error().message();
}

std::vector<std::string> Rows(db::Connection& conn, const std::string& sql) {
  auto r = conn.Query(sql);
  if (!r) {
    ADD_FAILURE() << sql << ": " << r.error().message();
    return {};
  }
  std::vector<std::string> out;
  for (const db::Row& row : r->rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += (i ? "|" : "") + Field(row[i]);
    out.push_back(std::move(line));
  }
  return out;
}

uint64_t GtidSeq(const std::string& gtid) {
  const size_t dash = gtid.rfind('-');
  if (dash == std::string::npos) return 0;
  return std::strtoull(gtid.c_str() + dash + 1, nullptr, 10);
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// ---------------------------------------------------------------------------
// BackgroundCutover

BackgroundCutover::BackgroundCutover(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << args[0] << " failed: " << std::strerror(rc);
    pid_ = -1;
    ::close(fds[0]);
    eof_ = true;
    return;
  }
  reader_ = std::jthread([this, fd = fds[0]] {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard lock(mu_);
      output_.append(buf, size_t(n));
    }
    ::close(fd);
    eof_ = true;
  });
}

BackgroundCutover::~BackgroundCutover() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool BackgroundCutover::WaitForOutput(const std::string& text, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const bool done = eof_;  // read before the output, so nothing printed last is missed
    if (output().find(text) != std::string::npos) return true;
    if (done) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

void BackgroundCutover::Signal(int signal) {
  if (pid_ > 0 && !exited_) ::kill(pid_, signal);
}

bool BackgroundCutover::Running() {
  if (pid_ <= 0 || exited_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (reader_.joinable()) reader_.join();
  return false;
}

int BackgroundCutover::Wait(milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!exited_) {
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    if (r == 0) {
      ADD_FAILURE() << "cutover did not exit within " << timeout.count() << " ms; killing it";
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      exit_code_ = -1;
    } else {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (reader_.joinable()) reader_.join();
  }
  return exit_code_;
}

std::string BackgroundCutover::output() const {
  std::lock_guard lock(mu_);
  return output_;
}

// ---------------------------------------------------------------------------
// SourceWriter

SourceWriter::SourceWriter(db::Endpoint source) : source_(std::move(source)) {}

void SourceWriter::Start() {
  thread_ = std::jthread([this] { Loop(); });
}

void SourceWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string SourceWriter::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

bool SourceWriter::Run(db::Connection& conn, const std::string& sql) {
  Status st = conn.Execute(sql);
  if (st) return true;
  std::lock_guard lock(mu_);
  if (error_.empty()) error_ = sql + ": " + st.error().message();
  return false;
}

void SourceWriter::Loop() {
  auto conn = db::Connection::Connect(source_);
  if (!conn) {
    std::lock_guard lock(mu_);
    error_ = conn.error().message();
    return;
  }
  std::mt19937 random(42);
  for (uint64_t i = 0; !stop_; ++i) {
    const uint32_t r = random();
    const uint32_t id = r % 20000 + 1;
    bool ok = true;
    switch (i % 9) {
      case 0:
        ok = Run(*conn, fmt::format("INSERT INTO shop.sbtest1 (k, c, pad) VALUES ({}, 'writer-{}', 'pad-{}')",
                                    r % 20000, i, r));
        break;
      case 1:
        ok = Run(*conn, fmt::format("UPDATE shop.sbtest2 SET k = k + 1, c = 'updated-{}' WHERE id = {}", i, id));
        break;
      case 2:
        ok = Run(*conn, fmt::format("DELETE FROM shop.sbtest1 WHERE id = {}", id));
        break;
      case 3:  // fires the AFTER INSERT trigger, which writes shop.audit
        ok = Run(*conn, fmt::format("INSERT INTO shop.orders (customer, amount) VALUES ('cust-{}', {}.{:02})", r % 50,
                                    r % 100, r % 100));
        break;
      case 4:  // one transaction over two tables
        ok =
            Run(*conn, "START TRANSACTION") &&
            Run(*conn, fmt::format("UPDATE shop.sbtest2 SET k = k - 1 WHERE id = {}", id)) &&
            Run(*conn, fmt::format("INSERT INTO types.bytes (vb, bl) VALUES (X'00275C0A0D1AFF{:08X}', X'5C00{:08X}27')",
                                   r, r)) &&
            Run(*conn, "COMMIT");
        break;
      case 5:
        ok = Run(*conn,
                 fmt::format("UPDATE types.texts SET t = 'writer {} 😀🐬 ''q'' \\\\ é' WHERE id = {}", i, r % 3 + 1));
        break;
      case 6:
        ok = Run(*conn, fmt::format("UPDATE types.walk SET v = v + 1, note = 'w-{}' WHERE n = {}", i, r % 3000 + 1));
        break;
      case 7:
        ok = Run(*conn, fmt::format("INSERT INTO types.nokey (a, b) VALUES ({}, 'dup')", r % 5));
        break;
      case 8:
        ok = Run(*conn, fmt::format("DELETE FROM types.nokey WHERE a = {} LIMIT 1", r % 5));
        break;
    }
    if (!ok) return;
    ++transactions_;
  }
}

// ---------------------------------------------------------------------------
// CloneTest

void CloneTest::SetUp() {
  char tmpl[] = "/tmp/cutover-clone-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
}

void CloneTest::TearDown() {
  source_.reset();
  target_.reset();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

void CloneTest::StartServers(local::LocalServerOptions source, local::LocalServerOptions target) {
  for (auto* o : {&source, &target}) {
    o->max_connections = 200;
    o->extra_args.push_back("--max-allowed-packet=64M");
  }
  auto start = [](local::LocalServerOptions o) -> std::unique_ptr<local::LocalServer> {
    auto server = local::LocalServer::Start(std::move(o));
    if (!server) {
      ADD_FAILURE() << server.error().message();
      return nullptr;
    }
    return std::move(*server);
  };
  auto t = std::async(std::launch::async, start, target);
  source_ = start(source);
  target_ = t.get();
  ASSERT_TRUE(source_ && target_);
}

void CloneTest::StartServers() {
  StartServers({.server_id = 1, .name = "clone-source"}, {.server_id = 2, .name = "clone-target"});
}

db::Connection CloneTest::Connect(const local::LocalServer& server) {
  auto conn = server.ConnectRoot();
  if (!conn) {
    ADD_FAILURE() << conn.error().message();
    std::abort();
  }
  return std::move(*conn);
}

std::string CloneTest::WriteConfig(const std::string& source_password) {
  const std::string path = dir_ + "/cutover.toml";
  std::ofstream out(path);
  out << fmt::format(
      "[source]\nhost = \"{}\"\nport = {}\nuser = \"root\"\npassword = \"{}\"\n\n"
      "[target]\nhost = \"{}\"\nport = {}\nuser = \"root\"\npassword = \"{}\"\n\n"
      "[replication]\nuser = \"{}\"\npassword = \"{}\"\n",
      source_->host(), source_->port(), source_password.empty() ? source_->options().root_password : source_password,
      target_->host(), target_->port(), target_->options().root_password, kReplUser, kReplPassword);
  return path;
}

CommandResult CloneTest::Cutover(const std::string& args) { return RunShell(std::string(CUTOVER_BINARY) + " " + args); }

std::vector<std::string> CloneTest::CutoverArgv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{CUTOVER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void CloneTest::CreateReplicationUser() {
  db::Connection source = Connect(*source_);
  Exec(source, fmt::format("CREATE USER '{}'@'%' IDENTIFIED BY '{}'", kReplUser, kReplPassword));
  Exec(source, fmt::format("GRANT REPLICATION SLAVE ON *.* TO '{}'@'%'", kReplUser));
}

bool CloneTest::ReplUserExists(db::Connection& source) {
  return Value(source, fmt::format("SELECT COUNT(*) FROM mysql.user WHERE User = '{}'", kReplUser)) != "0";
}

void CloneTest::CreateShopSchema(uint64_t sbtest_rows) {
  db::Connection c = Connect(*source_);
  Exec(c, "CREATE DATABASE shop");
  Exec(c, "USE shop");  // seq_1_to_N tables (the Sequence engine) need a current schema
  for (const char* t : {"sbtest1", "sbtest2"}) {
    Exec(c, fmt::format("CREATE TABLE shop.{} (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0, "
                        "c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), "
                        "KEY k_1 (k)) ENGINE=InnoDB",
                        t));
    Exec(c, fmt::format("INSERT INTO shop.{} (k, c, pad) SELECT seq * 7919 % {}, CONCAT(MD5(seq), '-', MD5(seq + 1)), "
                        "MD5(seq * 3) FROM seq_1_to_{}",
                        t, sbtest_rows, sbtest_rows));
  }
  Exec(c,
       "CREATE TABLE shop.orders (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(40) NOT NULL, "
       "amount DECIMAL(10,2) NOT NULL, KEY (customer)) ENGINE=InnoDB");
  Exec(c,
       "CREATE TABLE shop.audit (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL, "
       "note VARCHAR(100) NOT NULL) ENGINE=InnoDB");
  Exec(c,
       "CREATE TRIGGER shop.orders_audit AFTER INSERT ON shop.orders FOR EACH ROW "
       "INSERT INTO shop.audit (order_id, note) VALUES (NEW.id, CONCAT('new order for ', NEW.customer))");
  Exec(c,
       "INSERT INTO shop.orders (customer, amount) SELECT CONCAT('cust-', seq % 50), seq % 100 + 0.25 "
       "FROM seq_1_to_500");
  // A foreign key: the child may be copied before its parent.
  Exec(c,
       "CREATE TABLE shop.order_lines (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL, "
       "sku VARCHAR(20) NOT NULL, KEY (sku), CONSTRAINT fk_order FOREIGN KEY (order_id) REFERENCES shop.orders (id) "
       "ON DELETE CASCADE) ENGINE=InnoDB");
  Exec(c, "INSERT INTO shop.order_lines (order_id, sku) SELECT seq % 500 + 1, CONCAT('sku-', seq) FROM seq_1_to_1500");
  // id 0 in an AUTO_INCREMENT column must stay 0, not become the next counter value.
  Exec(c, "CREATE TABLE shop.zero_ai (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB");
  Exec(c, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')");
  Exec(c, "INSERT INTO shop.zero_ai VALUES (0, 'zero'), (1, 'one'), (2, 'two')");
  // Named so that the view on the view sorts first: its creation must wait for the other.
  Exec(c, "CREATE VIEW shop.top_orders AS SELECT id, customer, amount FROM shop.orders WHERE amount >= 50");
  Exec(c,
       "CREATE VIEW shop.order_totals AS SELECT customer, COUNT(*) AS n, SUM(amount) AS total "
       "FROM shop.top_orders GROUP BY customer");
  Exec(c,
       "CREATE FUNCTION shop.order_total(who VARCHAR(40)) RETURNS DECIMAL(12,2) READS SQL DATA "
       "RETURN (SELECT IFNULL(SUM(amount), 0) FROM shop.orders WHERE customer = who)");
  Exec(c,
       "CREATE PROCEDURE shop.add_order(who VARCHAR(40), how_much DECIMAL(10,2)) MODIFIES SQL DATA "
       "INSERT INTO shop.orders (customer, amount) VALUES (who, how_much)");
  Exec(c, "CREATE EVENT shop.purge_audit ON SCHEDULE EVERY 1 DAY DO DELETE FROM shop.audit WHERE id < 0");
}

void CloneTest::CreateTypesSchema() {
  db::Connection c = Connect(*source_);
  const std::vector<std::string> statements = {
      "CREATE DATABASE types",
      "USE types",  // seq_1_to_N tables (the Sequence engine) need a current schema
      // NULL, empty string and the string 'NULL' are three different values.
      "CREATE TABLE types.nulls (id INT PRIMARY KEY, s VARCHAR(10) NULL, b VARBINARY(10) NULL, t TEXT NULL)",
      "INSERT INTO types.nulls VALUES (1, NULL, NULL, NULL), (2, '', '', ''), (3, 'NULL', 'NULL', 'NULL'), "
      "(4, ' ', ' ', ' ')",
      // Every byte a string literal must escape, and every byte value.
      "CREATE TABLE types.bytes (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, vb VARBINARY(64) NOT NULL, "
      "bl BLOB NOT NULL)",
      "INSERT INTO types.bytes VALUES (1, X'00275C0A0D1AFF', X'00275C0A0D1AFF'), (2, X'5C30', X'5C275C'), "
      "(3, '', " +
          AllBytesLiteral() + "), (4, X'2020', X'00'), (5, X'22', X'FFFE00')",
      "CREATE TABLE types.texts (id INT PRIMARY KEY, t TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, "
      "g VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, l VARCHAR(20) CHARACTER SET latin1)",
      "INSERT INTO types.texts VALUES (1, '😀🐬 emoji 𝄞', 'Größe ÆØÅ 🐬', 'café é'), "
      "(2, 'quote '' backslash \\\\ newline \\n cr \\r nul \\0 ctrl-z \\Z', '', 'naïve'), (3, 'tab\\there', 'x', NULL)",
      // FLOAT values here have at most 6 significant digits; see CreateFloatTable() for the others.
      "CREATE TABLE types.numbers (id INT PRIMARY KEY, d DECIMAL(30,10), f FLOAT, dbl DOUBLE, u BIGINT UNSIGNED, "
      "s TINYINT)",
      "INSERT INTO types.numbers VALUES "
      "(1, -12345678901234567890.0123456789, 0.5, -2.718281828459045, 18446744073709551615, -128), "
      "(2, 0.0000000001, -1.5e30, 1.7976931348623157e308, 0, 127), "
      "(3, 99999999999999999999.9999999999, 0.25, 5e-324, 1, 0), "
      "(4, -0.0000000001, -0.125, 0.1, 9223372036854775808, -1), (5, NULL, NULL, NULL, NULL, NULL)",
      // Written in a non-UTC session: TIMESTAMP stores UTC, DATETIME stores what it was given.
      "CREATE TABLE types.times (id INT PRIMARY KEY, dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, d DATE, "
      "t TIME(3), y YEAR)",
      "SET SESSION time_zone = '+05:30'",
      "INSERT INTO types.times VALUES "
      "(1, '2024-03-10 02:30:00.123456', '2024-03-10 02:30:00.123456', '2024-02-29', '-838:59:59.000', 2155), "
      "(2, '0000-00-00 00:00:00', '1970-01-01 05:30:01.000001', '0000-00-00', '00:00:00.001', 1901), "
      "(3, '9999-12-31 23:59:59.999999', '2038-01-19 08:44:07.999999', '1000-01-01', '838:59:59.999', 0)",
      "SET SESSION time_zone = '-04:00'",
      "INSERT INTO types.times VALUES (4, '2024-11-03 01:30:00', '2024-11-03 01:30:00', '2024-11-03', '01:30', "
      "2024), (5, NULL, NULL, NULL, NULL, NULL)",
      "SET SESSION time_zone = SYSTEM",
      "CREATE TABLE types.json_docs (id INT PRIMARY KEY, doc JSON)",
      "INSERT INTO types.json_docs VALUES "
      "(1, '{\"a\": [1, 2.5, \"x\\\\\"y\", null, true], \"emoji\": \"🐬\", \"nested\": {\"k\": \"v\"}}'), "
      "(2, '[]'), (3, NULL)",
      "CREATE TABLE types.bits (id INT PRIMARY KEY, b1 BIT(1), b13 BIT(13), b64 BIT(64))",
      "INSERT INTO types.bits VALUES "
      "(1, b'1', b'1010101010101', b'1111111111111111111111111111111111111111111111111111111111111111'), "
      "(2, b'0', b'0', b'0'), (3, NULL, b'1000000000000', "
      "b'1000000000000000000000000000000000000000000000000000000000000000'), "
      "(4, b'1', b'0000000100111', b'0000000000000000000000000000000000000000000000000000000000100111')",
      "CREATE TABLE types.enums (id INT PRIMARY KEY, e ENUM('small', 'medium', 'large', 'x''y'), "
      "s SET('red', 'green', 'blue'))",
      "INSERT INTO types.enums VALUES (1, 'medium', 'red,blue'), (2, 'x''y', ''), (3, NULL, 'red,green,blue'), "
      "(4, 'small', NULL)",
      // The copy must skip generated columns; the target computes them itself.
      "CREATE TABLE types.generated (id INT PRIMARY KEY, price DECIMAL(10,2) NOT NULL, qty INT NOT NULL, "
      "total DECIMAL(12,2) AS (price * qty) STORED, label VARCHAR(60) AS (CONCAT('item-', id, ':', qty)) VIRTUAL, "
      "KEY (label))",
      "INSERT INTO types.generated (id, price, qty) SELECT seq, seq * 1.25, seq % 7 FROM seq_1_to_200",
      // Primary key (varchar, int): chunked by walking the key.
      "CREATE TABLE types.composite (region VARCHAR(20) NOT NULL, n INT NOT NULL, v VARCHAR(30), "
      "PRIMARY KEY (region, n))",
      "INSERT INTO types.composite SELECT ELT(1 + seq % 6, 'north', 'south', 'east', 'west', 'O''Brien', 'é-zone'), "
      "seq, CONCAT('v', seq) FROM seq_1_to_3000",
      // A case- and accent-insensitive VARCHAR primary key with quotes, backslashes and emoji in it.
      "CREATE TABLE types.walk (name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL "
      "PRIMARY KEY, n INT NOT NULL, v INT NOT NULL, note VARCHAR(30), UNIQUE KEY (n))",
      "INSERT INTO types.walk SELECT CONCAT(ELT(1 + seq % 7, 'alpha', 'Beta', 'ÉCOLE', 'école', '🐬', "
      "'back\\\\slash', 'quote'''), '-', LPAD(seq, 5, '0')), seq, seq, NULL FROM seq_1_to_3000",
      // No primary key, duplicate rows; and a unique key that allows NULLs (not usable to order rows).
      "CREATE TABLE types.nokey (a INT, b VARCHAR(10))",
      "INSERT INTO types.nokey VALUES (1, 'dup'), (1, 'dup'), (2, NULL), (2, NULL), (3, 'x')",
      "INSERT INTO types.nokey SELECT seq % 5, 'dup' FROM seq_1_to_100",
      "CREATE TABLE types.nullable_unique (a INT NULL, b INT, UNIQUE KEY (a))",
      "INSERT INTO types.nullable_unique VALUES (NULL, 1), (NULL, 1), (1, 2)",
      // No primary key but a NOT NULL unique key: ordered and chunked by it.
      "CREATE TABLE types.unique_only (code CHAR(8) NOT NULL, v INT, UNIQUE KEY (code))",
      "INSERT INTO types.unique_only SELECT LPAD(HEX(seq * 7), 8, 'x'), seq FROM seq_1_to_1200",
      // Integer keys at the ends of their types' ranges, spread over all of it.
      "CREATE TABLE types.signed_keys (id BIGINT PRIMARY KEY, v INT)",
      "INSERT INTO types.signed_keys SELECT CAST(-9223372036854775807 AS DECIMAL(20)) + (seq - 1) * 18446744073709551, "
      "seq "
      "FROM seq_1_to_1000",
      "INSERT INTO types.signed_keys VALUES (-9223372036854775808, 0), (9223372036854775807, 0), (0, 0)",
      "CREATE TABLE types.unsigned_keys (id BIGINT UNSIGNED PRIMARY KEY, v INT)",
      "INSERT INTO types.unsigned_keys SELECT seq * 18446744073709551, seq FROM seq_1_to_1000",
      "INSERT INTO types.unsigned_keys VALUES (0, 0), (18446744073709551615, 0)",
      // A TIMESTAMP key: its chunk bounds are compared as text in the snapshot's UTC session.
      "CREATE TABLE types.ts_keys (ts TIMESTAMP(6) NOT NULL PRIMARY KEY, v INT)",
      "INSERT INTO types.ts_keys SELECT FROM_UNIXTIME(1700000000 + seq * 3600 + seq / 1000000), seq "
      "FROM seq_1_to_1100",
      // Empty tables, with an integer and a VARCHAR key.
      "CREATE TABLE types.empty_int (id INT PRIMARY KEY, v INT)",
      "CREATE TABLE types.empty_text (name VARCHAR(10) PRIMARY KEY, v INT)",
      // Names that must be quoted everywhere, and an INVISIBLE column.
      "CREATE TABLE types.`group` (`key` INT NOT NULL PRIMARY KEY, `order` VARCHAR(20) NOT NULL, "
      "`desc col` INT, `select` INT INVISIBLE DEFAULT 7, KEY `index` (`order`))",
      "INSERT INTO types.`group` (`key`, `order`, `desc col`, `select`) SELECT seq, CONCAT('o', seq % 10), seq, seq "
      "FROM seq_1_to_1100",
      // Partitioned, with a secondary key.
      "CREATE TABLE types.parted (id INT NOT NULL, created DATE NOT NULL, v VARCHAR(20), PRIMARY KEY (id, created), "
      "KEY (v)) PARTITION BY RANGE (YEAR(created)) (PARTITION p2023 VALUES LESS THAN (2024), "
      "PARTITION p2024 VALUES LESS THAN (2025), PARTITION pmax VALUES LESS THAN MAXVALUE)",
      "INSERT INTO types.parted SELECT seq, '2023-06-01' + INTERVAL seq DAY, CONCAT('v', seq) FROM seq_1_to_1200",
  };
  for (const std::string& sql : statements) Exec(c, sql);
}

void CloneTest::CreateFloatTable() {
  db::Connection c = Connect(*source_);
  Exec(c, "CREATE DATABASE num");
  Exec(c, "CREATE TABLE num.floats (id INT PRIMARY KEY, f FLOAT, f_unsigned FLOAT UNSIGNED, dbl DOUBLE)");
  // FLOATs that need more than 6 significant digits (SELECT prints only 6).
  Exec(c,
       "INSERT INTO num.floats VALUES (1, 1.0000001, 1.0000001, 1.0000001), (2, 3.4028234e38, 123456.789, 0), "
       "(3, -1.17549435e-38, 0.33333334, 0.1), (4, 16777216, 16777215, 2), (5, 0.1, 0.1, 0.1), "
       "(6, -123.45679, 98765.43, -1)");
}

void CloneTest::CreateBigTable(uint64_t rows) {
  db::Connection c = Connect(*source_);
  Exec(c, "CREATE DATABASE big");
  Exec(c, "USE big");
  Exec(c,
       "CREATE TABLE big.items (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, "
       "pad CHAR(60) NOT NULL, KEY (k)) ENGINE=InnoDB");
  Exec(c, fmt::format("INSERT INTO big.items (k, c, pad) SELECT seq % 1000, CONCAT(MD5(seq), MD5(seq + 1)), MD5(seq) "
                      "FROM seq_1_to_{}",
                      rows));
}

std::vector<std::string> CloneTest::Schemas(db::Connection& conn) {
  return Rows(conn,
              "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN "
              "('mysql', 'sys', 'information_schema', 'performance_schema') ORDER BY SCHEMA_NAME");
}

// The columns of a table as a SELECT list that shows every bit of each value:
// CAST(f AS DOUBLE) for FLOAT and DOUBLE, whose text has only 6 (FLOAT) digits.
// `has_virtual` tells whether the table has a VIRTUAL generated column.
std::vector<std::string> CloneTest::ExactColumns(db::Connection& conn, const std::string& schema,
                                                 const std::string& table, bool& has_virtual) {
  auto columns = conn.Query(
      fmt::format("SELECT COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {} AND "
                  "TABLE_NAME = {} ORDER BY ORDINAL_POSITION",
                  conn.Quote(schema), conn.Quote(table)));
  has_virtual = false;
  if (!columns) {
    ADD_FAILURE() << columns.error().message();
    return {};
  }
  std::vector<std::string> out;
  for (const db::Row& c : columns->rows) {
    const std::string column = db::QuoteIdentifier(c[0].value_or(""));
    const std::string type = c[1].value_or("");
    has_virtual = has_virtual || c[2].value_or("").find("VIRTUAL") != std::string::npos;
    out.push_back(type == "float" || type == "double" ? "CAST(" + column + " AS DOUBLE)" : column);
  }
  return out;
}

// MariaDB's CHECKSUM TABLE is not reliable for a table with a VIRTUAL column:
// two tables with the same definition and the same rows may get different
// checksums (seen on 10.11.19, even for two tables filled the same way on one
// server). Such tables get a checksum computed by a query over every column.
std::string CloneTest::TableChecksum(db::Connection& conn, const std::string& schema, const std::string& table) {
  const std::string name = db::QuoteIdentifier(schema) + "." + db::QuoteIdentifier(table);
  bool has_virtual = false;
  const std::vector<std::string> columns = ExactColumns(conn, schema, table, has_virtual);
  if (!has_virtual) {
    auto r = conn.Query("CHECKSUM TABLE " + name);
    if (!r || r->rows.empty()) {
      ADD_FAILURE() << "CHECKSUM TABLE " << name << ": " << (r ? "no row" : r.error().message());
      return "<error>";
    }
    return Field(r->rows[0][1]);
  }
  std::string row;
  for (const std::string& c : columns) {
    row += fmt::format("{}IFNULL(HEX(CAST({} AS BINARY)), 'NULL')", row.empty() ? "" : ", '|', ", c);
  }
  return "rows " + Value(conn, fmt::format("SELECT CONCAT(COUNT(*), ' crc32 sum ', IFNULL(SUM(CRC32(CONCAT({}))), 0)) "
                                           "FROM {}",
                                           row, name));
}

std::map<std::string, std::string> CloneTest::Checksums(db::Connection& conn, const std::vector<std::string>& schemas) {
  std::map<std::string, std::string> out;
  auto tables = conn.Query(
      fmt::format("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
                  "TABLE_SCHEMA IN ({})",
                  InList(conn, schemas)));
  if (!tables) {
    ADD_FAILURE() << tables.error().message();
    return out;
  }
  for (const db::Row& t : tables->rows) {
    const std::string schema = t[0].value_or(""), table = t[1].value_or("");
    out[db::QuoteIdentifier(schema) + "." + db::QuoteIdentifier(table)] = TableChecksum(conn, schema, table);
  }
  return out;
}

std::map<std::string, std::string> CloneTest::Counts(db::Connection& conn, const std::vector<std::string>& schemas) {
  std::map<std::string, std::string> out;
  for (const std::string& table :
       Rows(conn, fmt::format("SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') FROM information_schema.TABLES "
                              "WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN ({})",
                              InList(conn, schemas)))) {
    out[table] = Value(conn, "SELECT COUNT(*) FROM " + table);
  }
  return out;
}

void CloneTest::WaitTargetCaughtUp(std::chrono::seconds timeout) {
  db::Connection source = Connect(*source_);
  db::Connection target = Connect(*target_);
  const std::string pos = Value(source, "SELECT @@GLOBAL.gtid_binlog_pos");
  ASSERT_EQ(Value(target, fmt::format("SELECT MASTER_GTID_WAIT('{}', {})", pos, timeout.count())), "0")
      << "the target did not apply the source's GTID " << pos << " within " << timeout.count()
      << " s; SHOW SLAVE STATUS: " << ::testing::PrintToString(Rows(target, "SHOW SLAVE STATUS"));
}

void CloneTest::ExpectSameData(const std::vector<std::string>& schemas) {
  db::Connection source = Connect(*source_);
  db::Connection target = Connect(*target_);
  const auto source_sums = Checksums(source, schemas);
  const auto target_sums = Checksums(target, schemas);
  EXPECT_FALSE(source_sums.empty());
  EXPECT_EQ(source_sums, target_sums);
  // Show the rows of a small table that differs, to tell which value was mangled.
  auto tables = source.Query(
      fmt::format("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
                  "TABLE_SCHEMA IN ({})",
                  InList(source, schemas)));
  ASSERT_TRUE(tables) << tables.error().message();
  for (const db::Row& t : tables->rows) {
    const std::string schema = t[0].value_or(""), table = t[1].value_or("");
    const std::string name = db::QuoteIdentifier(schema) + "." + db::QuoteIdentifier(table);
    auto it = target_sums.find(name);
    if (it == target_sums.end() || it->second == source_sums.at(name)) continue;
    if (std::stoull(Value(source, "SELECT COUNT(*) FROM " + name)) > 20) continue;
    bool has_virtual = false;
    std::string select;
    for (const std::string& c : ExactColumns(source, schema, table, has_virtual))
      select += (select.empty() ? "" : ", ") + c;
    select = fmt::format("SELECT {} FROM {}", select, name);
    ADD_FAILURE() << name << " differs. " << select << "\nsource rows:\n"
                  << ::testing::PrintToString(Rows(source, select)) << "\ntarget rows:\n"
                  << ::testing::PrintToString(Rows(target, select));
  }
  EXPECT_EQ(Counts(source, schemas), Counts(target, schemas));
}

}  // namespace cutover::testing::clone_tests
