#include "workload/error_key.h"

#include <gtest/gtest.h>

namespace cutover::workload {
namespace {

constexpr char kWhere[] = "127.0.0.1:6033";

struct KeyCase {
  const char* name;
  Error error;
  const char* key;
  bool connection_lost;
};

TEST(ErrorKeyTest, NamesErrorsByNumberAndStableMessagePrefix) {
  const KeyCase cases[] = {
      {"server killed the connection", Error::Server(1927, "70100", "127.0.0.1:6033: Connection was killed"),
       "1927 Connection was killed", true},
      {"proxy lost the database",
       Error::Server(1927, "70100",
                     "127.0.0.1:6033: cutover: lost connection to the database during query (127.0.0.1:3306: x)"),
       "1927 cutover: lost connection to the database during query", true},
      {"duplicate key drops the value",
       Error::Server(1062, "23000", "127.0.0.1:6033: Duplicate entry '3-17' for key 'PRIMARY'"), "1062 Duplicate entry",
       false},
      {"read only, long message cut at a word",
       Error::Server(1290, "HY000",
                     "127.0.0.1:6033: The MariaDB server is running with the --read-only option so it cannot execute "
                     "this statement"),
       "1290 The MariaDB server is running with the --read-only option so", false},
      {"server shutdown", Error::Server(1053, "08S01", "127.0.0.1:6033: Server shutdown in progress"),
       "1053 Server shutdown in progress", true},
      {"any SQLSTATE 08 error", Error::Server(1047, "08S01", "127.0.0.1:6033: cutover: COM_X is not supported"),
       "1047 cutover: COM_X is not supported", true},
      {"lost during query", Error::Io("127.0.0.1:6033: Lost connection to server during query"),
       "2013 Lost connection to server during query", true},
      {"gone away", Error::Io("127.0.0.1:6033: Server has gone away"), "2006 Server has gone away", true},
      {"cannot connect", Error::Io("127.0.0.1:6033: Can't connect to server on '127.0.0.1' (111)"),
       "2003 Can't connect to server on", true},
      {"unknown client error", Error::Io("127.0.0.1:6033: Something odd"), "io Something odd", true},
      {"another address is kept", Error::Io("10.0.0.1:3306: Server has gone away"),
       "io 10.0.0.1:3306: Server has gone away", true},
      {"consistency finding", Error::Precondition("consistency: bank total read differs"),
       "consistency: bank total read differs", false},
  };
  for (const KeyCase& c : cases) {
    EXPECT_EQ(ErrorKey(c.error, kWhere), c.key) << c.name;
    EXPECT_EQ(ConnectionLost(c.error), c.connection_lost) << c.name;
  }
}

}  // namespace
}  // namespace cutover::workload
