// replication::StopAndForgetReplica and StartReplica against replica metadata
// a crash left half-written: a real mariadbd whose master.info is garbage.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "proxy_fixture.h"
#include "replication/replica.h"

namespace cutover::testing {
namespace {

// What a server killed inside CHANGE MASTER can leave behind: an unreadable
// master.info. SHOW SLAVE STATUS is then empty and CHANGE MASTER fails with
// 1201 until RESET SLAVE ALL.
TEST(ReplicationMetadataTest, GarbageMasterInfoIsClearedByTeardownAndSetup) {
  std::unique_ptr<local::LocalServer> server = StartServer(3, "replica");
  ASSERT_TRUE(server);
  const replication::SourceAddress nowhere{"127.0.0.1", 1, "repl", "secret"};
  {
    auto conn = server->ConnectRoot();
    ASSERT_TRUE(conn) << conn.error().message();
    ASSERT_TRUE(replication::StartReplica(*conn, nowhere, ""));
    ASSERT_TRUE(conn->Execute("STOP SLAVE"));
  }
  ASSERT_TRUE(server->Stop());
  std::ofstream(server->datadir() + "/master.info", std::ios::trunc) << "garbage\n";
  ASSERT_TRUE(server->Restart());

  auto conn = server->ConnectRoot();
  ASSERT_TRUE(conn) << conn.error().message();
  auto status = replication::ReadReplicaStatus(*conn);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_FALSE(status->configured) << "an unreadable master.info hides from SHOW SLAVE STATUS";
  Status plain_change = conn->Execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=1, MASTER_USER='x'");
  ASSERT_FALSE(plain_change) << "MariaDB accepted CHANGE MASTER over a garbage master.info; the test no longer "
                                "reproduces the crash";
  EXPECT_EQ(plain_change.error().server_errno(), 1201) << plain_change.error().message();

  // Setup copes by itself: it resets and retries once.
  Status started = replication::StartReplica(*conn, nowhere, "");
  ASSERT_TRUE(started) << started.error().message();
  status = replication::ReadReplicaStatus(*conn);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_TRUE(status->configured);

  // Teardown over garbage again: forgotten, and a later setup works first time.
  ASSERT_TRUE(conn->Execute("STOP SLAVE"));
  ASSERT_TRUE(server->Stop());
  std::ofstream(server->datadir() + "/master.info", std::ios::trunc) << "garbage\n";
  ASSERT_TRUE(server->Restart());
  auto again = server->ConnectRoot();
  ASSERT_TRUE(again) << again.error().message();
  Status forgot = replication::StopAndForgetReplica(*again);
  ASSERT_TRUE(forgot) << forgot.error().message();
  Status changed = again->Execute("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=1, MASTER_USER='x'");
  EXPECT_TRUE(changed) << changed.error().message();
}

}  // namespace
}  // namespace cutover::testing
