#include "db/connection.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include <errmsg.h>
#include <mysql.h>

#include <fmt/format.h>

namespace cutover::db {
namespace {

// mysql_library_init is not thread-safe and mysql_init calls it implicitly on
// first use; do it once, explicitly, before any thread races to it.
void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

// Connector/C's own errors (CR_*, 2000-2999) mean the server was not reached or
// the connection broke; everything else came from the server.
bool IsClientError(unsigned int err) { return err >= CR_MIN_ERROR && err <= CR_MAX_ERROR; }

Error MakeError(MYSQL* mysql, std::string_view where) {
  unsigned int err = mysql_errno(mysql);
  std::string message = fmt::format("{}: {}", where, mysql_error(mysql));
  if (IsClientError(err)) return Error::Io(std::move(message));
  return Error::Server(static_cast<uint16_t>(err), mysql_sqlstate(mysql), std::move(message));
}

void SetTimeout(MYSQL* mysql, mysql_option option, std::chrono::seconds timeout) {
  if (timeout.count() <= 0) return;
  unsigned int seconds = static_cast<unsigned int>(timeout.count());
  mysql_optionsv(mysql, option, &seconds);
}

void ApplyOptions(MYSQL* mysql, const ConnectOptions& options) {
  SetTimeout(mysql, MYSQL_OPT_CONNECT_TIMEOUT, options.connect_timeout);
  SetTimeout(mysql, MYSQL_OPT_READ_TIMEOUT, options.read_timeout);
  SetTimeout(mysql, MYSQL_OPT_WRITE_TIMEOUT, options.write_timeout);
  // Without this, host "localhost" would silently mean the default socket.
  unsigned int protocol = options.unix_socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
  mysql_optionsv(mysql, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, options.charset.c_str());
  my_bool off = 0;
  mysql_optionsv(mysql, MYSQL_OPT_RECONNECT, &off);
  unsigned int local_infile = options.local_infile ? 1 : 0;
  mysql_optionsv(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile);
}

}  // namespace

Result<Connection> Connection::Connect(const Endpoint& endpoint, ConnectOptions options) {
  InitLibraryOnce();
  if (options.read_timeout.count() <= 0) options.read_timeout = endpoint.timeout;
  if (options.write_timeout.count() <= 0) options.write_timeout = endpoint.timeout;
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) return Fail(Error::Io(fmt::format("{}: out of memory in mysql_init", endpoint.ToString())));
  ApplyOptions(mysql, options);
  std::string where = options.unix_socket.empty() ? endpoint.ToString() : options.unix_socket;
  const char* socket = options.unix_socket.empty() ? nullptr : options.unix_socket.c_str();
  const char* database = options.database.empty() ? nullptr : options.database.c_str();
  if (mysql_real_connect(mysql, endpoint.host.c_str(), endpoint.user.c_str(), endpoint.password.c_str(), database,
                         endpoint.port, socket, 0) == nullptr) {
    Error error = MakeError(mysql, where);
    mysql_close(mysql);
    return Fail(std::move(error));
  }
  return Connection(mysql, endpoint, std::move(where), options.read_timeout);
}

Connection::Connection(st_mysql* mysql, Endpoint endpoint, std::string where, std::chrono::seconds read_timeout)
    : mysql_(mysql), endpoint_(std::move(endpoint)), where_(std::move(where)), read_timeout_(read_timeout) {}

Connection::Connection(Connection&& other) noexcept
    : mysql_(std::exchange(other.mysql_, nullptr)),
      endpoint_(std::move(other.endpoint_)),
      where_(std::move(other.where_)),
      read_timeout_(other.read_timeout_) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    Close();
    mysql_ = std::exchange(other.mysql_, nullptr);
    endpoint_ = std::move(other.endpoint_);
    where_ = std::move(other.where_);
    read_timeout_ = other.read_timeout_;
  }
  return *this;
}

Connection::~Connection() { Close(); }

void Connection::Close() {
  if (mysql_ != nullptr) mysql_close(mysql_);
  mysql_ = nullptr;
}

Error Connection::LastError(std::chrono::steady_clock::time_point started) const {
  const unsigned int err = mysql_errno(mysql_);
  const bool lost = err == CR_SERVER_LOST || err == CR_SERVER_GONE_ERROR;
  if (lost && std::chrono::steady_clock::now() - started >= read_timeout_ - std::chrono::milliseconds(100)) {
    return Error::Io(fmt::format(
        "{}: no answer within {} s (the server is stalled or the network to it is cut; the server's timeout_s "
        "sets this bound): {}",
        where_, read_timeout_.count(), mysql_error(mysql_)));
  }
  return MakeError(mysql_, where_);
}

Status Connection::Execute(std::string_view sql) {
  assert(mysql_ != nullptr);
  const auto started = std::chrono::steady_clock::now();
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return Fail(LastError(started));
  // A statement that returns rows must still have them read, or the
  // connection is out of sync for the next call.
  if (mysql_field_count(mysql_) == 0) return {};
  MYSQL_RES* result = mysql_use_result(mysql_);
  if (result == nullptr) return Fail(LastError(started));
  while (mysql_fetch_row(result) != nullptr) {
  }
  std::optional<Error> error;
  if (mysql_errno(mysql_) != 0) error = LastError(started);
  mysql_free_result(result);
  if (error) return Fail(std::move(*error));
  return {};
}

Result<QueryResult> Connection::Query(std::string_view sql) {
  assert(mysql_ != nullptr);
  const auto started = std::chrono::steady_clock::now();
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return Fail(LastError(started));
  if (mysql_field_count(mysql_) == 0) return QueryResult{};
  return FetchAll(started);
}

Result<QueryResult> Connection::FetchAll(std::chrono::steady_clock::time_point started) {
  MYSQL_RES* result = mysql_store_result(mysql_);
  if (result == nullptr) return Fail(LastError(started));
  QueryResult out;
  unsigned int num_fields = mysql_num_fields(result);
  MYSQL_FIELD* fields = mysql_fetch_fields(result);
  for (unsigned int i = 0; i < num_fields; ++i) out.columns.emplace_back(fields[i].name, fields[i].name_length);
  out.rows.reserve(mysql_num_rows(result));
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    unsigned long* lengths = mysql_fetch_lengths(result);
    Row& r = out.rows.emplace_back();
    r.reserve(num_fields);
    for (unsigned int i = 0; i < num_fields; ++i) {
      if (row[i] == nullptr) {
        r.emplace_back(std::nullopt);
      } else {
        r.emplace_back(std::string(row[i], lengths[i]));
      }
    }
  }
  mysql_free_result(result);
  return out;
}

Status Connection::Stream(std::string_view sql, const std::function<Status(std::span<const FieldView>)>& on_row) {
  assert(mysql_ != nullptr);
  auto last_answer = std::chrono::steady_clock::now();
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return Fail(LastError(last_answer));
  if (mysql_field_count(mysql_) == 0) return {};
  MYSQL_RES* result = mysql_use_result(mysql_);
  if (result == nullptr) return Fail(LastError(last_answer));
  const unsigned int num_fields = mysql_num_fields(result);
  std::vector<FieldView> fields(num_fields);
  Status status;
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    last_answer = std::chrono::steady_clock::now();
    if (!status) continue;  // drain what is left so the connection stays usable
    const unsigned long* lengths = mysql_fetch_lengths(result);
    for (unsigned int i = 0; i < num_fields; ++i) {
      fields[i] = row[i] == nullptr ? FieldView() : FieldView(std::string_view(row[i], lengths[i]));
    }
    status = on_row(fields);
    last_answer = std::chrono::steady_clock::now();  // the next read starts waiting now
  }
  if (status && mysql_errno(mysql_) != 0) status = Fail(LastError(last_answer));
  mysql_free_result(result);
  return status;
}

namespace {

// The "file" LoadDataLocal() sends: a view of the caller's buffer.
struct InMemoryFile {
  std::string_view data;
  size_t offset = 0;
};

int InfileInit(void** ptr, const char* /*filename*/, void* userdata) {
  *ptr = userdata;
  return 0;
}

int InfileRead(void* ptr, char* buf, unsigned int length) {
  auto* file = static_cast<InMemoryFile*>(ptr);
  const size_t n = std::min<size_t>(length, file->data.size() - file->offset);
  std::memcpy(buf, file->data.data() + file->offset, n);
  file->offset += n;
  return static_cast<int>(n);
}

void InfileEnd(void* /*ptr*/) {}

int InfileError(void* /*ptr*/, char* message, unsigned int length) {
  std::snprintf(message, length, "cutover: in-memory LOAD DATA source failed");
  return CR_UNKNOWN_ERROR;
}

}  // namespace

Status Connection::LoadDataLocal(std::string_view load_statement, std::string_view data) {
  assert(mysql_ != nullptr);
  InMemoryFile file{data};
  mysql_set_local_infile_handler(mysql_, InfileInit, InfileRead, InfileEnd, InfileError, &file);
  Status st = Execute(load_statement);
  mysql_set_local_infile_default(mysql_);
  return st;
}

unsigned int Connection::warning_count() const {
  assert(mysql_ != nullptr);
  return mysql_warning_count(mysql_);
}

Result<std::optional<std::string>> Connection::QueryValue(std::string_view sql) {
  auto result = Query(sql);
  if (!result) return Fail(std::move(result.error()));
  if (result->rows.empty() || result->rows.front().empty()) {
    return Fail(Error::Precondition(fmt::format("{}: query returned no row: {}", where_, sql)));
  }
  return std::move(result->rows.front().front());
}

std::string Connection::Quote(std::string_view s) const {
  assert(mysql_ != nullptr);
  std::string out(2 * s.size() + 3, '\0');
  out[0] = '\'';
  unsigned long n = mysql_real_escape_string(mysql_, out.data() + 1, s.data(), s.size());
  out[n + 1] = '\'';
  out.resize(n + 2);
  return out;
}

uint64_t Connection::affected_rows() const {
  assert(mysql_ != nullptr);
  return mysql_affected_rows(mysql_);
}

uint64_t Connection::thread_id() const {
  assert(mysql_ != nullptr);
  return mysql_thread_id(mysql_);
}

std::string Connection::server_version() const {
  assert(mysql_ != nullptr);
  const char* info = mysql_get_server_info(mysql_);
  return info == nullptr ? std::string() : std::string(info);
}

Result<std::string> ReadGlobal(Connection& conn, std::string_view name) {
  auto v = conn.QueryValue(fmt::format("SELECT @@GLOBAL.{}", name));
  if (!v) return Fail(v.error());
  return v->value_or("");
}

}  // namespace cutover::db
