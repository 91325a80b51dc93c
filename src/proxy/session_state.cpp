#include "proxy/session_state.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace cutover::proxy {
namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool EqualsUpper(std::string_view word, std::string_view upper) {
  if (word.size() != upper.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(word[i])) != upper[i]) return false;
  }
  return true;
}

// Returns the index just past a quoted run that starts at sql[i] (a quote).
size_t SkipQuoted(std::string_view sql, size_t i) {
  const char quote = sql[i];
  for (size_t j = i + 1; j < sql.size(); ++j) {
    if (sql[j] == '\\' && quote != '`') {
      ++j;
    } else if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        ++j;  // doubled quote
      } else {
        return j + 1;
      }
    }
  }
  return sql.size();
}

// Returns the index past a comment starting at sql[i], or i when none starts
// there. Executable comments (/*! ... */) are code and are not skipped.
size_t SkipComment(std::string_view sql, size_t i) {
  const char c = sql[i];
  const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
  if (c == '#' || (c == '-' && next == '-' && (i + 2 >= sql.size() || std::isspace(static_cast<unsigned char>(sql[i + 2]))))) {
    const size_t end = sql.find('\n', i);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  if (c == '/' && next == '*') {
    if (i + 2 < sql.size() && (sql[i + 2] == '!' || sql[i + 2] == 'M')) return i + 2;
    const size_t end = sql.find("*/", i + 2);
    return end == std::string_view::npos ? sql.size() : end + 2;
  }
  return i;
}

// The statement's words, in order, with ';' as its own token.
struct Token {
  std::string_view text;
  bool is_word;
};

void ApplyWords(const std::vector<Token>& tokens, PinScan& scan) {
  bool statement_start = true;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view w = tokens[i].text;
    const bool start = statement_start;
    statement_start = (w == ";");
    if (!tokens[i].is_word) continue;
    auto next_is = [&](std::string_view upper) {
      return i + 1 < tokens.size() && tokens[i + 1].is_word && EqualsUpper(tokens[i + 1].text, upper);
    };
    auto prev_is = [&](std::string_view upper) { return i > 0 && EqualsUpper(tokens[i - 1].text, upper); };
    if (EqualsUpper(w, "TEMPORARY") && next_is("TABLE") && (prev_is("CREATE") || prev_is("REPLACE"))) {
      scan.add |= kPinTemporaryTable;
    } else if (EqualsUpper(w, "LOCK") && (next_is("TABLES") || next_is("TABLE")) && !prev_is("UNLOCK")) {
      scan.add |= kPinLockTables;
    } else if (EqualsUpper(w, "UNLOCK") && (next_is("TABLES") || next_is("TABLE"))) {
      scan.unlocks_tables = true;
    } else if (EqualsUpper(w, "GET_LOCK")) {
      scan.add |= kPinNamedLock;
    } else if (start && EqualsUpper(w, "PREPARE")) {
      scan.add |= kPinSqlPrepare;
    }
  }
}

}  // namespace

std::string DescribePins(uint32_t pins) {
  static constexpr std::array<std::pair<uint32_t, const char*>, 6> kNames{{
      {kPinTemporaryTable, "temporary table"},
      {kPinLockTables, "LOCK TABLES"},
      {kPinNamedLock, "GET_LOCK"},
      {kPinUserVariable, "user variable"},
      {kPinSqlPrepare, "SQL PREPARE"},
      {kPinCursor, "open cursor"},
  }};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(pins & bit)) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

PinScan ScanQueryForPins(std::string_view sql) {
  PinScan scan;
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (size_t after = SkipComment(sql, i); after != i) {
      i = after;
    } else if (c == '\'' || c == '"' || c == '`') {
      i = SkipQuoted(sql, i);
    } else if (c == '@') {
      const bool system = i + 1 < sql.size() && sql[i + 1] == '@';
      // 'user'@'host' and user@host are account names, not variables.
      const bool account = i > 0 && (IsIdentChar(sql[i - 1]) || sql[i - 1] == '\'' || sql[i - 1] == '"' || sql[i - 1] == '`');
      if (!system && !account) scan.add |= kPinUserVariable;
      i += system ? 2 : 1;
      while (i < sql.size() && (IsIdentChar(sql[i]) || sql[i] == '.')) ++i;
    } else if (IsIdentChar(c)) {
      const size_t start = i;
      while (i < sql.size() && IsIdentChar(sql[i])) ++i;
      tokens.push_back({sql.substr(start, i - start), true});
    } else {
      if (c == ';') tokens.push_back({sql.substr(i, 1), false});
      ++i;
    }
  }
  ApplyWords(tokens, scan);
  return scan;
}

bool MentionsSessionTracking(std::string_view sql) {
  constexpr std::string_view kName = "session_track_system_variables";
  auto it = std::search(sql.begin(), sql.end(), kName.begin(), kName.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
  return it != sql.end();
}

bool IsRestorableVariable(std::string_view name) {
  static constexpr std::array<std::string_view, 16> kSkip{
      "session_track_system_variables", "session_track_schema", "session_track_state_change",
      "session_track_transaction_info", "session_track_gtids", "last_gtid",
      "timestamp", "insert_id", "last_insert_id", "identity", "rand_seed1", "rand_seed2",
      "pseudo_thread_id", "warning_count", "error_count", "gtid_seq_no"};
  return std::find(kSkip.begin(), kSkip.end(), name) == kSkip.end();
}

namespace {

// session_track_system_variables as the server reports it: a comma-separated
// list, '*' for every variable.
std::optional<std::vector<std::string>> ParseTrackingList(std::string_view value) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(start, end - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    std::string name(item);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name == "*") return std::nullopt;
    if (!name.empty()) names.push_back(std::move(name));
    start = end + 1;
  }
  return names;
}

}  // namespace

void SessionState::ApplyChanges(const protocol::SessionStateChanges& changes) {
  for (const auto& [name, value] : changes.system_variables) {
    if (IsRestorableVariable(name)) variables_[name] = value;
  }
  if (changes.schema) schema_ = *changes.schema;
}

bool SessionState::SetClientTracking(std::string_view value) {
  client_tracking_ = ParseTrackingList(value);
  return client_tracking_.has_value();
}

bool SessionState::FilterForClient(protocol::SessionStateChanges& changes) const {
  if (client_tracking_) {
    std::erase_if(changes.system_variables, [&](const auto& variable) {
      std::string name = variable.first;
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      return std::find(client_tracking_->begin(), client_tracking_->end(), name) == client_tracking_->end();
    });
  }
  return !changes.system_variables.empty() || changes.schema || changes.state_changed || !changes.gtids.empty() ||
         changes.transaction_characteristics || changes.transaction_state;
}

void SessionState::Reset() {
  client_tracking_.reset();
  variables_.clear();
  statements_.clear();
  pins_ = 0;
  open_cursors_ = 0;
}

void SessionState::ApplyPinScan(const PinScan& scan) {
  if (scan.unlocks_tables) pins_ &= ~uint32_t(kPinLockTables);
  pins_ |= scan.add;
}

uint32_t SessionState::AddStatement(PreparedStatement statement) {
  const uint32_t id = next_statement_id_++;
  statements_.emplace(id, std::move(statement));
  return id;
}

PreparedStatement* SessionState::FindStatement(uint32_t client_id) {
  auto it = statements_.find(client_id);
  return it == statements_.end() ? nullptr : &it->second;
}

void SessionState::RemoveStatement(uint32_t client_id) {
  auto it = statements_.find(client_id);
  if (it == statements_.end()) return;
  if (it->second.cursor_open) --open_cursors_;
  statements_.erase(it);
}

void SessionState::SetCursorOpen(PreparedStatement& statement, bool open) {
  if (statement.cursor_open == open) return;
  statement.cursor_open = open;
  open_cursors_ += open ? 1 : -1;
}

namespace {

bool LooksNumeric(std::string_view v) {
  if (v.empty()) return false;
  size_t i = (v[0] == '-') ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < v.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(v[i]))) {
      digits = true;
    } else if (v[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits;
}

std::string QuoteValue(std::string_view v, bool no_backslash_escapes) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'') out += "''";
    else if (c == '\\' && !no_backslash_escapes) out += "\\\\";
    else out += c;
  }
  out += "'";
  return out;
}

}  // namespace

std::string SessionState::RestoreVariablesSql(bool no_backslash_escapes) const {
  std::string sql;
  for (const auto& [name, value] : variables_) {
    sql += sql.empty() ? "SET SESSION " : ", SESSION ";
    sql += "`" + name + "` = ";
    sql += LooksNumeric(value) ? value : QuoteValue(value, no_backslash_escapes);
  }
  return sql;
}

}  // namespace cutover::proxy
