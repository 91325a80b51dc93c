#include "proxy/session_state.h"

#include <gtest/gtest.h>

namespace cutover::proxy {
namespace {

struct PinCase {
  const char* name;
  const char* sql;
  uint32_t pins;
  bool unlocks = false;
};

const PinCase kPinCases[] = {
    {"plain select", "SELECT * FROM t WHERE a = 1", 0},
    {"temporary table", "CREATE TEMPORARY TABLE tmp (id INT)", kPinTemporaryTable},
    {"temporary table, lower case", "create temporary table if not exists tmp (id int)", kPinTemporaryTable},
    {"create or replace temporary", "CREATE OR REPLACE TEMPORARY TABLE x SELECT 1", kPinTemporaryTable},
    {"drop temporary table pins nothing", "DROP TEMPORARY TABLE tmp", 0},
    {"lock tables", "LOCK TABLES t WRITE", kPinLockTables},
    {"lock table singular", "lock table t read", kPinLockTables},
    {"unlock tables", "UNLOCK TABLES", 0, true},
    {"select for update is no pin", "SELECT * FROM t FOR UPDATE", 0},
    {"lock in share mode is no pin", "SELECT * FROM t LOCK IN SHARE MODE", 0},
    {"get_lock", "SELECT GET_LOCK('job', 10)", kPinNamedLock},
    {"user variable set", "SET @x = 1", kPinUserVariable},
    {"user variable assign in select", "SELECT @rank := @rank + 1 FROM t", kPinUserVariable},
    {"user variable into", "SELECT c INTO @c FROM t LIMIT 1", kPinUserVariable},
    {"system variable is no pin", "SELECT @@session.sql_mode, @@global.read_only", 0},
    {"set session variable is no pin", "SET SESSION sql_mode = 'ANSI'", 0},
    {"at sign in a string", "SELECT '@x', \"@y\", `@z` FROM t", 0},
    {"escaped quote in a string", "SELECT 'it\\'s @x' FROM t", 0},
    {"doubled quote in a string", "SELECT 'it''s @x' FROM t", 0},
    {"account name", "CREATE USER 'bob'@'%' IDENTIFIED BY 'pw'", 0},
    {"unquoted account name", "GRANT SELECT ON *.* TO bob@localhost", 0},
    {"comment", "SELECT 1 /* CREATE TEMPORARY TABLE @x */ -- GET_LOCK(\n", 0},
    {"hash comment", "SELECT 1 # @x\n", 0},
    {"executable comment is code", "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */", kPinUserVariable},
    {"sql prepare", "PREPARE s FROM 'SELECT 1'", kPinSqlPrepare},
    {"prepare after semicolon", "SELECT 1; PREPARE s FROM 'SELECT 1'", kPinSqlPrepare},
    {"column named prepare", "SELECT prepare FROM t", 0},
    {"two pins in a multi-statement", "SET @a = 1; CREATE TEMPORARY TABLE t (i INT)", kPinUserVariable | kPinTemporaryTable},
};

TEST(ScanQueryForPinsTest, NamedCases) {
  for (const auto& c : kPinCases) {
    const PinScan scan = ScanQueryForPins(c.sql);
    EXPECT_EQ(scan.add, c.pins) << c.name << ": " << c.sql;
    EXPECT_EQ(scan.unlocks_tables, c.unlocks) << c.name;
  }
}

TEST(ScanQueryForPinsTest, TruncatedQueriesNeverCrash) {
  for (const auto& c : kPinCases) {
    const std::string sql = c.sql;
    for (size_t n = 0; n <= sql.size(); ++n) (void)ScanQueryForPins(std::string_view(sql).substr(0, n));
  }
}

TEST(SessionStateTest, PinsAreStickyUntilUnlockOrReset) {
  SessionState s;
  s.ApplyPinScan(ScanQueryForPins("LOCK TABLES t WRITE"));
  s.ApplyPinScan(ScanQueryForPins("SET @x = 1"));
  EXPECT_EQ(s.pins(), uint32_t(kPinLockTables | kPinUserVariable));
  EXPECT_EQ(DescribePins(s.pins()), "LOCK TABLES, user variable");
  s.ApplyPinScan(ScanQueryForPins("UNLOCK TABLES"));
  EXPECT_EQ(s.pins(), uint32_t(kPinUserVariable));
  s.Reset();
  EXPECT_EQ(s.pins(), 0u);
}

TEST(SessionStateTest, OpenCursorPinsUntilClosed) {
  SessionState s;
  const uint32_t id = s.AddStatement(PreparedStatement{"SELECT 1", 7, 0, 1});
  PreparedStatement* st = s.FindStatement(id);
  ASSERT_NE(st, nullptr);
  s.SetCursorOpen(*st, true);
  EXPECT_EQ(s.pins(), uint32_t(kPinCursor));
  s.RemoveStatement(id);
  EXPECT_EQ(s.pins(), 0u);
  EXPECT_EQ(s.FindStatement(id), nullptr);
}

TEST(SessionStateTest, StatementIdsAreTheProxysOwn) {
  SessionState s;
  const uint32_t a = s.AddStatement(PreparedStatement{"SELECT 1", 100});
  const uint32_t b = s.AddStatement(PreparedStatement{"SELECT 2", 5});
  EXPECT_NE(a, b);
  EXPECT_EQ(s.FindStatement(a)->backend_id, 100u);
  EXPECT_EQ(s.FindStatement(b)->sql, "SELECT 2");
  EXPECT_EQ(s.FindStatement(12345), nullptr);
}

TEST(SessionStateTest, TrackedChangesBecomeOneRestoreStatement) {
  SessionState s;
  protocol::SessionStateChanges changes;
  changes.system_variables = {{"sql_mode", "ANSI_QUOTES"},
                              {"time_zone", "+05:30"},
                              {"wait_timeout", "1234"},
                              {"autocommit", "OFF"},
                              {"session_track_schema", "ON"},  // the proxy's own: not restored
                              {"last_gtid", "0-1-5"},          // read-only: not restored
                              {"character_set_client", "it's\\odd"}};
  changes.schema = "shop";
  s.ApplyChanges(changes);
  EXPECT_EQ(s.schema(), "shop");
  EXPECT_EQ(s.RestoreVariablesSql(false),
            "SET SESSION `autocommit` = 'OFF', SESSION `character_set_client` = 'it''s\\\\odd', "
            "SESSION `sql_mode` = 'ANSI_QUOTES', SESSION `time_zone` = '+05:30', SESSION `wait_timeout` = 1234");
  EXPECT_EQ(s.RestoreVariablesSql(true).find("'it''s\\odd'") != std::string::npos, true);
  // A later change of the same variable wins.
  protocol::SessionStateChanges later;
  later.system_variables = {{"time_zone", "SYSTEM"}};
  s.ApplyChanges(later);
  EXPECT_NE(s.RestoreVariablesSql(false).find("`time_zone` = 'SYSTEM'"), std::string::npos);
}

// MariaDB Connector/J (rewriteBatchedStatements) sets
// session_track_system_variables = 'auto_increment_increment' at connect.
TEST(SessionStateTest, ClientThatNarrowsTrackingIsShownOnlyWhatItNamed) {
  SessionState s;
  EXPECT_FALSE(s.client_tracking().has_value());
  EXPECT_TRUE(s.SetClientTracking("auto_increment_increment, Time_Zone")) << "the backend must be set back to '*'";
  ASSERT_TRUE(s.client_tracking().has_value());
  EXPECT_EQ(*s.client_tracking(), (std::vector<std::string>{"auto_increment_increment", "time_zone"}));

  // The proxy still records everything...
  protocol::SessionStateChanges changes;
  changes.system_variables = {{"sql_mode", "ANSI_QUOTES"}, {"time_zone", "+05:30"}};
  s.ApplyChanges(changes);
  EXPECT_NE(s.RestoreVariablesSql(false).find("`sql_mode` = 'ANSI_QUOTES'"), std::string::npos);
  // ...and the client sees only what it named.
  EXPECT_TRUE(s.FilterForClient(changes));
  EXPECT_EQ(changes.system_variables, (std::vector<std::pair<std::string, std::string>>{{"time_zone", "+05:30"}}));
  protocol::SessionStateChanges untracked;
  untracked.system_variables = {{"sql_mode", "ANSI_QUOTES"}};
  EXPECT_FALSE(s.FilterForClient(untracked)) << "nothing left: the block goes";
  untracked.system_variables = {{"sql_mode", "ANSI_QUOTES"}};
  untracked.schema = "shop";
  EXPECT_TRUE(s.FilterForClient(untracked)) << "the schema is not a variable";

  // '*' again, or an empty list, or a reset.
  EXPECT_FALSE(s.SetClientTracking("*"));
  EXPECT_FALSE(s.client_tracking().has_value());
  EXPECT_TRUE(s.SetClientTracking(""));
  EXPECT_TRUE(s.client_tracking()->empty());
  s.Reset();
  EXPECT_FALSE(s.client_tracking().has_value());
}

TEST(SessionStateTest, StatementsThatNameTheTrackingListAreNoticed) {
  EXPECT_TRUE(MentionsSessionTracking("set SESSION_TRACK_SYSTEM_VARIABLES = 'x'"));
  EXPECT_TRUE(MentionsSessionTracking("SET autocommit=1, @@session.session_track_system_variables = CONCAT(a, b)"));
  EXPECT_FALSE(MentionsSessionTracking("SET session_track_schema = 0"));
  EXPECT_FALSE(MentionsSessionTracking(""));
}

TEST(SessionStateTest, NothingToRestoreGivesNoStatement) {
  SessionState s;
  EXPECT_EQ(s.RestoreVariablesSql(false), "");
}

}  // namespace
}  // namespace cutover::proxy
