#include "db/sql_literal.h"

#include <gtest/gtest.h>

namespace cutover::db {
namespace {

using namespace std::string_view_literals;

std::string Literal(ValueKind kind, FieldView value) {
  std::string out;
  AppendLiteral(out, kind, value);
  return out;
}

TEST(SqlLiteralTest, NullIsNotTheEmptyString) {
  EXPECT_EQ(Literal(ValueKind::kBytes, std::nullopt), "NULL");
  EXPECT_EQ(Literal(ValueKind::kBytes, ""sv), "''");
  EXPECT_EQ(Literal(ValueKind::kNumber, std::nullopt), "NULL");
}

TEST(SqlLiteralTest, EscapesEveryByteTheParserTreatsSpecially) {
  struct Case {
    const char* name;
    std::string_view in;
    std::string_view out;
  };
  const Case cases[] = {
      {"nul", "a\0b"sv, R"('a\0b')"sv},
      {"quote", "it's"sv, R"('it\'s')"sv},
      {"double quote", "say \"hi\""sv, R"('say \"hi\"')"sv},
      {"backslash", "c:\\dir"sv, R"('c:\\dir')"sv},
      {"newline and return", "a\nb\rc"sv, R"('a\nb\rc')"sv},
      {"control-Z", "\x1a"sv, R"('\Z')"sv},
      {"high bytes pass through", "\xff\xfe\xf0\x9f\x98\x80"sv, "'\xff\xfe\xf0\x9f\x98\x80'"sv},
      {"trailing space kept", "a  "sv, "'a  '"sv},
  };
  for (const Case& c : cases) EXPECT_EQ(Literal(ValueKind::kBytes, c.in), c.out) << c.name;
}

TEST(SqlLiteralTest, NumbersAreWrittenAsTheServerSentThem) {
  EXPECT_EQ(Literal(ValueKind::kNumber, "-12345678901234567890.0000000001"sv), "-12345678901234567890.0000000001");
  EXPECT_EQ(Literal(ValueKind::kNumber, "1e-300"sv), "1e-300");
}

TEST(SqlLiteralTest, BitIsTheBigEndianBytesAsAnInteger) {
  EXPECT_EQ(Literal(ValueKind::kBit, "\x01"sv), "1");
  EXPECT_EQ(Literal(ValueKind::kBit, "\x00"sv), "0");
  EXPECT_EQ(Literal(ValueKind::kBit, "\x1f\xff"sv), "8191");
  EXPECT_EQ(Literal(ValueKind::kBit, "\xff\xff\xff\xff\xff\xff\xff\xff"sv), "18446744073709551615");
}

TEST(SqlLiteralTest, DataTypesMapToKinds) {
  for (const char* t : {"tinyint", "int", "bigint", "decimal", "float", "double", "year"}) {
    EXPECT_EQ(KindOfDataType(t), ValueKind::kNumber) << t;
  }
  EXPECT_EQ(KindOfDataType("bit"), ValueKind::kBit);
  for (const char* t : {"varchar", "blob", "datetime", "timestamp", "json", "enum", "set", "geometry", "longtext"}) {
    EXPECT_EQ(KindOfDataType(t), ValueKind::kBytes) << t;
  }
}

}  // namespace
}  // namespace cutover::db
