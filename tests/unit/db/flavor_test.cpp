#include "db/flavor.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cutover::db {
namespace {

struct VersionCase {
  std::string name;
  std::string input;
  Flavor flavor;
  int major, minor, patch;
};

TEST(ParseServerVersionTest, RealVersionStrings) {
  const std::vector<VersionCase> cases = {
      {"debian_mariadb", "10.11.19-MariaDB-0+deb12u1", Flavor::kMariaDB, 10, 11, 19},
      {"debian_mariadb_log", "10.11.19-MariaDB-0+deb12u1-log", Flavor::kMariaDB, 10, 11, 19},
      {"mariadb_compat_prefix", "5.5.5-10.11.6-MariaDB-log", Flavor::kMariaDB, 10, 11, 6},
      {"mariadb_11", "11.4.2-MariaDB", Flavor::kMariaDB, 11, 4, 2},
      {"mysql_plain", "8.0.36", Flavor::kMySQL, 8, 0, 36},
      {"mysql_log", "8.0.36-log", Flavor::kMySQL, 8, 0, 36},
      {"mysql_57_rds", "5.7.44-log", Flavor::kMySQL, 5, 7, 44},
      {"mysql_ubuntu", "8.0.39-0ubuntu0.22.04.1", Flavor::kMySQL, 8, 0, 39},
      {"mysql_5_5", "5.5.5-standalone", Flavor::kMySQL, 5, 5, 5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto v = ParseServerVersion(c.input);
    ASSERT_TRUE(v.has_value()) << v.error().message();
    EXPECT_EQ(v->flavor, c.flavor);
    EXPECT_EQ(v->major, c.major);
    EXPECT_EQ(v->minor, c.minor);
    EXPECT_EQ(v->patch, c.patch);
    EXPECT_EQ(v->raw, c.input);
  }
}

TEST(ParseServerVersionTest, RejectsStringsWithoutAVersion) {
  const std::vector<std::string> bad = {"", "MariaDB", "10", "10.11", "10.11.", "10.x.1", "v8.0.36",
                                        "8.0.36x", "10.11.1.2", "123456.0.0", "5.5.5-MariaDB"};
  for (const auto& input : bad) {
    SCOPED_TRACE(input);
    auto v = ParseServerVersion(input);
    ASSERT_FALSE(v.has_value());
    EXPECT_EQ(v.error().code(), ErrorCode::kMalformed);
    EXPECT_NE(v.error().message().find("major.minor.patch"), std::string::npos);
  }
}

TEST(ParseServerVersionTest, AtLeastComparesAllThreeParts) {
  auto v = ParseServerVersion("10.11.6-MariaDB");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->AtLeast(10, 11, 6));
  EXPECT_TRUE(v->AtLeast(10, 5));
  EXPECT_TRUE(v->AtLeast(9, 99, 99));
  EXPECT_FALSE(v->AtLeast(10, 11, 7));
  EXPECT_FALSE(v->AtLeast(11, 0));
}

}  // namespace
}  // namespace cutover::db
