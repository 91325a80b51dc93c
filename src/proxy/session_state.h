// What the proxy knows about one client session's server-side state, so that
// the session can be rebuilt on another server: schema, session variables
// (from session tracking), prepared statements (the client sees the proxy's
// ids; each maps to the current backend's id), and pins, the state that
// cannot be rebuilt (temporary tables, LOCK TABLES, GET_LOCK, user variables,
// SQL-level PREPARE, open cursors).
// Sans-io. Thread-safety: none; owned by one session.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/bytes.h"
#include "protocol/session_state.h"

namespace cutover::proxy {

// Why a session cannot move; bit flags.
enum Pin : uint32_t {
  kPinTemporaryTable = 1u << 0,
  kPinLockTables = 1u << 1,
  kPinNamedLock = 1u << 2,
  kPinUserVariable = 1u << 3,
  kPinSqlPrepare = 1u << 4,
  kPinCursor = 1u << 5,
};
// "temporary table, user variable"; "" for no pins.
std::string DescribePins(uint32_t pins);

// What one COM_QUERY text does to pins. Quoted strings, identifiers and
// comments are skipped, so "SELECT '@x'" pins nothing.
struct PinScan {
  uint32_t add = 0;            // pins the statement creates
  bool unlocks_tables = false; // UNLOCK TABLES
};
PinScan ScanQueryForPins(std::string_view sql);
// Does the statement name session_track_system_variables (in any case)?
bool MentionsSessionTracking(std::string_view sql);

struct PreparedStatement {
  std::string sql;
  uint32_t backend_id = 0;
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  Bytes param_types;             // types of the last execute that bound them (2 bytes per param)
  bool backend_has_types = false;  // Has the current backend seen param_types?
  bool cursor_open = false;
  // With MariaDB's CACHE_METADATA: the fingerprint of the column definitions
  // the client holds for the statement (ResponseTracker::columns_fingerprint),
  // from its prepare or the last execute that carried them; nullopt: none.
  std::optional<uint64_t> client_columns;
  // Set by a move when the new server's prepare reported other columns than
  // the client holds: if that server's execute skips them, the client would
  // read rows with columns that are not theirs (RelayResponse refuses it).
  bool columns_unconfirmed = false;
};

class SessionState {
 public:
  // Applies one OK packet's session-state changes.
  void ApplyChanges(const protocol::SessionStateChanges& changes);
  // COM_RESET_CONNECTION: variables, statements, pins and the client's own
  // tracking list go; the schema stays.
  void Reset();

  // Records session_track_system_variables as the client set it (a list of
  // names, or '*'). Returns true when it is not '*': the proxy needs every
  // variable tracked, so the backend must be set back to '*', and the client
  // is shown only the variables it named.
  [[nodiscard]] bool SetClientTracking(std::string_view value);
  // The variables the client asked the server to track, lower-case, when it
  // narrowed session_track_system_variables; nullopt: all of them.
  const std::optional<std::vector<std::string>>& client_tracking() const { return client_tracking_; }
  // Drops from `changes` the variables the client does not track. Returns
  // false when nothing is left in them at all.
  bool FilterForClient(protocol::SessionStateChanges& changes) const;

  const std::string& schema() const { return schema_; }
  void set_schema(std::string schema) { schema_ = std::move(schema); }
  const std::map<std::string, std::string>& variables() const { return variables_; }

  uint32_t pins() const { return pins_ | (open_cursors_ > 0 ? uint32_t{kPinCursor} : 0u); }
  void ApplyPinScan(const PinScan& scan);

  bool multi_statements() const { return multi_statements_; }
  void set_multi_statements(bool on) { multi_statements_ = on; }

  // Records a statement and returns the client-visible id for it.
  uint32_t AddStatement(PreparedStatement statement);
  PreparedStatement* FindStatement(uint32_t client_id);
  void RemoveStatement(uint32_t client_id);
  std::unordered_map<uint32_t, PreparedStatement>& statements() { return statements_; }
  void SetCursorOpen(PreparedStatement& statement, bool open);

  // One SET statement that restores every tracked variable on a fresh
  // connection, or "" when there is nothing to restore. Values that look
  // numeric go unquoted; others are quoted for a server whose sql_mode has
  // (or lacks) NO_BACKSLASH_ESCAPES.
  std::string RestoreVariablesSql(bool no_backslash_escapes) const;

 private:
  std::string schema_;
  std::map<std::string, std::string> variables_;  // ordered: restores are deterministic
  std::optional<std::vector<std::string>> client_tracking_;
  uint32_t pins_ = 0;
  int open_cursors_ = 0;
  bool multi_statements_ = false;
  std::unordered_map<uint32_t, PreparedStatement> statements_;
  uint32_t next_statement_id_ = 1;
};

// Variables the tracker reports that must not be restored: the proxy's own
// tracking settings, read-only values and per-statement values.
bool IsRestorableVariable(std::string_view name);

}  // namespace cutover::proxy
