// A Connector/C (libmariadb) connection for integration tests, in-process.
// Thread-safety: none; one per thread.
#pragma once

#include <mysql.h>

#include <string>

#include <fmt/format.h>

#include "proxy_fixture.h"

namespace cutover::testing {

// One libmariadb connection. Every call reports failures as "errno message".
class CClient {
 public:
  // With `compress`, the compressed protocol (zlib).
  explicit CClient(uint16_t port, unsigned long max_allowed_packet = 64ul << 20, bool compress = false)
      : mysql_(mysql_init(nullptr)) {
    mysql_options(mysql_, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_allowed_packet);
    if (compress) mysql_options(mysql_, MYSQL_OPT_COMPRESS, nullptr);
    const unsigned int timeout_seconds = 30;  // a lost answer fails the test instead of hanging it
    mysql_options(mysql_, MYSQL_OPT_READ_TIMEOUT, &timeout_seconds);
    mysql_options(mysql_, MYSQL_OPT_WRITE_TIMEOUT, &timeout_seconds);
    connected_ = mysql_real_connect(mysql_, "127.0.0.1", kAppUser, kAppPassword, "app", port, nullptr, 0) != nullptr;
  }
  ~CClient() { mysql_close(mysql_); }
  CClient(const CClient&) = delete;
  CClient& operator=(const CClient&) = delete;

  bool connected() const { return connected_; }
  MYSQL* get() { return mysql_; }
  unsigned error_number() { return mysql_errno(mysql_); }
  std::string error() { return fmt::format("{} {}", mysql_errno(mysql_), mysql_error(mysql_)); }

  // Runs one statement; returns its rows as "a|b;c|d", "" without rows, or "ERR <errno>".
  std::string Query(const std::string& sql) {
    if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return fmt::format("ERR {}", mysql_errno(mysql_));
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (!res) return mysql_field_count(mysql_) ? fmt::format("ERR {}", mysql_errno(mysql_)) : "";
    std::string out;
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      if (!out.empty()) out += ";";
      for (unsigned i = 0; i < mysql_num_fields(res); ++i) {
        if (i) out += "|";
        out += row[i] ? row[i] : "NULL";
      }
    }
    mysql_free_result(res);
    return out;
  }

 private:
  MYSQL* mysql_;
  bool connected_ = false;
};

// A Connector/C prepared-statement handle, closed with the object: the part
// every test statement class shares. A derived constructor sets any
// attributes on stmt_, then calls Prepare.
class CStatement {
 public:
  explicit CStatement(MYSQL* mysql) : stmt_(mysql_stmt_init(mysql)) {}
  ~CStatement() { mysql_stmt_close(stmt_); }
  CStatement(const CStatement&) = delete;
  CStatement& operator=(const CStatement&) = delete;

  bool prepared() const { return prepared_; }
  // "errno message" of the statement's last failure.
  std::string error() { return fmt::format("{} {}", mysql_stmt_errno(stmt_), mysql_stmt_error(stmt_)); }

 protected:
  void Prepare(const std::string& sql) { prepared_ = mysql_stmt_prepare(stmt_, sql.data(), sql.size()) == 0; }

  MYSQL_STMT* stmt_;

 private:
  bool prepared_ = false;
};

}  // namespace cutover::testing
