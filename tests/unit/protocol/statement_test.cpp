#include "protocol/statement.h"

#include <gtest/gtest.h>

#include "protocol/constants.h"
#include "test_util.h"

namespace cutover::protocol {
namespace {

// Captured from libmariadb 3.3.20 and MariaDB 10.11.19 through a Python TCP
// relay on 127.0.0.1: mysql_stmt_prepare("SELECT ? + 1, ?"), then two
// mysql_stmt_execute calls binding (LONGLONG 41, STRING "hi") and
// (LONGLONG 1, NULL).
const char kPrepareOk[] = "000100000002000200000000";
const char kExecuteValues[] = "1701000000000100000000010800fe002900000000000000026869";
const char kExecuteWithNull[] = "1701000000000100000002010800fe000100000000000000";

Result<StmtPrepareOk> ParsePrepareOk(ByteView payload) {
  ByteReader in(payload.subspan(1));
  return ParseStmtPrepareOk(in);
}

TEST(StmtPrepareOkTest, ParsesCapture) {
  auto p = ParsePrepareOk(FromHex(kPrepareOk));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->statement_id, 1u);
  EXPECT_EQ(p->num_columns, 2);
  EXPECT_EQ(p->num_params, 2);
  EXPECT_EQ(p->warnings, 0);
  EXPECT_EQ(LoadU32(FromHex(kPrepareOk).data() + kPrepareOkStatementIdOffset), 1u);
}

TEST(StmtPrepareOkTest, EveryTruncatedPrefixFails) {
  const Bytes b = FromHex(kPrepareOk);
  ExpectPrefixesFail(ByteView(b).subspan(1), b.size() - 1, [](ByteView v) {
    ByteReader in(v);
    return ParseStmtPrepareOk(in);
  });
}

TEST(StmtPrepareOkTest, RoundTrip) {
  Bytes out;
  WriteStmtPrepareOk({1, 2, 2, 0}, out);
  EXPECT_EQ(HexString(out), kPrepareOk);
  const StmtPrepareOk p{0xdeadbeef, 65535, 3, 7};
  out.clear();
  WriteStmtPrepareOk(p, out);
  auto back = ParsePrepareOk(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->statement_id, p.statement_id);
  EXPECT_EQ(back->num_columns, p.num_columns);
  EXPECT_EQ(back->num_params, p.num_params);
  EXPECT_EQ(back->warnings, p.warnings);
}

TEST(StmtPrepareOkTest, RejectsTrailingBytes) {
  Bytes b = FromHex(kPrepareOk);
  b.push_back(0);  // MySQL 8's metadata_follows byte, which cutover does not negotiate
  auto p = ParsePrepareOk(b);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kMalformed);
}

TEST(StmtExecuteHeadTest, ParsesCaptures) {
  for (const char* hex : {kExecuteValues, kExecuteWithNull}) {
    const Bytes b = FromHex(hex);
    auto h = ParseStmtExecuteHead(b, 2);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->statement_id, 1u);
    EXPECT_EQ(h->flags, 0);
    EXPECT_EQ(h->iteration_count, 1u);
    EXPECT_EQ(h->null_bitmap_offset, 10u);
    EXPECT_TRUE(h->new_params_bound);
    EXPECT_EQ(h->types_offset, 12u);
    EXPECT_EQ(HexString(ByteView(b).subspan(h->types_offset, 4)), "0800fe00");  // LONGLONG, STRING
  }
  EXPECT_EQ(FromHex(kExecuteWithNull)[10], 0x02);  // the second parameter is NULL
}

TEST(StmtExecuteHeadTest, EveryTruncatedPrefixOfTheHeadFails) {
  // Parameter values follow the types and are not parsed here.
  const Bytes b = FromHex(kExecuteValues);
  ExpectPrefixesFail(b, 16, [](ByteView v) { return ParseStmtExecuteHead(v, 2); });
}

TEST(StmtExecuteHeadTest, WithoutParametersOrRebinding) {
  auto none = ParseStmtExecuteHead(FromHex("17 07000000 01 01000000"), 0);
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_EQ(none->statement_id, 7u);
  EXPECT_EQ(none->flags, kCursorTypeReadOnly);
  auto not_bound = ParseStmtExecuteHead(FromHex("17 07000000 00 01000000 00 00 2a"), 1);
  ASSERT_TRUE(not_bound) << not_bound.error().message();
  EXPECT_FALSE(not_bound->new_params_bound);
  EXPECT_EQ(not_bound->null_bitmap_offset, 10u);
}

TEST(StmtExecuteHeadTest, RejectsBadInput) {
  auto other = ParseStmtExecuteHead(FromHex("19 01000000"), 0);  // COM_STMT_CLOSE
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), ErrorCode::kMalformed);
  auto bad_flag = ParseStmtExecuteHead(FromHex("17 01000000 00 01000000 00 02"), 1);
  ASSERT_FALSE(bad_flag);
  EXPECT_EQ(bad_flag.error().code(), ErrorCode::kMalformed);
}

// Captured the same way: mysql_stmt_prepare("INSERT INTO b (v) VALUES (?)")
// (statement 3), STMT_ATTR_ARRAY_SIZE 3 and one STRING array ("a", "bb",
// "ccc"), then mysql_stmt_execute twice without binding again: the first bulk
// execute sends the types (flag 128), the second does not.
const char kBulkWithTypes[] = "fa030000008000fe00000161000262620003636363";
const char kBulkWithoutTypes[] = "fa030000000000000161000262620003636363";

TEST(StmtBulkExecuteHeadTest, ParsesCaptures) {
  auto with = ParseStmtBulkExecuteHead(FromHex(kBulkWithTypes), 1);
  ASSERT_TRUE(with) << with.error().message();
  EXPECT_EQ(with->statement_id, 3u);
  EXPECT_EQ(with->flags, kBulkSendTypesToServer);
  EXPECT_EQ(with->types_offset, kBulkExecuteHeadLength);
  auto without = ParseStmtBulkExecuteHead(FromHex(kBulkWithoutTypes), 1);
  ASSERT_TRUE(without) << without.error().message();
  EXPECT_EQ(without->statement_id, 3u);
  EXPECT_EQ(without->flags, 0);
  // Only the head is read: the first bytes of a bulk of several frames do.
  EXPECT_TRUE(ParseStmtBulkExecuteHead(FromHex("fa030000008000fe00"), 1));
}

TEST(StmtBulkExecuteHeadTest, EveryTruncatedPrefixOfTheHeadFails) {
  const Bytes b = FromHex(kBulkWithTypes);
  ExpectPrefixesFail(b, kBulkExecuteHeadLength + 2, [](ByteView v) { return ParseStmtBulkExecuteHead(v, 1); });
}

TEST(StmtBulkExecuteHeadTest, RejectsAnotherCommand) {
  auto r = ParseStmtBulkExecuteHead(FromHex(kExecuteValues), 2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
}

// After a move the proxy sends the recorded types with the bulk that lacks
// them: the result is what the client sent the first time.
TEST(StmtBulkExecuteHeadTest, AddingTypesGivesTheFirstExecute) {
  const Bytes with = FromHex(kBulkWithTypes);
  const Bytes types(with.begin() + kBulkExecuteHeadLength, with.begin() + kBulkExecuteHeadLength + 2);
  EXPECT_EQ(HexString(AddBulkExecuteTypes(FromHex(kBulkWithoutTypes), types)), kBulkWithTypes);
}

}  // namespace
}  // namespace cutover::protocol
