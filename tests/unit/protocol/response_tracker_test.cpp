// ResponseTracker against whole server responses captured from a real server,
// fed at once, split in two at every byte and fed one byte at a time.
#include "protocol/response_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "protocol/frame.h"

namespace cutover::protocol {
namespace {

Bytes FromHex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The client capabilities the captures were made with (see
// captures/capture_responses.py); kDeprecateEof is added for the "_deof" ones.
constexpr Capabilities kCaps =
    capability::kLongPassword | capability::kLongFlag | capability::kLocalFiles | capability::kProtocol41 |
    capability::kTransactions | capability::kSecureConnection | capability::kMultiStatements |
    capability::kMultiResults | capability::kPsMultiResults | capability::kPluginAuth | capability::kSessionTrack;
constexpr Capabilities kCapsDeprecateEof = kCaps | capability::kDeprecateEof;

// What a proxy driving the tracker would see.
struct Outcome {
  bool done = false;
  size_t consumed = 0;
  uint16_t status = 0;
  uint16_t error = 0;  // errno of the ERR that ended the response, 0 for none
  size_t session_changes = 0;
  int infile_requests = 0;
  std::optional<size_t> statement_id_pos;  // position of the prepared statement id in the response
  std::string failure;                     // the first thing that went wrong
  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{done=" << o.done << " consumed=" << o.consumed << " status=" << o.status << " error=" << o.error
      << " session_changes=" << o.session_changes << " infile=" << o.infile_requests
      << " id_pos=" << (o.statement_id_pos ? std::to_string(*o.statement_id_pos) : "none")
      << " failure='" << o.failure << "'}";
}

// Feeds `response` the way the proxy does: bytes arrive in chunks ending at
// `cuts` (increasing, the last one response.size()), and unconsumed bytes stay
// in the buffer for the next Feed. A LOCAL INFILE request is answered at once.
Outcome Drive(ResponseTracker& t, Command command, ByteView response, const std::vector<size_t>& cuts) {
  Outcome out;
  t.Start(command);
  Bytes buf;
  size_t arrived = 0;
  for (size_t cut : cuts) {
    buf.insert(buf.end(), response.begin() + arrived, response.begin() + cut);
    arrived = cut;
    while (!t.done() && !buf.empty()) {
      auto n = t.Feed(buf);
      if (!n) {
        out.failure = "Feed failed: " + n.error().message();
        return out;
      }
      if (t.prepare_id_offset()) out.statement_id_pos = out.consumed + *t.prepare_id_offset();
      out.consumed += *n;
      buf.erase(buf.begin(), buf.begin() + *n);
      if (t.done() && out.consumed != response.size() && out.failure.empty()) {
        out.failure = "done early at " + std::to_string(out.consumed) + " after chunk ending at " +
                      std::to_string(cut);
      }
      if (t.awaiting_local_infile()) {
        ++out.infile_requests;
        t.LocalInfileSent();
        continue;
      }
      if (*n == 0) break;
    }
  }
  out.done = t.done();
  out.status = t.status_flags();
  out.error = t.error() ? t.error()->error_code : 0;
  out.session_changes = t.session_changes().size();
  return out;
}

Outcome Drive(Capabilities caps, Command command, ByteView response, const std::vector<size_t>& cuts) {
  ResponseTracker t(caps);
  return Drive(t, command, response, cuts);
}

Outcome DriveWhole(Capabilities caps, Command command, ByteView response) {
  return Drive(caps, command, response, {response.size()});
}

// Whole responses captured from MariaDB 10.11.19 (Debian 12 package) started
// with --no-defaults --skip-grant-tables --local-infile=1, by
// tests/unit/protocol/captures/capture_responses.py: it logs in as root with
// the capabilities kCaps (names without "_deof") or kCapsDeprecateEof (names
// with "_deof"), sends each command on the same connection in this order and
// records every byte the server sent back. The connection first ran
// SET session_track_system_variables='*', session_track_state_change=ON
// and USE db1, where t is (id INT PRIMARY KEY, name VARCHAR(20)) holding
// (1,'one'),(2,NULL),(3,'three'), t2 is (a INT, b VARCHAR(10)) and
// p() is BEGIN SELECT 1; SELECT 2; END.
//   set_tracking      the SET above            use_db            USE db1
//   set_names         SET NAMES utf8mb4        select_rows       SELECT id, name FROM t ORDER BY id
//   select_empty      SELECT id FROM t WHERE id < 0
//   multi             SELECT 1; SELECT 2; SET @a=1
//   multi_err         SELECT 1; SELECT * FROM nosuch; SELECT 3
//   query_err         SELECT * FROM nosuch
//   err_mid_rows      SELECT id, IF(id=2, (SELECT 1 UNION SELECT 2), id) FROM t ORDER BY id
//                     (row 1 is sent, then ERR 1242 "Subquery returns more than 1 row")
//   call_query        CALL p()                 begin / commit    BEGIN / COMMIT
//   select_in_trans   SELECT 1 after BEGIN
//   infile            LOAD DATA LOCAL INFILE 'x.csv' INTO TABLE t2 FIELDS TERMINATED BY ','
//                     (the 0xFB request, then the OK after the client sent "1,a\n2,b\n")
//   prepare_params_columns  COM_STMT_PREPARE SELECT id, name FROM t WHERE id > ? AND name <> ?
//   prepare_params_only     COM_STMT_PREPARE INSERT INTO t2 VALUES (?, ?)
//   prepare_columns_only    COM_STMT_PREPARE SELECT id, name FROM t ORDER BY id   (statement 3)
//   prepare_err             COM_STMT_PREPARE SELECT * FROM nosuch
//   prepare_call            COM_STMT_PREPARE CALL p()                              (statement 5)
//   execute_rows      COM_STMT_EXECUTE 3       execute_cursor    COM_STMT_EXECUTE 3, CURSOR_TYPE_READ_ONLY
//   fetch_2           COM_STMT_FETCH 3, 2 rows fetch_rest        COM_STMT_FETCH 3, 10 rows
//   fetch_err         COM_STMT_FETCH of an unknown statement
//   stmt_reset        COM_STMT_RESET 3         execute_call      COM_STMT_EXECUTE 5 (two results, then OK)
//   execute_ok        COM_STMT_EXECUTE of DO 1
//   field_list        COM_FIELD_LIST t         field_list_err    COM_FIELD_LIST nosuch
//   statistics        COM_STATISTICS           ping              COM_PING
//   init_db           COM_INIT_DB db1          set_option_on/off COM_SET_OPTION 0 / 1
//   process_info      COM_PROCESS_INFO (a result set through the generic rule)
//   process_kill_err  COM_PROCESS_KILL 999999  refresh           COM_REFRESH 0
//   debug             COM_DEBUG                time / create_db  COM_TIME / COM_CREATE_DB (ERR 1047)
//   reset_connection  COM_RESET_CONNECTION
// MariaDB extensions, captured from the same server build; extra_caps says
// what else the client negotiated:
//   alter_progress    ALTER TABLE p ADD COLUMN w INT, FORCE on an Aria table of 10^6 rows,
//                     with progress_report_time = 1, through a relay, from Connector/C 3.3:
//                     two progress reports (0xFF 0xFFFF, stages 1/2 and 2/2), then the OK
//   bulk_returning    COM_STMT_BULK_EXECUTE of INSERT INTO b (v) VALUES (?) RETURNING id, v
//                     with two rows ('a', 'bb'), from a raw client without CLIENT_SESSION_TRACK:
//                     one result set holding every row's returned values, then one EOF
//   bulk_insert       the same without RETURNING: one OK for both rows (2 affected, first id 1)
struct Capture {
  const char* name;
  bool deprecate_eof;
  Command command;
  uint16_t status;          // status_flags() once done
  uint16_t error;           // ERR errno, 0 for none
  size_t session_changes;   // OK packets carrying session-state changes
  const char* hex;
  Capabilities extra_caps = 0;  // MariaDB extensions negotiated too
};

constexpr Capabilities kProgressAndBulk = capability::kMariaDbProgress | capability::kMariaDbStmtBulkOperations;

const Capture kCaptures[] = {
    {"set_tracking", false, Command::kQuery, 0x4002, 0, 1,
         "4f00000100000002400000004600211e73657373696f6e5f747261636b5f73797374656d5f7661726961626c6573012a"
         "001e1a73657373696f6e5f747261636b5f73746174655f6368616e6765024f4e020131"},
    {"set_tracking_deof", true, Command::kQuery, 0x4002, 0, 1,
         "4f00000100000002400000004600211e73657373696f6e5f747261636b5f73797374656d5f7661726961626c6573012a"
         "001e1a73657373696f6e5f747261636b5f73746174655f6368616e6765024f4e020131"},
    {"use_db", false, Command::kQuery, 0x4002, 0, 1,
         "12000001000000024000000009010403646231020131"},
    {"use_db_deof", true, Command::kQuery, 0x4002, 0, 1,
         "12000001000000024000000009010403646231020131"},
    {"set_names", false, Command::kQuery, 0x4002, 0, 1,
         "6e0000010000000240000000650021186368617261637465725f7365745f636f6e6e656374696f6e07757466386d6234"
         "001d146368617261637465725f7365745f636c69656e7407757466386d6234001e156368617261637465725f7365745f"
         "726573756c747307757466386d6234020131"},
    {"set_names_deof", true, Command::kQuery, 0x4002, 0, 1,
         "6e0000010000000240000000650021186368617261637465725f7365745f636f6e6e656374696f6e07757466386d6234"
         "001d146368617261637465725f7365745f636c69656e7407757466386d6234001e156368617261637465725f7365745f"
         "726573756c747307757466386d6234020131"},
    {"select_rows", false, Command::kQuery, 0x0022, 0, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000303500000002300000303646566"
         "0364623101740174046e616d65046e616d650c2d0050000000fd000000000005000004fe00002200060000050131036f"
         "6e65030000060132fb08000007013305746872656505000008fe00002200"},
    {"select_rows_deof", true, Command::kQuery, 0x0022, 0, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000303500000002300000303646566"
         "0364623101740174046e616d65046e616d650c2d0050000000fd0000000000060000040131036f6e65030000050132fb"
         "08000006013305746872656507000007fe000022000000"},
    {"select_empty", false, Command::kQuery, 0x0002, 0, 0,
         "01000001011f0000020364656603646231017401740269640269640c3f000b00000003035000000005000003fe000002"
         "0005000004fe00000200"},
    {"select_empty_deof", true, Command::kQuery, 0x0002, 0, 0,
         "01000001011f0000020364656603646231017401740269640269640c3f000b00000003035000000007000003fe000002"
         "000000"},
    {"multi", false, Command::kQuery, 0x4002, 0, 1,
         "010000010117000002036465660000000131000c3f000100000003810000000005000003fe00000a0002000004013105"
         "000005fe00000a00010000060117000007036465660000000132000c3f000100000003810000000005000008fe00000a"
         "000200000901320500000afe00000a000c00000b000000024000000003020131"},
    {"multi_deof", true, Command::kQuery, 0x4002, 0, 1,
         "010000010117000002036465660000000131000c3f000100000003810000000002000003013107000004fe00000a0000"
         "00010000050117000006036465660000000132000c3f000100000003810000000002000007013207000008fe00000a00"
         "00000c000009000000024000000003020131"},
    {"multi_err", false, Command::kQuery, 0x000a, 1146, 0,
         "010000010117000002036465660000000131000c3f000100000003810000000005000003fe00000a0002000004013105"
         "000005fe00000a0029000006ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e277420"
         "6578697374"},
    {"multi_err_deof", true, Command::kQuery, 0x000a, 1146, 0,
         "010000010117000002036465660000000131000c3f000100000003810000000002000003013107000004fe00000a0000"
         "0029000005ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e2774206578697374"},
    {"query_err", false, Command::kQuery, 0x0000, 1146, 0,
         "29000001ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e2774206578697374"},
    {"query_err_deof", true, Command::kQuery, 0x0000, 1146, 0,
         "29000001ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e2774206578697374"},
    {"err_mid_rows", false, Command::kQuery, 0x0022, 1242, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000303500000003d00000303646566"
         "0000002749462869643d322c202853454c454354203120554e494f4e2053454c4543542032292c20696429000c3f000b"
         "00000003800000000005000004fe00002200040000050131013129000006ffda04233231303030537562717565727920"
         "72657475726e73206d6f7265207468616e203120726f77"},
    {"err_mid_rows_deof", true, Command::kQuery, 0x0000, 1242, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000303500000003d00000303646566"
         "0000002749462869643d322c202853454c454354203120554e494f4e2053454c4543542032292c20696429000c3f000b"
         "000000038000000000040000040131013129000005ffda0423323130303053756271756572792072657475726e73206d"
         "6f7265207468616e203120726f77"},
    {"call_query", false, Command::kQuery, 0x0002, 0, 0,
         "010000010117000002036465660000000131000c3f000100000003810000000005000003fe00000a0002000004013105"
         "000005fe00000a00010000060117000007036465660000000132000c3f000100000003810000000005000008fe00000a"
         "000200000901320500000afe00000a000700000b00000002000000"},
    {"call_query_deof", true, Command::kQuery, 0x0002, 0, 0,
         "010000010117000002036465660000000131000c3f000100000003810000000002000003013107000004fe00000a0000"
         "00010000050117000006036465660000000132000c3f000100000003810000000002000007013207000008fe00000a00"
         "00000700000900000002000000"},
    {"begin", false, Command::kQuery, 0x0003, 0, 0,
         "0700000100000003000000"},
    {"begin_deof", true, Command::kQuery, 0x0003, 0, 0,
         "0700000100000003000000"},
    {"select_in_trans", false, Command::kQuery, 0x0003, 0, 0,
         "010000010117000002036465660000000131000c3f000100000003810000000005000003fe0000030002000004013105"
         "000005fe00000300"},
    {"select_in_trans_deof", true, Command::kQuery, 0x0003, 0, 0,
         "010000010117000002036465660000000131000c3f000100000003810000000002000003013107000004fe0000030000"
         "00"},
    {"commit", false, Command::kQuery, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"commit_deof", true, Command::kQuery, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"prepare_params_columns", false, Command::kStmtPrepare, 0x0002, 0, 0,
         "0c0000010001000000020002000000001700000203646566000000013f000c3f00000000000680000000001700000303"
         "646566000000013f000c3f000000000006800000000005000004fe000002001f00000503646566036462310174017402"
         "69640269640c3f000b00000003035000000023000006036465660364623101740174046e616d65046e616d650c2d0050"
         "000000fd000000000005000007fe00000200"},
    {"prepare_params_columns_deof", true, Command::kStmtPrepare, 0x0000, 0, 0,
         "0c0000010001000000020002000000001700000203646566000000013f000c3f00000000000680000000001700000303"
         "646566000000013f000c3f00000000000680000000001f0000040364656603646231017401740269640269640c3f000b"
         "00000003035000000023000005036465660364623101740174046e616d65046e616d650c2d0050000000fd0000000000"},
    {"prepare_params_only", false, Command::kStmtPrepare, 0x0002, 0, 0,
         "0c0000010002000000000002000000001700000203646566000000013f000c3f00000000000680000000001700000303"
         "646566000000013f000c3f000000000006800000000005000004fe00000200"},
    {"prepare_params_only_deof", true, Command::kStmtPrepare, 0x0000, 0, 0,
         "0c0000010002000000000002000000001700000203646566000000013f000c3f00000000000680000000001700000303"
         "646566000000013f000c3f0000000000068000000000"},
    {"prepare_columns_only", false, Command::kStmtPrepare, 0x0002, 0, 0,
         "0c0000010003000000020000000000001f0000020364656603646231017401740269640269640c3f000b000000030350"
         "00000023000003036465660364623101740174046e616d65046e616d650c2d0050000000fd000000000005000004fe00"
         "000200"},
    {"prepare_columns_only_deof", true, Command::kStmtPrepare, 0x0000, 0, 0,
         "0c0000010003000000020000000000001f0000020364656603646231017401740269640269640c3f000b000000030350"
         "00000023000003036465660364623101740174046e616d65046e616d650c2d0050000000fd0000000000"},
    {"prepare_err", false, Command::kStmtPrepare, 0x0000, 1146, 0,
         "29000001ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e2774206578697374"},
    {"prepare_err_deof", true, Command::kStmtPrepare, 0x0000, 1146, 0,
         "29000001ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e2774206578697374"},
    {"prepare_call", false, Command::kStmtPrepare, 0x0000, 0, 0,
         "0c000001000500000000000000000000"},
    {"prepare_call_deof", true, Command::kStmtPrepare, 0x0000, 0, 0,
         "0c000001000500000000000000000000"},
    {"execute_rows", false, Command::kStmtExecute, 0x0022, 0, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000303500000002300000303646566"
         "0364623101740174046e616d65046e616d650c2d0050000000fd000000000005000004fe000022000a00000500000100"
         "0000036f6e65060000060008020000000c00000700000300000005746872656505000008fe00002200"},
    {"execute_rows_deof", true, Command::kStmtExecute, 0x0022, 0, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000303500000002300000303646566"
         "0364623101740174046e616d65046e616d650c2d0050000000fd00000000000a000004000001000000036f6e65060000"
         "050008020000000c00000600000300000005746872656507000007fe000022000000"},
    {"execute_cursor", false, Command::kStmtExecute, 0x0062, 0, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000301100000002300000303646566"
         "0364623101740174046e616d65046e616d650c2d0050000000fd000000000005000004fe00006200"},
    {"execute_cursor_deof", true, Command::kStmtExecute, 0x0062, 0, 0,
         "01000001021f0000020364656603646231017401740269640269640c3f000b0000000301100000002300000303646566"
         "0364623101740174046e616d65046e616d650c2d0050000000fd000000000007000004fe000062000000"},
    {"fetch_2", false, Command::kStmtFetch, 0x0042, 0, 0,
         "0a000001000001000000036f6e650600000200080200000005000003fe00004200"},
    {"fetch_2_deof", true, Command::kStmtFetch, 0x0042, 0, 0,
         "0a000001000001000000036f6e650600000200080200000007000003fe000042000000"},
    {"fetch_rest", false, Command::kStmtFetch, 0x0082, 0, 0,
         "0c00000100000300000005746872656505000002fe00008200"},
    {"fetch_rest_deof", true, Command::kStmtFetch, 0x0082, 0, 0,
         "0c00000100000300000005746872656507000002fe000082000000"},
    {"fetch_err", false, Command::kStmtFetch, 0x0000, 1243, 0,
         "4e000001ffdb04234859303030556e6b6e6f776e2070726570617265642073746174656d656e742068616e646c657220"
         "2831323334352920676976656e20746f206d7973716c645f73746d745f6665746368"},
    {"fetch_err_deof", true, Command::kStmtFetch, 0x0000, 1243, 0,
         "4e000001ffdb04234859303030556e6b6e6f776e2070726570617265642073746174656d656e742068616e646c657220"
         "2831323334352920676976656e20746f206d7973716c645f73746d745f6665746368"},
    {"stmt_reset", false, Command::kStmtReset, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"stmt_reset_deof", true, Command::kStmtReset, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"execute_call", false, Command::kStmtExecute, 0x0002, 0, 0,
         "010000010117000002036465660000000131000c3f000100000003810000000005000003fe00000a0006000004000001"
         "00000005000005fe00000a00010000060117000007036465660000000132000c3f000100000003810000000005000008"
         "fe00000a00060000090000020000000500000afe00000a000700000b00000002000000"},
    {"execute_call_deof", true, Command::kStmtExecute, 0x0002, 0, 0,
         "010000010117000002036465660000000131000c3f00010000000381000000000600000300000100000007000004fe00"
         "000a000000010000050117000006036465660000000132000c3f00010000000381000000000600000700000200000007"
         "000008fe00000a0000000700000900000002000000"},
    {"execute_ok", false, Command::kStmtExecute, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"execute_ok_deof", true, Command::kStmtExecute, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"field_list", false, Command::kFieldList, 0x0002, 0, 0,
         "210000010364656603646231017401740269640269640c3f000b00000003035000000001302400000203646566036462"
         "3101740174046e616d65046e616d650c2d0050000000fd0000000000fb05000003fe00000200"},
    {"field_list_deof", true, Command::kFieldList, 0x0002, 0, 0,
         "210000010364656603646231017401740269640269640c3f000b00000003035000000001302400000203646566036462"
         "3101740174046e616d65046e616d650c2d0050000000fd0000000000fb07000003fe000002000000"},
    {"field_list_err", false, Command::kFieldList, 0x0000, 1146, 0,
         "29000001ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e2774206578697374"},
    {"field_list_err_deof", true, Command::kFieldList, 0x0000, 1146, 0,
         "29000001ff7a042334325330325461626c6520276462312e6e6f737563682720646f65736e2774206578697374"},
    {"statistics", false, Command::kStatistics, 0x0000, 0, 0,
         "70000001557074696d653a2035342020546872656164733a203220205175657374696f6e733a2034352020536c6f7720"
         "717565726965733a203020204f70656e733a20313320204f70656e207461626c65733a20382020517565726965732070"
         "6572207365636f6e64206176673a20302e383333"},
    {"statistics_deof", true, Command::kStatistics, 0x0000, 0, 0,
         "70000001557074696d653a2036382020546872656164733a203320205175657374696f6e733a2039342020536c6f7720"
         "717565726965733a203020204f70656e733a20313320204f70656e207461626c65733a20382020517565726965732070"
         "6572207365636f6e64206176673a20312e333832"},
    {"ping", false, Command::kPing, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"ping_deof", true, Command::kPing, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"init_db", false, Command::kInitDb, 0x4002, 0, 1,
         "12000001000000024000000009010403646231020131"},
    {"init_db_deof", true, Command::kInitDb, 0x4002, 0, 1,
         "12000001000000024000000009010403646231020131"},
    {"set_option_on", false, Command::kSetOption, 0x0002, 0, 0,
         "05000001fe00000200"},
    {"set_option_on_deof", true, Command::kSetOption, 0x0002, 0, 0,
         "07000001fe000002000000"},
    {"set_option_off", false, Command::kSetOption, 0x0002, 0, 0,
         "05000001fe00000200"},
    {"set_option_off_deof", true, Command::kSetOption, 0x0002, 0, 0,
         "07000001fe000002000000"},
    {"process_info", false, Command::kProcessInfo, 0x0002, 0, 0,
         "01000001091800000203646566000000024964000c3f000b0000000881000000001a0000030364656600000004557365"
         "72000c2d0000020000fd01002700001a0000040364656600000004486f7374000c2d0000010000fd0100270000180000"
         "0503646566000000026462000c2d0000010000fd00002700001d0000060364656600000007436f6d6d616e64000c2d00"
         "40000000fd01002700001a000007036465660000000454696d65000c3f00070000000381000000001b00000803646566"
         "000000055374617465000c2d0078000000fd00002700001a0000090364656600000004496e666f000c2d0090010000fd"
         "00002700001e00000a036465660000000850726f6772657373000c3f00070000000581000300000500000bfe00000200"
         "2300000c013304726f6f74096c6f63616c686f7374fb05536c65657002313200fb05302e3030303300000d013404726f"
         "6f74096c6f63616c686f7374036462310b50726f636573736c6973740130087374617274696e67fb05302e3030300500"
         "000efe00000200"},
    {"process_info_deof", true, Command::kProcessInfo, 0x0002, 0, 0,
         "01000001091800000203646566000000024964000c3f000b0000000881000000001a0000030364656600000004557365"
         "72000c2d0000020000fd01002700001a0000040364656600000004486f7374000c2d0000010000fd0100270000180000"
         "0503646566000000026462000c2d0000010000fd00002700001d0000060364656600000007436f6d6d616e64000c2d00"
         "40000000fd01002700001a000007036465660000000454696d65000c3f00070000000381000000001b00000803646566"
         "000000055374617465000c2d0078000000fd00002700001a0000090364656600000004496e666f000c2d0090010000fd"
         "00002700001e00000a036465660000000850726f6772657373000c3f00070000000581000300002300000b013304726f"
         "6f74096c6f63616c686f7374fb05536c65657002323600fb05302e3030303300000c013504726f6f74096c6f63616c68"
         "6f7374036462310b50726f636573736c6973740130087374617274696e67fb05302e3030300700000dfe000002000000"},
    {"process_kill_err", false, Command::kProcessKill, 0x0000, 1094, 0,
         "22000001ff4604234859303030556e6b6e6f776e207468726561642069643a20393939393939"},
    {"process_kill_err_deof", true, Command::kProcessKill, 0x0000, 1094, 0,
         "22000001ff4604234859303030556e6b6e6f776e207468726561642069643a20393939393939"},
    {"refresh", false, Command::kRefresh, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"refresh_deof", true, Command::kRefresh, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"debug", false, Command::kDebug, 0x0002, 0, 0,
         "05000001fe00000200"},
    {"debug_deof", true, Command::kDebug, 0x0002, 0, 0,
         "07000001fe000002000000"},
    {"time", false, Command::kTime, 0x0000, 1047, 0,
         "18000001ff1704233038533031556e6b6e6f776e20636f6d6d616e64"},
    {"time_deof", true, Command::kTime, 0x0000, 1047, 0,
         "18000001ff1704233038533031556e6b6e6f776e20636f6d6d616e64"},
    {"create_db", false, Command::kCreateDb, 0x0000, 1047, 0,
         "18000001ff1704233038533031556e6b6e6f776e20636f6d6d616e64"},
    {"create_db_deof", true, Command::kCreateDb, 0x0000, 1047, 0,
         "18000001ff1704233038533031556e6b6e6f776e20636f6d6d616e64"},
    {"reset_connection", false, Command::kResetConnection, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"reset_connection_deof", true, Command::kResetConnection, 0x0002, 0, 0,
         "0700000100000002000000"},
    {"infile", false, Command::kQuery, 0x0002, 0, 0,
         "06000001fb782e637376"
         "37000004000200020000002f5265636f7264733a2032202044656c657465643a20302020536b69707065643a2030"
         "20205761726e696e67733a2030"},
    {"infile_deof", true, Command::kQuery, 0x0002, 0, 0,
         "06000001fb782e637376"
         "37000004000200020000002f5265636f7264733a2032202044656c657465643a20302020536b69707065643a2030"
         "20205761726e696e67733a2030"},
    {"alter_progress", false, Command::kQuery, 0x0002, 0, 0,
         "1b000001ffffff010102e8030011636f707920746f20746d70207461626c65"
         "17000002ffffff0102020000000d456e61626c696e67206b657973"
         "3700000300fd40420f00020000002c5265636f7264733a20313030303030302020"
         "4475706c6963617465733a203020205761726e696e67733a2030",
         capability::kMariaDbProgress},
    {"bulk_returning", false, Command::kStmtBulkExecute, 0x0002, 0, 0,
         "01000001021f0000020364656603617070016201620269640269640c3f000b000000030342000000"
         "1d000003036465660361707001620162017601760c2d0028000000fd000000000005000004fe00000200"
         "0800000500000100000001610900000600000200000002626205000007fe00000200",
         kProgressAndBulk},
    {"bulk_returning_deof", true, Command::kStmtBulkExecute, 0x0002, 0, 0,
         "01000001021f0000020364656603617070016201620269640269640c3f000b000000030342000000"
         "1d000003036465660361707001620162017601760c2d0028000000fd0000000000"
         "08000004000001000000016109000005000002000000026262"
         "07000006fe000002000000",
         kProgressAndBulk},
    {"bulk_insert_deof", true, Command::kStmtBulkExecute, 0x0002, 0, 0,
         "2e00000100020102000000265265636f7264733a203220204475706c6963617465733a203020205761726e696e67733a2030",
         kProgressAndBulk},
};

const Capture* FindCapture(std::string_view name) {
  for (const Capture& c : kCaptures) {
    if (name == c.name) return &c;
  }
  ADD_FAILURE() << "no capture " << name;
  return &kCaptures[0];
}

Bytes Response(std::string_view name) { return FromHex(FindCapture(name)->hex); }
Capabilities CapsOf(const Capture& c) { return (c.deprecate_eof ? kCapsDeprecateEof : kCaps) | c.extra_caps; }

class ResponseTrackerCaptureTest : public ::testing::TestWithParam<Capture> {};

TEST_P(ResponseTrackerCaptureTest, WholeResponse) {
  const Capture& c = GetParam();
  Bytes response = FromHex(c.hex);
  Outcome o = DriveWhole(CapsOf(c), c.command, response);
  EXPECT_EQ(o.failure, "");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.consumed, response.size());
  EXPECT_EQ(o.status, c.status);
  EXPECT_EQ(o.error, c.error);
  EXPECT_EQ(o.session_changes, c.session_changes);
}

TEST_P(ResponseTrackerCaptureTest, SplitInTwoAtEveryByte) {
  const Capture& c = GetParam();
  Bytes response = FromHex(c.hex);
  Outcome whole = DriveWhole(CapsOf(c), c.command, response);
  for (size_t cut = 1; cut < response.size(); ++cut) {
    EXPECT_EQ(Drive(CapsOf(c), c.command, response, {cut, response.size()}), whole) << "cut at " << cut;
  }
}

TEST_P(ResponseTrackerCaptureTest, OneByteAtATime) {
  const Capture& c = GetParam();
  Bytes response = FromHex(c.hex);
  std::vector<size_t> cuts;
  for (size_t i = 1; i <= response.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(Drive(CapsOf(c), c.command, response, cuts), DriveWhole(CapsOf(c), c.command, response));
}

// Every proper prefix leaves the response unfinished.
TEST_P(ResponseTrackerCaptureTest, NeverDoneOnAPrefix) {
  const Capture& c = GetParam();
  Bytes response = FromHex(c.hex);
  for (size_t len = 0; len < response.size(); ++len) {
    Outcome o = Drive(CapsOf(c), c.command, ByteView(response).first(len), {len});
    EXPECT_FALSE(o.done) << "prefix " << len;
    EXPECT_EQ(o.failure, "") << "prefix " << len;
  }
}

INSTANTIATE_TEST_SUITE_P(ResponseTrackerMariaDb1011, ResponseTrackerCaptureTest, ::testing::ValuesIn(kCaptures),
                         [](const ::testing::TestParamInfo<Capture>& info) { return std::string(info.param.name); });

TEST(ResponseTrackerTest, CommandsWithoutResponseAreDoneAtOnce) {
  for (Command c : {Command::kQuit, Command::kStmtClose, Command::kStmtSendLongData}) {
    ResponseTracker t(kCaps);
    t.Start(c);
    EXPECT_TRUE(t.done()) << int(c);
  }
}

TEST(ResponseTrackerTest, StartClearsThePreviousResponse) {
  ResponseTracker t(kCaps);
  Bytes err = Response("query_err");
  Drive(t, Command::kQuery, err, {err.size()});
  ASSERT_TRUE(t.error());
  Bytes use = Response("use_db");
  Drive(t, Command::kQuery, use, {use.size()});
  EXPECT_FALSE(t.error());
  EXPECT_EQ(t.session_changes().size(), 1u);
  Bytes ping = Response("ping");
  Drive(t, Command::kPing, ping, {ping.size()});
  EXPECT_TRUE(t.session_changes().empty());
}

TEST(ResponseTrackerTest, SessionStateChangesAreParsed) {
  for (bool deof : {false, true}) {
    ResponseTracker t(deof ? kCapsDeprecateEof : kCaps);
    Bytes use = Response(deof ? "use_db_deof" : "use_db");
    ASSERT_TRUE(Drive(t, Command::kQuery, use, {use.size()}).done);
    ASSERT_EQ(t.session_changes().size(), 1u);
    EXPECT_EQ(t.session_changes()[0].schema, "db1");
    EXPECT_TRUE(t.session_changes()[0].state_changed);

    Bytes names = Response(deof ? "set_names_deof" : "set_names");
    ASSERT_TRUE(Drive(t, Command::kQuery, names, {names.size()}).done);
    ASSERT_EQ(t.session_changes().size(), 1u);
    using Var = std::pair<std::string, std::string>;
    std::vector<Var> expected = {{"character_set_connection", "utf8mb4"},
                                 {"character_set_client", "utf8mb4"},
                                 {"character_set_results", "utf8mb4"}};
    EXPECT_EQ(t.session_changes()[0].system_variables, expected);

    // SET @a=1 is the last of three results; its OK carries the state change.
    Bytes multi = Response(deof ? "multi_deof" : "multi");
    ASSERT_TRUE(Drive(t, Command::kQuery, multi, {multi.size()}).done);
    ASSERT_EQ(t.session_changes().size(), 1u);
    EXPECT_TRUE(t.session_changes()[0].state_changed);
  }
}

TEST(ResponseTrackerTest, TransactionStatusFollowsTheServer) {
  for (bool deof : {false, true}) {
    std::string sfx = deof ? "_deof" : "";
    ResponseTracker t(deof ? kCapsDeprecateEof : kCaps);
    Bytes begin = Response("begin" + sfx);
    Drive(t, Command::kQuery, begin, {begin.size()});
    EXPECT_TRUE(t.status_flags() & status::kInTrans);
    Bytes select = Response("select_in_trans" + sfx);
    ASSERT_TRUE(Drive(t, Command::kQuery, select, {select.size()}).done);
    EXPECT_TRUE(t.status_flags() & status::kInTrans);
    // An ERR leaves the flags as they were.
    Bytes err = Response("query_err" + sfx);
    Drive(t, Command::kQuery, err, {err.size()});
    EXPECT_TRUE(t.status_flags() & status::kInTrans);
    Bytes commit = Response("commit" + sfx);
    Drive(t, Command::kQuery, commit, {commit.size()});
    EXPECT_FALSE(t.status_flags() & status::kInTrans);
  }
}

TEST(ResponseTrackerTest, PrepareRecordsTheStatementAndWhereItsIdIs) {
  struct Case {
    const char* name;
    uint32_t id;
    uint16_t columns, params;
  };
  for (const Case& c : {Case{"prepare_params_columns", 1, 2, 2}, Case{"prepare_params_only", 2, 0, 2},
                        Case{"prepare_columns_only", 3, 2, 0}, Case{"prepare_call", 5, 0, 0}}) {
    for (std::string name : {std::string(c.name), std::string(c.name) + "_deof"}) {
      const Capture& capture = *FindCapture(name);
      Bytes response = FromHex(capture.hex);
      ResponseTracker t(CapsOf(capture));
      Outcome o = Drive(t, Command::kStmtPrepare, response, {response.size()});
      ASSERT_TRUE(o.done) << name;
      ASSERT_TRUE(t.prepare_ok()) << name;
      EXPECT_EQ(t.prepare_ok()->statement_id, c.id) << name;
      EXPECT_EQ(t.prepare_ok()->num_columns, c.columns) << name;
      EXPECT_EQ(t.prepare_ok()->num_params, c.params) << name;
      EXPECT_EQ(o.statement_id_pos, kFrameHeaderSize + 1) << name;
      EXPECT_EQ(LoadU32(&response[*o.statement_id_pos]), c.id) << name;
    }
  }
  Bytes err = Response("prepare_err");
  ResponseTracker t(kCaps);
  Outcome o = Drive(t, Command::kStmtPrepare, err, {err.size()});
  EXPECT_FALSE(t.prepare_ok());
  EXPECT_FALSE(o.statement_id_pos);
}

TEST(ResponseTrackerTest, PrepareIdOffsetIsWithinTheFeedThatConsumedIt) {
  Bytes response = Response("prepare_params_columns");
  ResponseTracker t(kCaps);
  t.Start(Command::kStmtPrepare);
  auto n = t.Feed(ByteView(response).first(8));  // PREPARE_OK cut off
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(t.prepare_id_offset());
  n = t.Feed(ByteView(response).first(20));  // PREPARE_OK and the next frame header
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 16u);
  EXPECT_EQ(t.prepare_id_offset(), 5u);
  n = t.Feed(ByteView(response).subspan(*n));
  ASSERT_TRUE(n);
  EXPECT_FALSE(t.prepare_id_offset());  // reset by every Feed
}

TEST(ResponseTrackerTest, LocalInfileWaitsForTheUpload) {
  for (bool deof : {false, true}) {
    Bytes response = Response(deof ? "infile_deof" : "infile");
    ResponseTracker t(deof ? kCapsDeprecateEof : kCaps);
    t.Start(Command::kQuery);
    auto n = t.Feed(response);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 10u);  // the request, and not the OK that follows the upload
    EXPECT_TRUE(t.awaiting_local_infile());
    EXPECT_FALSE(t.done());
    t.LocalInfileSent();
    EXPECT_FALSE(t.awaiting_local_infile());
    n = t.Feed(ByteView(response).subspan(10));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, response.size() - 10);
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.error());
  }
}

TEST(ResponseTrackerTest, CursorExecuteEndsAfterMetadataAndFetchesFollow) {
  for (bool deof : {false, true}) {
    std::string sfx = deof ? "_deof" : "";
    ResponseTracker t(deof ? kCapsDeprecateEof : kCaps);
    Bytes execute = Response("execute_cursor" + sfx);
    EXPECT_TRUE(Drive(t, Command::kStmtExecute, execute, {execute.size()}).done);
    EXPECT_TRUE(t.status_flags() & status::kCursorExists);
    Bytes fetch = Response("fetch_2" + sfx);
    EXPECT_TRUE(Drive(t, Command::kStmtFetch, fetch, {fetch.size()}).done);
    EXPECT_TRUE(t.status_flags() & status::kCursorExists);
    EXPECT_FALSE(t.status_flags() & status::kLastRowSent);
    Bytes rest = Response("fetch_rest" + sfx);
    EXPECT_TRUE(Drive(t, Command::kStmtFetch, rest, {rest.size()}).done);
    EXPECT_TRUE(t.status_flags() & status::kLastRowSent);
  }
}

// A progress report is not an error: the response goes on to the statement's OK.
TEST(ResponseTrackerTest, ProgressReportsAreForwardedAndTheStatementGoesOn) {
  Bytes response = Response("alter_progress");
  ResponseTracker t(kCaps | capability::kMariaDbProgress);
  t.Start(Command::kQuery);
  auto n = t.Feed(ByteView(response).first(31 + 27));  // both reports, not the OK
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, 31u + 27u);
  EXPECT_FALSE(t.done());
  EXPECT_FALSE(t.error());
  n = t.Feed(ByteView(response).subspan(*n));
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_TRUE(t.done());
  EXPECT_FALSE(t.error());
  // A server sends them only to clients that negotiated progress reports.
  EXPECT_NE(DriveWhole(kCaps, Command::kQuery, response).failure, "");
}

TEST(ResponseTrackerTest, ErrorMidResultSetEndsTheResponse) {
  for (bool deof : {false, true}) {
    ResponseTracker t(deof ? kCapsDeprecateEof : kCaps);
    Bytes response = Response(deof ? "err_mid_rows_deof" : "err_mid_rows");
    ASSERT_TRUE(Drive(t, Command::kQuery, response, {response.size()}).done);
    ASSERT_TRUE(t.error());
    EXPECT_EQ(t.error()->error_code, 1242);
    EXPECT_EQ(t.error()->sql_state, "21000");
    EXPECT_EQ(t.error()->message, "Subquery returns more than 1 row");
  }
}

// Rows and definitions are skipped as they arrive; only OK/EOF/ERR and
// headers wait for the whole packet.
TEST(ResponseTrackerTest, ConsumesPartialRowsButNotPartialTerminators) {
  Bytes response = Response("select_rows");  // 5 + 35 + 39 + 9 + 10 + 7 + 12 + 9 bytes
  ResponseTracker t(kCaps);
  t.Start(Command::kQuery);
  auto n = t.Feed(ByteView(response).first(3));  // a header cut off
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  n = t.Feed(ByteView(response).first(20));  // into the first column definition
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 20u);
  n = t.Feed(ByteView(response).subspan(20, 60 + 4));  // ends inside the metadata EOF
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 59u);
  size_t pos = 79;
  n = t.Feed(ByteView(response).subspan(pos, 9 + 6));  // the EOF and part of the first row
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 15u);
  pos += 15;
  n = t.Feed(ByteView(response).subspan(pos, response.size() - pos - 1));  // ends inside the last EOF
  ASSERT_TRUE(n);
  pos += *n;
  EXPECT_EQ(pos, response.size() - 9);
  EXPECT_FALSE(t.done());
  n = t.Feed(ByteView(response).subspan(pos));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 9u);
  EXPECT_TRUE(t.done());
  EXPECT_EQ(t.status_flags(), status::kAutocommit | status::kNoIndexUsed);
}

// ---- Packets of 16 MiB or more ---------------------------------------------

void AppendFrame(Bytes& out, ByteView payload, uint8_t seq) {
  uint8_t header[kFrameHeaderSize];
  WriteFrameHeader({static_cast<uint32_t>(payload.size()), seq}, header);
  out.insert(out.end(), header, header + kFrameHeaderSize);
  out.insert(out.end(), payload.begin(), payload.end());
}

// A text result of one VARCHAR column: one row of `row_size` payload bytes
// (an 0xFE-prefixed length, then `fill` bytes), split into frames as a server
// does, then a short row and the terminator. Returns the response and the
// positions of its frame headers.
Bytes BigRowResult(bool deof, size_t row_size, uint8_t fill, std::vector<size_t>* frame_starts) {
  Bytes out = FromHex("0100000101");
  Bytes column = FromHex("23000002036465660364623101740174046e616d65046e616d650c2d0050000000fd0000000000");
  out.insert(out.end(), column.begin(), column.end());
  uint8_t seq = 3;
  if (!deof) AppendFrame(out, FromHex("fe00002200"), seq++);
  Bytes row(row_size, fill);
  row[0] = 0xfe;
  uint64_t value_size = row_size - 9;
  for (int i = 0; i < 8; ++i) row[1 + i] = static_cast<uint8_t>(value_size >> (8 * i));
  size_t sent = 0;
  while (true) {
    size_t part = std::min<size_t>(kMaxFramePayload, row.size() - sent);
    frame_starts->push_back(out.size());
    AppendFrame(out, ByteView(row).subspan(sent, part), seq++);
    sent += part;
    if (part < kMaxFramePayload) break;
  }
  frame_starts->push_back(out.size());
  AppendFrame(out, FromHex("03616263"), seq++);
  frame_starts->push_back(out.size());
  AppendFrame(out, deof ? FromHex("fe000022000000") : FromHex("fe00002200"), seq++);
  return out;
}

TEST(ResponseTrackerTest, RowsOf16MiBOrMoreSpanFrames) {
  struct Case {
    size_t row_size;
    uint8_t fill;  // continuation frames start with this byte
  };
  for (bool deof : {false, true}) {
    for (Case c : {Case{kMaxFramePayload + 100, 0xff}, Case{kMaxFramePayload + 100, 0xfe},
                   Case{kMaxFramePayload, 0xff}, Case{2 * size_t{kMaxFramePayload} + 5, 0x00}}) {
      SCOPED_TRACE(testing::Message() << "deof=" << deof << " size=" << c.row_size << " fill=" << int(c.fill));
      std::vector<size_t> frames;
      Bytes response = BigRowResult(deof, c.row_size, c.fill, &frames);
      Capabilities caps = deof ? kCapsDeprecateEof : kCaps;
      Outcome whole = DriveWhole(caps, Command::kQuery, response);
      EXPECT_EQ(whole.failure, "");
      EXPECT_TRUE(whole.done);
      EXPECT_EQ(whole.consumed, response.size());
      EXPECT_EQ(whole.status, status::kAutocommit | status::kNoIndexUsed);
      for (size_t start : frames) {
        for (size_t cut = start - 2; cut <= start + 6; ++cut) {
          EXPECT_EQ(Drive(caps, Command::kQuery, response, {cut, response.size()}), whole) << "cut " << cut;
        }
      }
      std::vector<size_t> cuts;
      for (size_t cut = 65521; cut < response.size(); cut += 65521) cuts.push_back(cut);
      cuts.push_back(response.size());
      EXPECT_EQ(Drive(caps, Command::kQuery, response, cuts), whole);
      Outcome prefix = Drive(caps, Command::kQuery, ByteView(response).first(response.size() - 1),
                             {response.size() - 1});
      EXPECT_FALSE(prefix.done);
    }
  }
}

// ---- Malformed responses ----------------------------------------------------

ErrorCode FeedError(Capabilities caps, Command command, std::string_view hex) {
  ResponseTracker t(caps);
  t.Start(command);
  Bytes data = FromHex(hex);
  auto n = t.Feed(data);
  if (n) {
    ADD_FAILURE() << "accepted " << hex;
    return ErrorCode::kIncomplete;
  }
  return n.error().code();
}

TEST(ResponseTrackerTest, MalformedResponsesAreRejected) {
  struct Case {
    const char* name;
    Capabilities caps;
    Command command;
    const char* hex;
  };
  const Case cases[] = {
      {"column count of 0", kCaps, Command::kQuery, "0100000100"},
      {"column count with a trailing byte", kCaps, Command::kQuery, "020000010100"},
      {"EOF of the wrong size", kCaps, Command::kPing, "07000001fe000002000000"},
      {"OK cut short", kCaps, Command::kQuery, "0300000100000002"},
      {"LOCAL INFILE after COM_STMT_EXECUTE", kCaps, Command::kStmtExecute, "06000001fb782e637376"},
      {"empty packet", kCaps, Command::kPing, "00000001"},
      {"empty row", kCaps, Command::kStmtFetch, "00000001"},
      {"neither PREPARE_OK nor ERR", kCaps, Command::kStmtPrepare, "0100000103"},
      {"PREPARE_OK cut short", kCaps, Command::kStmtPrepare, "080000010001000000020002"},
      {"ERR without a code", kCaps, Command::kQuery, "01000001ff"},
      {"16 MiB OK", kCaps, Command::kPing, "ffffff0100"},
      {"no EOF after definitions", kCaps, Command::kStmtExecute,
       "01000001011700000203646566000000013f000c3f0000000000068000000000050000030001000000"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FeedError(c.caps, c.command, c.hex), ErrorCode::kMalformed) << c.name;
  }
}


// ---- MariaDB CACHE_METADATA -------------------------------------------------

// The column definition of `c CHAR(120)` in sbtest1, as MariaDB 10.11 sends it
// in both a prepare response and an execute response (captured with strace).
const Bytes kCharColumn =
    FromHex("03646566067362746573740773627465737431077362746573743101630163000c2d00e0010000fe0100000000");

// A binary result of that column: column count (with the "metadata follows"
// byte when `cache`), the definition when `follows`, the EOFs unless `deof`,
// one row and the terminator.
Bytes ExecuteResult(bool cache, bool follows, bool deof) {
  Bytes out;
  uint8_t seq = 1;
  AppendFrame(out, cache ? FromHex(follows ? "0101" : "0100") : FromHex("01"), seq++);
  if (follows) AppendFrame(out, kCharColumn, seq++);
  if (!deof) AppendFrame(out, FromHex("fe00000200"), seq++);
  AppendFrame(out, FromHex("0000026162"), seq++);  // a binary row: header, null bitmap, "ab"
  AppendFrame(out, deof ? FromHex("fe000002000000") : FromHex("fe00000200"), seq++);
  return out;
}

// COM_STMT_PREPARE_OK of one column and one parameter, the parameter's
// definition, then the column's, with their EOFs unless `deof`.
Bytes PrepareResult(bool deof) {
  Bytes out;
  uint8_t seq = 1;
  AppendFrame(out, FromHex("000700000001000100000000"), seq++);
  AppendFrame(out, FromHex("03646566000000013f00000c3f0000000000068000000000"), seq++);
  if (!deof) AppendFrame(out, FromHex("fe00000200"), seq++);
  AppendFrame(out, kCharColumn, seq++);
  if (!deof) AppendFrame(out, FromHex("fe00000200"), seq++);
  return out;
}

uint64_t Fnv1a(ByteView bytes) {
  uint64_t h = 14695981039346656037ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

// Every split of `response` in two gives the same outcome and fingerprint as feeding it whole.
void ExpectSameAtEveryCut(Capabilities caps, Command command, const Bytes& response,
                          const std::optional<uint64_t>& fingerprint) {
  for (size_t cut = 1; cut < response.size(); ++cut) {
    ResponseTracker t(caps);
    Outcome o = Drive(t, command, response, {cut, response.size()});
    ASSERT_EQ(o.failure, "") << "cut " << cut;
    ASSERT_TRUE(o.done) << "cut " << cut;
    ASSERT_EQ(t.columns_fingerprint(), fingerprint) << "cut " << cut;
  }
}

TEST(ResponseTrackerTest, CachedMetadataSkippedByTheServerEndsTheDefinitions) {
  for (bool deof : {false, true}) {
    SCOPED_TRACE(deof ? "deprecate eof" : "eof");
    const Capabilities caps = (deof ? kCapsDeprecateEof : kCaps) | capability::kMariaDbCacheMetadata;
    const Bytes response = ExecuteResult(/*cache=*/true, /*follows=*/false, deof);
    ResponseTracker t(caps);
    Outcome o = Drive(t, Command::kStmtExecute, response, {response.size()});
    EXPECT_EQ(o.failure, "");
    EXPECT_TRUE(o.done);
    EXPECT_EQ(o.consumed, response.size());
    EXPECT_EQ(t.columns_fingerprint(), std::nullopt);  // the client's cache stands
    EXPECT_TRUE(t.metadata_skipped());
    ExpectSameAtEveryCut(caps, Command::kStmtExecute, response, std::nullopt);
  }
}

TEST(ResponseTrackerTest, MetadataSentAgainIsFingerprintedLikeThePrepareThatSentItFirst) {
  for (bool deof : {false, true}) {
    SCOPED_TRACE(deof ? "deprecate eof" : "eof");
    const Capabilities caps = (deof ? kCapsDeprecateEof : kCaps) | capability::kMariaDbCacheMetadata;
    const uint64_t expected = Fnv1a(kCharColumn);

    const Bytes prepare = PrepareResult(deof);
    ResponseTracker t(caps);
    Outcome o = Drive(t, Command::kStmtPrepare, prepare, {prepare.size()});
    ASSERT_EQ(o.failure, "");
    EXPECT_TRUE(o.done);
    EXPECT_EQ(t.columns_fingerprint(), expected);  // the column, not the parameter
    ExpectSameAtEveryCut(caps, Command::kStmtPrepare, prepare, expected);

    const Bytes execute = ExecuteResult(/*cache=*/true, /*follows=*/true, deof);
    o = Drive(t, Command::kStmtExecute, execute, {execute.size()});
    ASSERT_EQ(o.failure, "");
    EXPECT_TRUE(o.done);
    EXPECT_EQ(t.columns_fingerprint(), expected);
    EXPECT_FALSE(t.metadata_skipped());
    ExpectSameAtEveryCut(caps, Command::kStmtExecute, execute, expected);

    // A text result's definitions are not a statement's metadata.
    o = Drive(t, Command::kQuery, execute, {execute.size()});
    EXPECT_TRUE(o.done);
    EXPECT_EQ(t.columns_fingerprint(), std::nullopt);
  }
}

TEST(ResponseTrackerTest, WithoutCacheMetadataThereIsNoFlagByteAndNoFingerprint) {
  const Bytes plain = ExecuteResult(/*cache=*/false, /*follows=*/true, /*deof=*/true);
  ResponseTracker t(kCapsDeprecateEof);
  Outcome o = Drive(t, Command::kStmtExecute, plain, {plain.size()});
  EXPECT_EQ(o.failure, "");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(t.columns_fingerprint(), std::nullopt);
  // A flag byte the connection did not negotiate is a broken column count.
  const Bytes flagged = ExecuteResult(/*cache=*/true, /*follows=*/true, /*deof=*/true);
  EXPECT_NE(DriveWhole(kCapsDeprecateEof, Command::kStmtExecute, flagged).failure, "");
}

TEST(ResponseTrackerTest, MalformedMetadataFollowsBytesAreRejected) {
  const Capabilities caps = kCapsDeprecateEof | capability::kMariaDbCacheMetadata;
  for (std::string_view count : {"01", "0102", "010100"}) {  // missing, not 0 or 1, trailing byte
    Bytes response;
    AppendFrame(response, FromHex(count), 1);
    AppendFrame(response, FromHex("fe000002000000"), 2);
    EXPECT_NE(DriveWhole(caps, Command::kStmtExecute, response).failure, "") << count;
  }
}

}  // namespace
}  // namespace cutover::protocol
