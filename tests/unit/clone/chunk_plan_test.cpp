#include "clone/chunk_plan.h"
#include "db/key_range.h"

#include <gtest/gtest.h>

namespace cutover::clone {
namespace {

using namespace std::string_view_literals;

db::TableInfo CompositeKeyTable() {
  db::TableInfo t;
  t.schema = "shop";
  t.name = "order items";
  t.columns = {{.name = "region", .data_type = "varchar", .kind = db::ValueKind::kBytes, .nullable = false},
               {.name = "id", .data_type = "int", .kind = db::ValueKind::kNumber, .nullable = false},
               {.name = "total", .data_type = "decimal", .kind = db::ValueKind::kNumber},
               {.name = "doubled", .data_type = "decimal", .kind = db::ValueKind::kNumber, .generated = true}};
  t.key_columns = {0, 1};
  t.key_name = "PRIMARY";
  return t;
}

TEST(KeyCompareTest, SingleColumn) {
  db::TableInfo t = CompositeKeyTable();
  t.key_columns = {1};
  EXPECT_EQ(db::KeyCompare(t, {"42"sv}, "<"), "`id` < 42");
}

TEST(KeyCompareTest, TupleIsExpandedSoThatItIsARange) {
  const db::TableInfo t = CompositeKeyTable();
  EXPECT_EQ(db::KeyCompare(t, {"eu'"sv, "7"sv}, ">="), R"((`region` > 'eu\'' OR (`region` = 'eu\'' AND `id` >= 7)))");
  EXPECT_EQ(db::KeyCompare(t, {"eu"sv, "7"sv}, "<"), "(`region` < 'eu' OR (`region` = 'eu' AND `id` < 7))");
}

TEST(ChunkSelectTest, SkipsGeneratedColumnsAndForcesTheKey) {
  const db::TableInfo t = CompositeKeyTable();
  EXPECT_EQ(ChunkSelect(t, "`id` < 7"),
            "SELECT `region`,`id`,`total` FROM `shop`.`order items` FORCE INDEX (`PRIMARY`) WHERE `id` < 7");
  db::TableInfo no_key = t;
  no_key.key_columns.clear();
  no_key.key_name.clear();
  EXPECT_EQ(ChunkSelect(no_key, ""), "SELECT `region`,`id`,`total` FROM `shop`.`order items`");
}

}  // namespace
}  // namespace cutover::clone
