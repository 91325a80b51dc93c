// MariaDB's protocol extensions through the proxy, from Connector/C: bulk
// execute (array binding) inserting, updating and deleting, with RETURNING,
// right after a session moved to another server; the progress reports of an
// ALTER TABLE reaching the client that asked for them; and the metadata cache
// (CACHE_METADATA), before and after a move.
#include <errmsg.h>
#include <mysql.h>

#include <array>
#include <atomic>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "c_client.h"
#include "proxy_fixture.h"

namespace cutover::testing {
namespace {

// A prepared statement executed with arrays of INT and of strings, one
// parameter each per placeholder (mysql_stmt_attr_set STMT_ATTR_ARRAY_SIZE).
class BulkStatement : public CStatement {
 public:
  BulkStatement(MYSQL* mysql, const std::string& sql) : CStatement(mysql) { Prepare(sql); }

  unsigned long long affected_rows() { return mysql_stmt_affected_rows(stmt_); }

  // Binds one array per parameter, in order: ints first, then strings.
  // REQUIRES: every array has the same length.
  bool Bind(std::vector<int> ints, std::vector<std::string> strings) {
    ints_ = std::move(ints);
    strings_ = std::move(strings);
    rows_ = static_cast<unsigned>(ints_.empty() ? strings_.size() : ints_.size());
    pointers_.clear();
    lengths_.clear();
    for (const std::string& s : strings_) {
      pointers_.push_back(s.data());
      lengths_.push_back(s.size());
    }
    binds_.assign((ints_.empty() ? 0 : 1) + (strings_.empty() ? 0 : 1), MYSQL_BIND{});
    size_t i = 0;
    if (!ints_.empty()) {
      binds_[i].buffer_type = MYSQL_TYPE_LONG;
      binds_[i++].buffer = ints_.data();
    }
    if (!strings_.empty()) {
      binds_[i].buffer_type = MYSQL_TYPE_STRING;
      binds_[i].buffer = pointers_.data();
      binds_[i].length = lengths_.data();
    }
    return mysql_stmt_attr_set(stmt_, STMT_ATTR_ARRAY_SIZE, &rows_) == 0 && mysql_stmt_bind_param(stmt_, binds_.data()) == 0;
  }
  bool Execute() { return mysql_stmt_execute(stmt_) == 0; }

  // The rows of a RETURNING id, v as "id|v;id|v".
  std::string FetchIdAndText() {
    int id = 0;
    char text[64];
    unsigned long length = 0;
    MYSQL_BIND result[2]{};
    result[0].buffer_type = MYSQL_TYPE_LONG;
    result[0].buffer = &id;
    result[1].buffer_type = MYSQL_TYPE_STRING;
    result[1].buffer = text;
    result[1].buffer_length = sizeof(text);
    result[1].length = &length;
    if (mysql_stmt_bind_result(stmt_, result) != 0) return "bind_result: " + error();
    std::string out;
    while (mysql_stmt_fetch(stmt_) == 0) out += fmt::format("{}{}|{}", out.empty() ? "" : ";", id, std::string(text, length));
    return out;
  }

 private:
  unsigned rows_ = 0;
  std::vector<int> ints_;
  std::vector<std::string> strings_;
  std::vector<const char*> pointers_;
  std::vector<unsigned long> lengths_;
  std::vector<MYSQL_BIND> binds_;
};

// A prepared statement of one INT parameter whose result rows are read as
// text, for the CACHE_METADATA tests.
class SelectStatement : public CStatement {
 public:
  SelectStatement(MYSQL* mysql, const std::string& sql) : CStatement(mysql) { Prepare(sql); }

  // Executes with `id` and returns the rows as "a|b;c|d" (columns as the
  // client's metadata says), or "ERR <errno> <message>".
  std::string Run(int id) {
    MYSQL_BIND param{};
    param.buffer_type = MYSQL_TYPE_LONG;
    param.buffer = &id;
    if (mysql_stmt_bind_param(stmt_, &param) != 0 || !Bound() || mysql_stmt_execute(stmt_) != 0) {
      const std::string failed = "ERR " + error();
      mysql_stmt_reset(stmt_);  // drops a result left unread, so the connection goes on
      return failed;
    }
    std::string out;
    int rc;
    while ((rc = mysql_stmt_fetch(stmt_)) == 0) {
      if (!out.empty()) out += ";";
      for (size_t i = 0; i < values_.size(); ++i) {
        if (i) out += "|";
        out += nulls_[i] ? std::string("NULL") : std::string(values_[i].data(), lengths_[i]);
      }
    }
    if (rc != MYSQL_NO_DATA) return "ERR " + error();
    return out;
  }

 private:
  // Binds a text buffer to each column the statement has now.
  bool Bound() {
    const unsigned columns = mysql_stmt_field_count(stmt_);
    values_.assign(columns, {});
    lengths_.assign(columns, 0);
    nulls_.assign(columns, 0);
    result_.assign(columns, MYSQL_BIND{});
    for (unsigned i = 0; i < columns; ++i) {
      result_[i].buffer_type = MYSQL_TYPE_STRING;
      result_[i].buffer = values_[i].data();
      result_[i].buffer_length = values_[i].size();
      result_[i].length = &lengths_[i];
      result_[i].is_null = &nulls_[i];
    }
    return columns == 0 || mysql_stmt_bind_result(stmt_, result_.data()) == 0;
  }

  std::vector<std::array<char, 64>> values_;
  std::vector<unsigned long> lengths_;
  std::vector<my_bool> nulls_;
  std::vector<MYSQL_BIND> result_;
};

// The MariaDB extended capabilities the proxy's greeting offered the client.
unsigned long long ExtendedServerCapabilities(MYSQL* mysql) {
  unsigned long long caps = 0;
  mariadb_get_infov(mysql, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &caps);
  return caps;
}

class MariaDbExtensionsTest : public ProxyTest {};

// With CACHE_METADATA the server sends a statement's column definitions on
// execute only when they changed; the proxy carries the capability, so a
// point select's answer is a quarter smaller, and follows the change.
TEST_F(MariaDbExtensionsTest, CachedMetadataSkipsDefinitionsAndFollowsAChange) {
  StartProxy(DefaultConfig());
  CClient c(proxy_->listen_port());
  ASSERT_TRUE(c.connected()) << c.error();
  ASSERT_TRUE(ExtendedServerCapabilities(c.get()) & (MARIADB_CLIENT_CACHE_METADATA >> 32));
  ASSERT_EQ(c.Query("CREATE TABLE cm (id INT PRIMARY KEY, v VARCHAR(20))"), "");
  ASSERT_EQ(c.Query("INSERT INTO cm VALUES (1, 'one'), (2, 'two')"), "");
  SelectStatement select(c.get(), "SELECT * FROM cm WHERE id = ?");
  ASSERT_TRUE(select.prepared()) << select.error();
  EXPECT_EQ(select.Run(1), "1|one");
  EXPECT_EQ(select.Run(2), "2|two");
  // The server sees the change and sends the new definitions: Connector/C
  // then refuses the old result binding (CR_NEW_STMT_METADATA), as it does
  // straight against the server; a new statement reads three columns.
  ASSERT_EQ(c.Query("ALTER TABLE cm ADD COLUMN w INT DEFAULT 7"), "");
  EXPECT_EQ(select.Run(1).substr(0, 8), fmt::format("ERR {}", CR_NEW_STMT_METADATA));
  SelectStatement again(c.get(), "SELECT * FROM cm WHERE id = ?");
  ASSERT_TRUE(again.prepared()) << again.error();
  EXPECT_EQ(again.Run(2), "2|two|7");
  EXPECT_EQ(again.Run(1), "1|one|7");
  // The proxy's own queries read text results with the flag byte too: here it
  // reads the list the client narrowed back (QueryValue) and widens it again.
  ASSERT_EQ(c.Query("SET SESSION session_track_system_variables = 'autocommit'"), "");
  EXPECT_EQ(c.Query("SELECT @@session_track_system_variables"), "*");
}

// Libmariadb refuses arrays ("Bulk operation" not supported) unless the
// server offers STMT_BULK_OPERATIONS, so each bulk here really went as
// COM_STMT_BULK_EXECUTE.
TEST_F(MariaDbExtensionsTest, BulkInsertUpdateAndDeleteWithArrays) {
  StartProxy(DefaultConfig());
  CClient c(proxy_->listen_port());
  ASSERT_TRUE(c.connected()) << c.error();
  const unsigned long long caps = ExtendedServerCapabilities(c.get());
  EXPECT_TRUE(caps & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) << caps;
  EXPECT_TRUE(caps & (MARIADB_CLIENT_PROGRESS >> 32)) << caps;
  EXPECT_TRUE(caps & (MARIADB_CLIENT_CACHE_METADATA >> 32)) << caps;
  ASSERT_EQ(c.Query("CREATE TABLE bk (id INT PRIMARY KEY, v VARCHAR(20))"), "");

  BulkStatement insert(c.get(), "INSERT INTO bk VALUES (?, ?)");
  ASSERT_TRUE(insert.prepared()) << insert.error();
  ASSERT_TRUE(insert.Bind({1, 2, 3, 4}, {"one", "two", "three", "four"})) << insert.error();
  ASSERT_TRUE(insert.Execute()) << insert.error();
  EXPECT_EQ(insert.affected_rows(), 4u);
  ASSERT_TRUE(insert.Bind({5, 6}, {"five", "six"})) << insert.error();
  ASSERT_TRUE(insert.Execute()) << insert.error();
  EXPECT_EQ(insert.affected_rows(), 2u);

  BulkStatement update(c.get(), "UPDATE bk SET v = CONCAT(v, '!') WHERE id = ?");
  ASSERT_TRUE(update.prepared()) << update.error();
  ASSERT_TRUE(update.Bind({2, 4, 6}, {})) << update.error();
  ASSERT_TRUE(update.Execute()) << update.error();
  EXPECT_EQ(update.affected_rows(), 3u);

  BulkStatement erase(c.get(), "DELETE FROM bk WHERE id = ?");
  ASSERT_TRUE(erase.prepared()) << erase.error();
  ASSERT_TRUE(erase.Bind({1, 3}, {})) << erase.error();
  ASSERT_TRUE(erase.Execute()) << erase.error();
  EXPECT_EQ(erase.affected_rows(), 2u);

  EXPECT_EQ(c.Query("SELECT id, v FROM bk ORDER BY id"), "2|two!;4|four!;5|five;6|six!");
  // A duplicate key fails the bulk with the server's error; the session goes on.
  ASSERT_TRUE(insert.Bind({2, 7}, {"dup", "seven"})) << insert.error();
  EXPECT_FALSE(insert.Execute());
  EXPECT_EQ(insert.error().substr(0, 4), "1062") << insert.error();
  EXPECT_EQ(c.Query("SELECT COUNT(*) FROM bk"), "4");
}

// The server answers a bulk INSERT ... RETURNING with one result set holding
// every row's values.
TEST_F(MariaDbExtensionsTest, BulkInsertReturning) {
  StartProxy(DefaultConfig());
  CClient c(proxy_->listen_port());
  ASSERT_TRUE(c.connected()) << c.error();
  ASSERT_EQ(c.Query("CREATE TABLE br (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))"), "");
  BulkStatement insert(c.get(), "INSERT INTO br (v) VALUES (?) RETURNING id, v");
  ASSERT_TRUE(insert.prepared()) << insert.error();
  ASSERT_TRUE(insert.Bind({}, {"a", "bb", "ccc"})) << insert.error();
  ASSERT_TRUE(insert.Execute()) << insert.error();
  EXPECT_EQ(insert.FetchIdAndText(), "1|a;2|bb;3|ccc");
  ASSERT_TRUE(insert.Execute()) << insert.error();  // without binding again: no types sent
  EXPECT_EQ(insert.FetchIdAndText(), "4|a;5|bb;6|ccc");
  EXPECT_EQ(c.Query("SELECT COUNT(*), @@server_id FROM br"), "6|1");
}

std::atomic<int> progress_reports{0};

void CountProgress(const MYSQL*, unsigned int, unsigned int, double, const char*, unsigned int) { ++progress_reports; }

// An ALTER TABLE reports its progress every progress_report_time seconds to a
// client with a progress callback; the reports pass through, and the
// statement still succeeds.
TEST_F(MariaDbExtensionsTest, ProgressReportsOfAnAlterTableReachTheClient) {
  StartProxy(DefaultConfig());
  MYSQL* mysql = mysql_init(nullptr);
  ASSERT_EQ(mysql_optionsv(mysql, MYSQL_PROGRESS_CALLBACK, CountProgress), 0);
  ASSERT_NE(mysql_real_connect(mysql, "127.0.0.1", kAppUser, kAppPassword, "app", proxy_->listen_port(), nullptr, 0),
            nullptr)
      << mysql_error(mysql);
  for (const char* sql : {"SET SESSION progress_report_time = 1",
                          "CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=Aria",
                          "INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_400000"}) {
    ASSERT_EQ(mysql_query(mysql, sql), 0) << sql << ": " << mysql_error(mysql);
  }
  // The first report comes after a second: on a fast machine one ALTER may be
  // quicker than that, so it is run again (at most 5 times).
  progress_reports = 0;
  for (int i = 0; i < 5 && progress_reports == 0; ++i) {
    ASSERT_EQ(mysql_query(mysql, "ALTER TABLE big FORCE"), 0) << mysql_error(mysql);
  }
  EXPECT_GT(progress_reports.load(), 0);
  ASSERT_EQ(mysql_query(mysql, "SELECT COUNT(*) FROM big"), 0) << mysql_error(mysql);
  MYSQL_RES* res = mysql_store_result(mysql);
  ASSERT_NE(res, nullptr);
  EXPECT_STREQ(mysql_fetch_row(res)[0], "400000");
  mysql_free_result(res);
  mysql_close(mysql);
}

// A bulk execute right after the session moved to another server, without
// binding again: libmariadb sends no parameter types, which the new server's
// statement never got; the proxy sends the ones it recorded.
class MariaDbExtensionsMoveTest : public ProxyAndTargetTest {};

// After a move, the new server's re-prepared statement sends no definitions
// on its first execute (it sent them to the proxy at prepare): the client's
// cached ones stand, which is right while the columns are the same.
TEST_F(MariaDbExtensionsMoveTest, CachedMetadataStatementsRunOnAfterAMove) {
  StartProxy(DefaultConfig());
  CClient c(proxy_->listen_port());
  ASSERT_TRUE(c.connected()) << c.error();
  const std::string create = "CREATE TABLE IF NOT EXISTS app.cmv (id INT PRIMARY KEY, v VARCHAR(20))";
  ASSERT_EQ(c.Query(create), "");
  ASSERT_EQ(c.Query("INSERT INTO cmv VALUES (1, 'source')"), "");
  auto target_root = target_->ConnectRoot();
  ASSERT_TRUE(target_root) << target_root.error().message();
  ASSERT_TRUE(target_root->Execute(create));
  ASSERT_TRUE(target_root->Execute("INSERT INTO app.cmv VALUES (1, 'target')"));

  SelectStatement select(c.get(), "SELECT id, v, @@server_id FROM cmv WHERE id = ?");
  ASSERT_TRUE(select.prepared()) << select.error();
  EXPECT_EQ(select.Run(1), "1|source|1");
  MoveEverySessionToTarget();
  EXPECT_EQ(select.Run(1), "1|target|2");
  EXPECT_EQ(select.Run(1), "1|target|2");
}

// The other case: the columns changed (DDL) after the client last received
// them, and the new server re-prepared the statement with the new ones. Its
// execute sends no definitions, and the client would decode the new rows with
// the old ones; the proxy refuses that answer: the client gets an error and
// the session closes. Other sessions go on.
TEST_F(MariaDbExtensionsMoveTest, StatementWhoseColumnsChangedBeforeTheMoveClosesItsSessionWithAClearError) {
  StartProxy(DefaultConfig());
  const std::string create = "CREATE TABLE IF NOT EXISTS app.cmd (id INT PRIMARY KEY, v VARCHAR(20))";
  auto target_root = target_->ConnectRoot();
  ASSERT_TRUE(target_root) << target_root.error().message();
  ASSERT_TRUE(target_root->Execute(create));
  ASSERT_TRUE(target_root->Execute("INSERT INTO app.cmd VALUES (1, 'target')"));
  CClient stale(proxy_->listen_port());
  CClient fine(proxy_->listen_port());
  ASSERT_TRUE(stale.connected()) << stale.error();
  ASSERT_TRUE(fine.connected()) << fine.error();
  ASSERT_EQ(stale.Query(create), "");
  ASSERT_EQ(stale.Query("INSERT INTO cmd VALUES (1, 'source')"), "");

  SelectStatement changed(stale.get(), "SELECT * FROM cmd WHERE id = ?");
  ASSERT_TRUE(changed.prepared()) << changed.error();
  EXPECT_EQ(changed.Run(1), "1|source");
  SelectStatement unchanged(fine.get(), "SELECT v FROM cmd WHERE id = ?");
  ASSERT_TRUE(unchanged.prepared()) << unchanged.error();
  EXPECT_EQ(unchanged.Run(1), "source");
  // On the new server only, so the old one never tells the client.
  ASSERT_TRUE(target_root->Execute("ALTER TABLE app.cmd ADD COLUMN w INT DEFAULT 7"));

  MoveEverySessionToTarget(/*moved=*/2);
  EXPECT_EQ(unchanged.Run(1), "target");
  const std::string refused = changed.Run(1);
  EXPECT_NE(refused.find("result columns are not the ones this client holds"), std::string::npos) << refused;
  EXPECT_NE(stale.Query("SELECT 1"), "1");  // closed
}

TEST_F(MariaDbExtensionsMoveTest, BulkRightAfterAMoveWithoutRebinding) {
  StartProxy(DefaultConfig());
  CClient c(proxy_->listen_port());
  ASSERT_TRUE(c.connected()) << c.error();
  const std::string create = "CREATE TABLE IF NOT EXISTS app.mv (id INT PRIMARY KEY, v VARCHAR(20))";
  ASSERT_EQ(c.Query(create), "");
  auto target_root = target_->ConnectRoot();
  ASSERT_TRUE(target_root) << target_root.error().message();
  ASSERT_TRUE(target_root->Execute(create));

  BulkStatement insert(c.get(), "INSERT INTO mv VALUES (?, ?) RETURNING id, @@server_id");
  ASSERT_TRUE(insert.prepared()) << insert.error();
  ASSERT_TRUE(insert.Bind({1, 2}, {"a", "b"})) << insert.error();
  ASSERT_TRUE(insert.Execute()) << insert.error();
  EXPECT_EQ(insert.FetchIdAndText(), "1|1;2|1");

  MoveEverySessionToTarget();

  // Same values, new rows: the target got none of the source's.
  ASSERT_TRUE(insert.Execute()) << insert.error();
  EXPECT_EQ(insert.FetchIdAndText(), "1|2;2|2");
  ASSERT_TRUE(insert.Bind({3}, {"c"})) << insert.error();
  ASSERT_TRUE(insert.Execute()) << insert.error();
  EXPECT_EQ(insert.FetchIdAndText(), "3|2");
  EXPECT_EQ(c.Query("SELECT GROUP_CONCAT(id, v ORDER BY id), @@server_id FROM mv"), "1a,2b,3c|2");
}

}  // namespace
}  // namespace cutover::testing
