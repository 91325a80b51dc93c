#include "clone/schema_copy.h"

#include <gtest/gtest.h>

namespace cutover::clone {
namespace {

TEST(SplitDeferredIndexesTest, MovesSecondaryKeysToAnAlter) {
  std::string create =
      "CREATE TABLE `sbtest1` (\n"
      "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
      "  `k` int(11) NOT NULL DEFAULT 0,\n"
      "  `c` char(120) NOT NULL DEFAULT '',\n"
      "  PRIMARY KEY (`id`),\n"
      "  KEY `k_1` (`k`),\n"
      "  UNIQUE KEY `uc` (`c`,`k`)\n"
      ") ENGINE=InnoDB DEFAULT CHARSET=latin1";
  EXPECT_EQ(SplitDeferredIndexes(create), "ADD KEY `k_1` (`k`), ADD UNIQUE KEY `uc` (`c`,`k`)");
  EXPECT_EQ(create,
            "CREATE TABLE `sbtest1` (\n"
            "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
            "  `k` int(11) NOT NULL DEFAULT 0,\n"
            "  `c` char(120) NOT NULL DEFAULT '',\n"
            "  PRIMARY KEY (`id`)\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=latin1");
}

TEST(SplitDeferredIndexesTest, KeepsTablesWithForeignKeysWhole) {
  const std::string original =
      "CREATE TABLE `child` (\n"
      "  `id` int(11) NOT NULL,\n"
      "  `parent` int(11) NOT NULL,\n"
      "  PRIMARY KEY (`id`),\n"
      "  KEY `parent` (`parent`),\n"
      "  CONSTRAINT `fk` FOREIGN KEY (`parent`) REFERENCES `parent` (`id`)\n"
      ") ENGINE=InnoDB";
  std::string create = original;
  EXPECT_EQ(SplitDeferredIndexes(create), "");
  EXPECT_EQ(create, original);
}

TEST(SplitDeferredIndexesTest, LeavesTablesWithoutSecondaryKeysAlone) {
  const std::string original =
      "CREATE TABLE `t` (\n"
      "  `id` int(11) NOT NULL,\n"
      "  `note` varchar(10) DEFAULT 'KEY `x`',\n"
      "  PRIMARY KEY (`id`),\n"
      "  FULLTEXT KEY `ft` (`note`)\n"
      ") ENGINE=InnoDB";
  std::string create = original;
  EXPECT_EQ(SplitDeferredIndexes(create), "");
  EXPECT_EQ(create, original);
}

}  // namespace
}  // namespace cutover::clone
