// Errors and results for every layer of cutover.
//
// A Result<T> carries either a value or an Error that says what failed, where,
// and (for server errors) the server's errno and SQLSTATE. Errors are values:
// exceptions are kept for what ends an operation outright (see STYLE.md).
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace cutover {

enum class ErrorCode {
  kIncomplete,    // more bytes are needed before the input can be parsed
  kMalformed,     // the input can never be parsed
  kUnsupported,   // valid, but cutover does not handle it
  kIo,            // a socket, file or process failed
  kTimeout,       // a bounded wait ran out
  kServer,        // a database server answered with an error
  kPrecondition,  // a check before an action failed; nothing was changed
  kCancelled,     // the operation was stopped on purpose
  kConfig,        // the configuration is wrong
};

std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Error Incomplete(std::string m = "incomplete input") { return {ErrorCode::kIncomplete, std::move(m)}; }
  static Error Malformed(std::string m) { return {ErrorCode::kMalformed, std::move(m)}; }
  static Error Unsupported(std::string m) { return {ErrorCode::kUnsupported, std::move(m)}; }
  static Error Io(std::string m) { return {ErrorCode::kIo, std::move(m)}; }
  static Error Timeout(std::string m) { return {ErrorCode::kTimeout, std::move(m)}; }
  static Error Precondition(std::string m) { return {ErrorCode::kPrecondition, std::move(m)}; }
  static Error Cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m)}; }
  static Error Config(std::string m) { return {ErrorCode::kConfig, std::move(m)}; }
  static Error Server(uint16_t server_errno, std::string sql_state, std::string m) {
    Error e(ErrorCode::kServer, std::move(m));
    e.server_errno_ = server_errno;
    e.sql_state_ = std::move(sql_state);
    return e;
  }

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  uint16_t server_errno() const { return server_errno_; }  // 0 unless code() == kServer
  const std::string& sql_state() const { return sql_state_; }

  // Returns a copy that names which server failed: "target 127.0.0.1:3307: ..."
  // (connection errors already start with the address).
  Error OnServer(std::string_view role) const {
    Error e = *this;
    e.message_ = fmt::format("{} {}", role, message_);
    return e;
  }

  // Returns a copy with `suffix` appended to the message.
  Error WithSuffix(std::string_view suffix) const {
    Error e = *this;
    e.message_ += suffix;
    return e;
  }

  // Returns a copy whose message starts with `context`, e.g. the server's address.
  Error WithContext(std::string_view context) const {
    Error e = *this;
    e.message_ = fmt::format("{}: {}", context, message_);
    return e;
  }

 private:
  ErrorCode code_;
  std::string message_;
  uint16_t server_errno_ = 0;
  std::string sql_state_;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> Fail(Error e) { return std::unexpected<Error>(std::move(e)); }

}  // namespace cutover
