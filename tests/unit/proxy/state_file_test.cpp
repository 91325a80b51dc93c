#include "proxy/state_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace cutover::proxy {
namespace {

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cutover-state-file-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "proxy.state").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& text) { std::ofstream(path_) << text; }

  std::filesystem::path dir_;
  std::string path_;
};

MoveLease SampleLease() {
  MoveLease lease;
  lease.from = {"10.0.0.5", 3306};
  lease.to = {"10.0.0.6", 3307};
  lease.from_was_read_only = false;
  lease.from_connection_ids = {41, 42};
  lease.to_connection_ids = {7};
  lease.duration = std::chrono::milliseconds(16000);
  return lease;
}

TEST_F(StateFileTest, MissingFileIsAnEmptyState) {
  auto state = LoadProxyState(path_);
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_FALSE(state->primary);
  EXPECT_FALSE(state->move);
}

TEST_F(StateFileTest, PrimaryAloneRoundTrips) {
  ASSERT_TRUE(SaveProxyState(path_, {HostPort{"127.0.0.1", 3306}, std::nullopt}));
  auto state = LoadProxyState(path_);
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->primary, (HostPort{"127.0.0.1", 3306}));
  EXPECT_FALSE(state->move);
}

TEST_F(StateFileTest, MoveInProgressRoundTripsAndIsClearedByTheNextSave) {
  const MoveLease lease = SampleLease();
  ASSERT_TRUE(SaveProxyState(path_, {HostPort{"10.0.0.5", 3306}, lease}));
  auto state = LoadProxyState(path_);
  ASSERT_TRUE(state) << state.error().message();
  ASSERT_TRUE(state->move);
  EXPECT_EQ(state->move->from, lease.from);
  EXPECT_EQ(state->move->to, lease.to);
  EXPECT_EQ(state->move->from_was_read_only, lease.from_was_read_only);
  EXPECT_EQ(state->move->from_connection_ids, lease.from_connection_ids);
  EXPECT_EQ(state->move->to_connection_ids, lease.to_connection_ids);
  EXPECT_EQ(state->move->duration, lease.duration);

  ASSERT_TRUE(SaveProxyState(path_, {HostPort{"10.0.0.6", 3307}, std::nullopt}));
  state = LoadProxyState(path_);
  ASSERT_TRUE(state) << state.error().message();
  EXPECT_EQ(state->primary, (HostPort{"10.0.0.6", 3307}));
  EXPECT_FALSE(state->move) << "a finished move must not survive in the file";
}

// A state file the proxy cannot trust stops it from starting, naming the file
// and what is wrong: guessing the primary could send writes to a fenced server.
TEST_F(StateFileTest, DamagedFilesAreRefusedWithTheReason) {
  const struct {
    const char* text;
    const char* says;
  } cases[] = {
      {"", "not a cutover state file"},
      {"{\"primary\": ", "not a cutover state file"},
      {"[1, 2]", "not a cutover state file"},
      {"{}", "primary needs"},
      {"{\"primary\": {\"host\": \"h\", \"port\": 0}}", "primary needs"},
      {"{\"primary\": {\"host\": \"h\", \"port\": 70000}}", "primary needs"},
      {"{\"primary\": {\"host\": \"h\", \"port\": 1}, \"move\": 3}", "move must be an object"},
      {"{\"primary\": {\"host\": \"h\", \"port\": 1}, \"move\": {\"from\": {\"host\": \"a\", \"port\": 1}, "
       "\"to\": {\"host\": \"b\", \"port\": 2}, \"from_was_read_only\": false, \"lease_ms\": 5}}",
       "lease_ms"},
      {"{\"primary\": {\"host\": \"h\", \"port\": 1}, \"move\": {\"from\": {\"host\": \"a\", \"port\": 1}, "
       "\"to\": {\"host\": \"b\", \"port\": 2}, \"from_was_read_only\": false, \"lease_ms\": 500, "
       "\"to_connection_ids\": [-1]}}",
       "to_connection_ids"},
  };
  for (const auto& c : cases) {
    Write(c.text);
    auto state = LoadProxyState(path_);
    ASSERT_FALSE(state) << c.text;
    EXPECT_NE(state.error().message().find(path_), std::string::npos) << state.error().message();
    EXPECT_NE(state.error().message().find(c.says), std::string::npos) << c.text << ": " << state.error().message();
  }
}

TEST(MoveLeaseJsonTest, WhatIsWrittenIsWhatIsRead) {
  const MoveLease lease = SampleLease();
  auto back = ParseMoveLease(MoveLeaseJson(lease));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->from, lease.from);
  EXPECT_EQ(back->to, lease.to);
  EXPECT_EQ(back->from_connection_ids, lease.from_connection_ids);
  EXPECT_EQ(back->duration, lease.duration);
}

}  // namespace
}  // namespace cutover::proxy
