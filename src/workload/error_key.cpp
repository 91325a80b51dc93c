#include "workload/error_key.h"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace cutover::workload {
namespace {

// The longest message prefix kept in a key.
constexpr size_t kMaxPrefix = 60;

// Connector/C's client error texts (CR_*, errmsg.h) up to their first
// variable part. libmariadb does not export its client_errors[] table.
constexpr std::array<std::pair<std::string_view, int>, 10> kClientErrors{{
    {"Can't connect to local server", 2002},
    {"Can't connect to server", 2003},
    {"Unknown server host", 2005},
    {"Server has gone away", 2006},
    {"MySQL server has gone away", 2006},
    {"Error in server handshake", 2012},
    {"Lost connection to server", 2013},
    {"Lost connection to MySQL server", 2013},
    {"Commands out of sync", 2014},
    {"Malformed packet", 2027},
}};

// The message without the "host:port: " its connection put in front.
std::string_view WithoutWhere(std::string_view message, std::string_view where) {
  if (!where.empty() && message.starts_with(where) && message.substr(where.size()).starts_with(": ")) {
    message.remove_prefix(where.size() + 2);
  }
  return message;
}

// Where the first quoted value or parenthesized detail starts: a quote or
// parenthesis that opens a word (the one in "Can't" does not).
size_t VariablePartStart(std::string_view text) {
  for (size_t i = text.find_first_of("'\"(`"); i != std::string_view::npos; i = text.find_first_of("'\"(`", i + 1)) {
    if (i == 0 || text[i - 1] == ' ') return i;
  }
  return std::string_view::npos;
}

// The start of `text` before anything that varies from one occurrence to the
// next (a quoted value, a parenthesized detail), cut at a word boundary.
std::string StablePrefix(std::string_view text) {
  text = text.substr(0, VariablePartStart(text));
  if (text.size() > kMaxPrefix) {
    const size_t space = text.rfind(' ', kMaxPrefix);
    text = text.substr(0, space == std::string_view::npos ? kMaxPrefix : space);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == ':' || text.back() == ',' || text.back() == '.')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

}  // namespace

std::string ErrorKey(const Error& error, std::string_view where) {
  const std::string prefix = StablePrefix(WithoutWhere(error.message(), where));
  if (error.code() == ErrorCode::kServer) return fmt::format("{} {}", error.server_errno(), prefix);
  if (error.code() == ErrorCode::kIo) {
    for (const auto& [text, number] : kClientErrors) {
      if (prefix.starts_with(text)) return fmt::format("{} {}", number, prefix);
    }
    return fmt::format("io {}", prefix);
  }
  return prefix;
}

bool ConnectionLost(const Error& error) {
  if (error.code() == ErrorCode::kIo) return true;
  if (error.code() != ErrorCode::kServer) return false;
  const uint16_t n = error.server_errno();
  return error.sql_state().starts_with("08") || n == 1927 || n == 1053 || n == 1152;
}

}  // namespace cutover::workload
