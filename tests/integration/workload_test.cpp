// The proof workload against a real mariadbd: a clean run passes its own
// check, and the check catches an acknowledged append that disappeared and a
// bank total that changed; killed connections are counted and reopened.
#include "workload/workload.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "proxy_fixture.h"

namespace cutover::workload {
namespace {

// Inside a gtest fixture, plain Setup() names gtest's misspelling trap: call workload::Setup().
class WorkloadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = cutover::testing::StartServer(41, "workload");
    if (server_) cutover::testing::CreateAppUser(*server_);
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override { ASSERT_TRUE(server_) << "the server did not start"; }

  static db::Endpoint AppEndpoint() {
    return {server_->host(), server_->port(), cutover::testing::kAppUser, cutover::testing::kAppPassword};
  }
  // Options for 4 clients in a schema of this test's own.
  static WorkloadOptions Options(const std::string& schema) {
    WorkloadOptions o;
    o.endpoint = AppEndpoint();
    o.clients = 4;
    o.schema = schema;
    o.accounts = 20;
    return o;
  }
  static void RunFor(Workload& w, std::chrono::milliseconds how_long) {
    std::this_thread::sleep_for(how_long);
    w.Stop();
  }
  static void Root(const std::string& sql, uint64_t expect_rows = 1) {
    auto root = server_->ConnectRoot();
    ASSERT_TRUE(root) << root.error().message();
    ASSERT_TRUE(root->Execute(sql)) << sql;
    EXPECT_EQ(root->affected_rows(), expect_rows) << sql;
  }

  static inline std::unique_ptr<local::LocalServer> server_;
};

TEST_F(WorkloadTest, CleanRunPassesItsCheck) {
  WorkloadOptions o = Options("wl_clean");
  o.duration = std::chrono::seconds(2);
  ASSERT_TRUE(workload::Setup(AppEndpoint(), o));
  Workload w(o);
  ASSERT_TRUE(w.Start());
  for (int i = 0; i < 200 && w.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(w.running()) << "the clients should end after --duration";
  EXPECT_GT(w.operations(), 0u);

  auto report = w.Check(AppEndpoint());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->ok()) << FormatSummary(*report);
  EXPECT_TRUE(report->errors.empty());
  EXPECT_GT(report->appends, 0u);
  EXPECT_GT(report->transfers, 0u);
  EXPECT_GT(report->reads, 0u);
  EXPECT_EQ(report->operations, report->appends + report->transfers + report->reads);
  EXPECT_EQ(report->appends_acknowledged, report->appends);
  EXPECT_EQ(report->appends_missing, 0u);
  EXPECT_EQ(report->bank_total_expected, 20 * 1000);
  EXPECT_EQ(report->bank_total_found, 20 * 1000);
  EXPECT_GE(report->windows.size(), 19u);
  EXPECT_LE(report->windows.size(), 21u);
  EXPECT_GT(report->longest_op_ms, 0);
  EXPECT_GE(report->longest_op_ms, report->p99_ms);

  // A second run on the same schema without Setup numbers its appends above
  // the first run's and checks only its own.
  o.duration = std::chrono::milliseconds(300);
  Workload again(o);
  ASSERT_TRUE(again.Start());
  for (int i = 0; i < 100 && again.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto second = again.Check(AppEndpoint());
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE(second->ok()) << FormatSummary(*second);
  EXPECT_GT(second->appends, 0u);
  EXPECT_EQ(second->appends_acknowledged, second->appends);
}

TEST_F(WorkloadTest, DeletedAcknowledgedAppendIsMissing) {
  WorkloadOptions o = Options("wl_missing");
  o.duration = std::chrono::milliseconds(0);  // until Stop()
  o.rate = 400;
  ASSERT_TRUE(workload::Setup(AppEndpoint(), o));
  Workload w(o);
  ASSERT_TRUE(w.Start());
  RunFor(w, std::chrono::seconds(1));
  EXPECT_FALSE(w.running());
  const WorkloadReport seen = w.Report();
  ASSERT_TRUE(seen.errors.empty());
  // Paced: never more than one operation per slot, even to catch up.
  EXPECT_LE(seen.operations, static_cast<uint64_t>(400 * seen.duration_s) + 4);
  EXPECT_GE(seen.operations, static_cast<uint64_t>(400 * seen.duration_s * 0.5));

  Root("DELETE FROM wl_missing.appends ORDER BY client, seq LIMIT 1");
  auto report = w.Check(AppEndpoint());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->appends_missing, 1u);
  EXPECT_EQ(report->appends_duplicated, 0u);
  EXPECT_TRUE(report->bank_intact());
  EXPECT_FALSE(report->ok());
  EXPECT_NE(FormatSummary(*report).find("missing: 1"), std::string::npos);
}

TEST_F(WorkloadTest, ChangedBalanceIsCaught) {
  WorkloadOptions o = Options("wl_bank");
  o.duration = std::chrono::milliseconds(500);
  ASSERT_TRUE(workload::Setup(AppEndpoint(), o));
  Workload w(o);
  ASSERT_TRUE(w.Start());
  RunFor(w, std::chrono::milliseconds(600));
  Root("UPDATE wl_bank.accounts SET balance = balance + 7 WHERE id = 1");
  auto report = w.Check(AppEndpoint());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->bank_total_expected, 20000);
  EXPECT_EQ(report->bank_total_found, 20007);
  EXPECT_EQ(report->appends_missing, 0u);
  EXPECT_FALSE(report->ok());
}

TEST_F(WorkloadTest, KilledConnectionsAreCountedAndReopened) {
  WorkloadOptions o = Options("wl_kill");
  o.duration = std::chrono::milliseconds(0);
  ASSERT_TRUE(workload::Setup(AppEndpoint(), o));
  Workload w(o);
  ASSERT_TRUE(w.Start());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  {
    auto root = server_->ConnectRoot();
    ASSERT_TRUE(root) << root.error().message();
    auto ids = root->Query("SELECT id FROM information_schema.processlist WHERE db = 'wl_kill'");
    ASSERT_TRUE(ids) << ids.error().message();
    EXPECT_EQ(ids->rows.size(), 4u);
    for (const auto& row : ids->rows) (void)root->Execute(fmt::format("KILL CONNECTION {}", *row[0]));
  }
  const uint64_t ops_at_kill = w.operations();
  RunFor(w, std::chrono::milliseconds(700));
  EXPECT_GT(w.operations(), ops_at_kill) << "clients should reconnect and go on";

  auto report = w.Check(AppEndpoint());
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_FALSE(report->errors.empty()) << "a killed connection is an error the clients saw";
  EXPECT_LE(report->error_count(), 4u);  // one per killed connection
  EXPECT_EQ(report->appends_missing, 0u);
  EXPECT_EQ(report->appends_duplicated, 0u);
  EXPECT_EQ(report->appends_unexpected, 0u);
  EXPECT_TRUE(report->bank_intact());
  EXPECT_FALSE(report->ok());
}

TEST_F(WorkloadTest, StartRefusesASchemaNotSetUp) {
  Workload w(Options("wl_never_set_up"));
  Status st = w.Start();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("--setup"), std::string::npos) << st.error().message();
  EXPECT_FALSE(w.running());
}

}  // namespace
}  // namespace cutover::workload
