// A blocking control-plane connection to one MySQL/MariaDB server, over
// MariaDB Connector/C.
//
// Every call blocks the calling thread on network I/O, for up to the
// configured timeouts. It must never run on the proxy's event loop: run it on
// a thread of its own (see DESIGN.md, "Control-plane SQL ... never runs on the
// proxy's event loop").
//
// Errors: kIo when the server cannot be reached or the connection is lost
// (Connector/C client errors, CR_*); kServer, with the server's errno and
// SQLSTATE, when the server answers with an error (including "Access denied"
// at login). Messages start with the server's address.
//
// Multi-statements are off: one statement per call.
// Thread-safety: none; one Connection is used by one thread at a time. Distinct
// Connections may be used from distinct threads concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/sql_text.h"
#include "db/endpoint.h"

struct st_mysql;  // MYSQL, from <mysql.h>; kept out of this header.

namespace cutover::db {

struct ConnectOptions {
  std::chrono::seconds connect_timeout{5};  // TCP connect and the server's greeting
  // How long one read or write on the socket may wait; 0: Endpoint::timeout.
  // A call that waits longer fails with kIo "no answer within N s".
  std::chrono::seconds read_timeout{0};
  std::chrono::seconds write_timeout{0};
  std::string database;                   // empty: no default schema
  std::string unix_socket;                // non-empty: connect over this socket, not TCP
  // "binary" makes the server send and take column bytes unconverted (data copy).
  std::string charset = "utf8mb4";
  // Allow LoadDataLocal(). Off by default: a server could otherwise ask for any local file.
  bool local_infile = false;
};

// One row; std::nullopt is SQL NULL. Values are the text protocol's bytes.
using Row = std::vector<std::optional<std::string>>;

// One field of a streamed row: the bytes, or std::nullopt for SQL NULL. Valid
// only during the callback that receives it.
using FieldView = std::optional<std::string_view>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

class Connection {
 public:
  // Logs in to `endpoint` with utf8mb4. Blocks for up to connect_timeout.
  [[nodiscard]] static Result<Connection> Connect(const Endpoint& endpoint, ConnectOptions options = {});

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();  // Closes the connection (COM_QUIT); never throws.

  // Runs a statement and discards any result set.
  // REQUIRES: *this has not been moved from (true of every method below).
  [[nodiscard]] Status Execute(std::string_view sql);
  // Runs a statement and returns all its rows (none for a statement without a result set).
  [[nodiscard]] Result<QueryResult> Query(std::string_view sql);
  // Runs a query and hands each row to `on_row` as it arrives, without holding
  // the result in memory. An error returned by `on_row` stops the stream (the
  // rest is read and dropped) and is returned.
  [[nodiscard]] Status Stream(std::string_view sql, const std::function<Status(std::span<const FieldView>)>& on_row);
  // Runs `load_statement` (LOAD DATA LOCAL INFILE '<any name>' ...) and sends
  // `data` as the file's content, from memory. REQUIRES: connected with
  // ConnectOptions::local_infile.
  [[nodiscard]] Status LoadDataLocal(std::string_view load_statement, std::string_view data);
  // Warnings the last statement left (SHOW WARNINGS has them).
  unsigned int warning_count() const;
  // The first column of the first row. kPrecondition when there is no row.
  [[nodiscard]] Result<std::optional<std::string>> QueryValue(std::string_view sql);

  // `s` as a quoted SQL string literal ('it''s' or 'it\'s', per the server's sql_mode).
  std::string Quote(std::string_view s) const;

  // Rows changed by the last Execute()/Query().
  uint64_t affected_rows() const;
  // The server's id for this connection (CONNECTION_ID(), the target of KILL).
  uint64_t thread_id() const;
  // The version string from the server's greeting, e.g. "10.11.19-MariaDB-0+deb12u1-log".
  std::string server_version() const;
  const Endpoint& endpoint() const { return endpoint_; }
  // How errors name this server: "host:port", or the socket path.
  const std::string& where() const { return where_; }

 private:
  Connection(st_mysql* mysql, Endpoint endpoint, std::string where, std::chrono::seconds read_timeout);
  // The error of the last call, which started at `started`: a lost connection
  // after read_timeout_ of silence is reported as a stalled server.
  Error LastError(std::chrono::steady_clock::time_point started) const;
  Result<QueryResult> FetchAll(std::chrono::steady_clock::time_point started);
  void Close();

  st_mysql* mysql_;  // Owned; nullptr once moved from.
  Endpoint endpoint_;
  std::string where_;
  std::chrono::seconds read_timeout_;  // as applied to the socket
};

// @@GLOBAL.`name` as text ("" for NULL).
[[nodiscard]] Result<std::string> ReadGlobal(Connection& conn, std::string_view name);

using cutover::QuoteIdentifier;  // common/sql_text.h

}  // namespace cutover::db
