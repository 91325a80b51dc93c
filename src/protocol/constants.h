// Constants of the MySQL/MariaDB client/server protocol, named as in the
// protocol documentation. Thread-safety: constants only.
#pragma once

#include <cstdint>

namespace cutover::protocol {

// Command byte: the first byte of every packet a client sends after login.
enum class Command : uint8_t {
  kSleep = 0x00,
  kQuit = 0x01,
  kInitDb = 0x02,
  kQuery = 0x03,
  kFieldList = 0x04,
  kCreateDb = 0x05,
  kDropDb = 0x06,
  kRefresh = 0x07,
  kShutdown = 0x08,
  kStatistics = 0x09,
  kProcessInfo = 0x0a,
  kConnect = 0x0b,
  kProcessKill = 0x0c,
  kDebug = 0x0d,
  kPing = 0x0e,
  kTime = 0x0f,
  kDelayedInsert = 0x10,
  kChangeUser = 0x11,
  kBinlogDump = 0x12,
  kTableDump = 0x13,
  kConnectOut = 0x14,
  kRegisterSlave = 0x15,
  kStmtPrepare = 0x16,
  kStmtExecute = 0x17,
  kStmtSendLongData = 0x18,
  kStmtClose = 0x19,
  kStmtReset = 0x1a,
  kSetOption = 0x1b,
  kStmtFetch = 0x1c,
  kDaemon = 0x1d,
  kBinlogDumpGtid = 0x1e,
  kResetConnection = 0x1f,
  kStmtBulkExecute = 0xfa,  // MariaDB only
};

// Capability flags. The 32 low bits are the protocol's; MariaDB's extended
// flags are the 32 high bits, which travel in the greeting's and the login's
// reserved bytes, and only when CLIENT_MYSQL (bit 0) is clear.
using Capabilities = uint64_t;
namespace capability {
inline constexpr Capabilities kLongPassword = 1u << 0;  // also "CLIENT_MYSQL": not a MariaDB-extended client
inline constexpr Capabilities kFoundRows = 1u << 1;
inline constexpr Capabilities kLongFlag = 1u << 2;
inline constexpr Capabilities kConnectWithDb = 1u << 3;
inline constexpr Capabilities kNoSchema = 1u << 4;
inline constexpr Capabilities kCompress = 1u << 5;
inline constexpr Capabilities kOdbc = 1u << 6;
inline constexpr Capabilities kLocalFiles = 1u << 7;
inline constexpr Capabilities kIgnoreSpace = 1u << 8;
inline constexpr Capabilities kProtocol41 = 1u << 9;
inline constexpr Capabilities kInteractive = 1u << 10;
inline constexpr Capabilities kSsl = 1u << 11;
inline constexpr Capabilities kIgnoreSigpipe = 1u << 12;
inline constexpr Capabilities kTransactions = 1u << 13;
inline constexpr Capabilities kReserved = 1u << 14;
inline constexpr Capabilities kSecureConnection = 1u << 15;
inline constexpr Capabilities kMultiStatements = 1u << 16;
inline constexpr Capabilities kMultiResults = 1u << 17;
inline constexpr Capabilities kPsMultiResults = 1u << 18;
inline constexpr Capabilities kPluginAuth = 1u << 19;
inline constexpr Capabilities kConnectAttrs = 1u << 20;
inline constexpr Capabilities kPluginAuthLenencData = 1u << 21;
inline constexpr Capabilities kCanHandleExpiredPasswords = 1u << 22;
inline constexpr Capabilities kSessionTrack = 1u << 23;
inline constexpr Capabilities kDeprecateEof = 1u << 24;
inline constexpr Capabilities kOptionalResultsetMetadata = 1u << 25;
inline constexpr Capabilities kQueryAttributes = 1u << 27;
inline constexpr Capabilities kLowHalf = 0xffffffffu;
// MariaDB's extended capabilities (Connector/C mariadb_com.h, MARIADB_CLIENT_*).
inline constexpr Capabilities kMariaDbProgress = 1ull << 32;            // progress reports mid-statement
inline constexpr Capabilities kMariaDbComMulti = 1ull << 33;            // obsolete
inline constexpr Capabilities kMariaDbStmtBulkOperations = 1ull << 34;  // COM_STMT_BULK_EXECUTE
inline constexpr Capabilities kMariaDbExtendedMetadata = 1ull << 35;    // extended type info in column definitions
inline constexpr Capabilities kMariaDbCacheMetadata = 1ull << 36;       // "metadata follows" byte after column counts
inline constexpr Capabilities kMariaDbBulkUnitResults = 1ull << 37;     // 11.5+: a result per bulk row
inline constexpr Capabilities kMariaDbExtended = ~kLowHalf;
}  // namespace capability

// Server status flags carried by OK and EOF packets.
namespace status {
inline constexpr uint16_t kInTrans = 0x0001;
inline constexpr uint16_t kAutocommit = 0x0002;
inline constexpr uint16_t kMoreResultsExist = 0x0008;
inline constexpr uint16_t kNoGoodIndexUsed = 0x0010;
inline constexpr uint16_t kNoIndexUsed = 0x0020;
inline constexpr uint16_t kCursorExists = 0x0040;
inline constexpr uint16_t kLastRowSent = 0x0080;
inline constexpr uint16_t kDbDropped = 0x0100;
inline constexpr uint16_t kNoBackslashEscapes = 0x0200;
inline constexpr uint16_t kMetadataChanged = 0x0400;
inline constexpr uint16_t kQueryWasSlow = 0x0800;
inline constexpr uint16_t kPsOutParams = 0x1000;
inline constexpr uint16_t kInTransReadonly = 0x2000;
inline constexpr uint16_t kSessionStateChanged = 0x4000;
}  // namespace status

// Session-state-change entry types (OK packet, CLIENT_SESSION_TRACK).
enum class SessionTrackType : uint8_t {
  kSystemVariables = 0,
  kSchema = 1,
  kStateChange = 2,
  kGtids = 3,
  kTransactionCharacteristics = 4,
  kTransactionState = 5,
};

// COM_SET_OPTION values.
enum class SetOption : uint16_t { kMultiStatementsOn = 0, kMultiStatementsOff = 1 };

// COM_STMT_EXECUTE flags (cursor type).
inline constexpr uint8_t kCursorTypeReadOnly = 0x01;

// COM_STMT_BULK_EXECUTE flags (MariaDB).
inline constexpr uint16_t kBulkSendUnitResults = 64;
inline constexpr uint16_t kBulkSendTypesToServer = 128;

// First payload bytes of server packets.
inline constexpr uint8_t kOkHeader = 0x00;
inline constexpr uint8_t kLocalInfileHeader = 0xfb;
inline constexpr uint8_t kEofHeader = 0xfe;
inline constexpr uint8_t kErrHeader = 0xff;

inline constexpr char kNativePasswordPlugin[] = "mysql_native_password";
inline constexpr size_t kScrambleLength = 20;

// Server error numbers cutover itself sends.
namespace server_error {
inline constexpr uint16_t kAccessDenied = 1045;           // ER_ACCESS_DENIED_ERROR, SQLSTATE 28000
inline constexpr uint16_t kUnknownCommand = 1047;         // ER_UNKNOWN_COM_ERROR, SQLSTATE 08S01
inline constexpr uint16_t kHandshakeError = 1043;         // ER_HANDSHAKE_ERROR, SQLSTATE 08S01
inline constexpr uint16_t kUnknownError = 1105;           // ER_UNKNOWN_ERROR, SQLSTATE HY000
inline constexpr uint16_t kUnknownStatement = 1243;       // ER_UNKNOWN_STMT_HANDLER, SQLSTATE HY000
inline constexpr uint16_t kNetPacketTooLarge = 1153;      // ER_NET_PACKET_TOO_LARGE, SQLSTATE 08S01
inline constexpr uint16_t kConnectionKilled = 1927;       // ER_CONNECTION_KILLED (MariaDB), SQLSTATE 70100
inline constexpr uint16_t kSecureTransportRequired = 3159;  // ER_SECURE_TRANSPORT_REQUIRED, SQLSTATE 08004 (MariaDB)
// Not an error: the code of MariaDB's progress report packets (0xFF 0xFF 0xFF ...),
// sent mid-statement to clients that negotiated kMariaDbProgress.
inline constexpr uint16_t kProgressReport = 0xffff;
// Client-side numbers (2000-2999, such as 2003 and 2013) must not be sent:
// Connector/C reports a server ERR carrying one as "malformed packet" (2027).
}  // namespace server_error

}  // namespace cutover::protocol
