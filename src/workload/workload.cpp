#include "workload/workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <charconv>

#include "db/connection.h"
#include "workload/client.h"
#include "workload/ledger.h"

namespace cutover::workload {
namespace {

// Accounts per INSERT when filling the bank.
constexpr int kAccountsPerInsert = 1000;
constexpr int kMaxClients = 10000;
// ER_BAD_DB_ERROR: Unknown database.
constexpr uint16_t kUnknownDatabase = 1049;

// Parses a column the server sent as a decimal integer.
Result<int64_t> ParseInt(std::optional<std::string_view> field, std::string_view what) {
  int64_t value = 0;
  if (!field) return Fail(Error::Malformed(fmt::format("{} is NULL", what)));
  const auto [end, ec] = std::from_chars(field->data(), field->data() + field->size(), value);
  if (ec != std::errc() || end != field->data() + field->size()) {
    return Fail(Error::Malformed(fmt::format("{} is not an integer: '{}'", what, *field)));
  }
  return value;
}

Result<int64_t> ParseInt(const std::optional<std::string>& field, std::string_view what) {
  return ParseInt(field ? std::optional<std::string_view>(*field) : std::nullopt, what);
}

db::ConnectOptions InSchema(const WorkloadOptions& options) {
  db::ConnectOptions connect;
  connect.database = options.schema;
  connect.connect_timeout = options.connect_timeout;
  return connect;
}

// The number of accounts and their total balance.
Result<std::pair<int64_t, int64_t>> ReadBank(db::Connection& conn) {
  auto rows = conn.Query("SELECT COUNT(*), COALESCE(SUM(balance), 0) FROM accounts");
  if (!rows) return Fail(std::move(rows.error()));
  if (rows->rows.size() != 1 || rows->rows[0].size() != 2) {
    return Fail(Error::Malformed(fmt::format("{}: unexpected answer to the bank total query", conn.where())));
  }
  auto count = ParseInt(rows->rows[0][0], "account count");
  if (!count) return Fail(std::move(count.error()));
  auto total = ParseInt(rows->rows[0][1], "bank total");
  if (!total) return Fail(std::move(total.error()));
  return std::pair{*count, *total};
}

Status FillAccounts(db::Connection& conn, const WorkloadOptions& options, const std::string& schema) {
  for (int first = 1; first <= options.accounts; first += kAccountsPerInsert) {
    std::string sql = fmt::format("INSERT INTO {}.accounts (id, balance) VALUES ", schema);
    const int last = std::min(options.accounts, first + kAccountsPerInsert - 1);
    for (int id = first; id <= last; ++id) {
      sql += fmt::format("{}({}, {})", id == first ? "" : ", ", id, options.initial_balance);
    }
    if (Status st = conn.Execute(sql); !st) return st;
  }
  return {};
}

}  // namespace

Status Setup(const db::Endpoint& primary, const WorkloadOptions& options, bool recreate) {
  if (options.accounts < 1) return Fail(Error::Config("workload: accounts must be at least 1"));
  auto conn = db::Connection::Connect(primary);
  if (!conn) return Fail(std::move(conn.error()));
  const std::string schema = db::QuoteIdentifier(options.schema);
  std::vector<std::string> statements;
  if (recreate) statements.push_back(fmt::format("DROP DATABASE IF EXISTS {}", schema));
  statements.push_back(fmt::format("CREATE DATABASE IF NOT EXISTS {}", schema));
  statements.push_back(fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.appends (client INT NOT NULL, seq BIGINT NOT NULL, payload VARCHAR(64) NOT NULL, "
      "PRIMARY KEY (client, seq)) ENGINE=InnoDB",
      schema));
  statements.push_back(fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.accounts (id INT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB",
      schema));
  for (const std::string& sql : statements) {
    if (Status st = conn->Execute(sql); !st) return st;
  }
  auto count = conn->QueryValue(fmt::format("SELECT COUNT(*) FROM {}.accounts", schema));
  if (!count) return Fail(std::move(count.error()));
  if (*count == "0") return FillAccounts(*conn, options, schema);
  if (*count != std::to_string(options.accounts)) {
    return Fail(
        Error::Precondition(fmt::format("{}: {}.accounts holds {} accounts, not {}; recreate the schema (--setup)",
                                        conn->where(), options.schema, count->value_or("NULL"), options.accounts)));
  }
  return {};
}

Workload::Workload(WorkloadOptions options) : options_(std::move(options)) {}

Workload::~Workload() { Stop(); }

Status Workload::ValidateOptions() const {
  const WorkloadOptions& o = options_;
  if (o.clients < 1 || o.clients > kMaxClients) {
    return Fail(Error::Config(fmt::format("workload: clients must be between 1 and {}", kMaxClients)));
  }
  if (o.duration.count() < 0) return Fail(Error::Config("workload: duration must not be negative"));
  if (!(o.rate >= 0)) return Fail(Error::Config("workload: rate must not be negative"));
  if (o.schema.empty()) return Fail(Error::Config("workload: schema must not be empty"));
  if (o.append_percent < 0 || o.transfer_percent < 0 || o.append_percent + o.transfer_percent > 100) {
    return Fail(Error::Config("workload: append and transfer percentages must be 0 or more and add up to 100 at most"));
  }
  if (o.accounts < (o.transfer_percent > 0 ? 2 : 1)) {
    return Fail(Error::Config("workload: transfers need at least 2 accounts"));
  }
  return {};
}

Status Workload::Prepare() {
  auto conn = db::Connection::Connect(options_.endpoint, InSchema(options_));
  if (!conn) {
    if (conn.error().server_errno() == kUnknownDatabase) {
      return Fail(Error::Precondition(fmt::format("{}: schema {} does not exist; set it up first (--setup)",
                                                  options_.endpoint.ToString(), options_.schema)));
    }
    return Fail(std::move(conn.error()));
  }
  auto bank = ReadBank(*conn);
  if (!bank) return Fail(std::move(bank.error()));
  const auto [accounts, total] = *bank;
  if (accounts != options_.accounts || total != options_.bank_total()) {
    return Fail(Error::Precondition(fmt::format(
        "{}: {}.accounts holds {} accounts totalling {}, not {} of {} each ({}); recreate the schema (--setup) or "
        "match its size",
        conn->where(), options_.schema, accounts, total, options_.accounts, options_.initial_balance,
        options_.bank_total())));
  }
  auto max_seq = conn->QueryValue("SELECT COALESCE(MAX(seq), 0) FROM appends");
  if (!max_seq) return Fail(std::move(max_seq.error()));
  auto base = ParseInt(*max_seq, "MAX(seq)");
  if (!base) return Fail(std::move(base.error()));
  run_->seq_base = *base;
  return {};
}

Status Workload::Start() {
  assert(!run_ && "Start() called twice");
  if (Status st = ValidateOptions(); !st) return st;
  run_ = std::make_unique<RunState>(options_);
  if (Status st = Prepare(); !st) return st;

  for (int id = 1; id <= options_.clients; ++id) clients_.push_back(std::make_unique<Client>(id, *run_));
  live_ = options_.clients;
  for (auto& client : clients_) {
    threads_.emplace_back([this, c = client.get()] {
      c->Run();
      live_.fetch_sub(1);
    });
  }
  std::unique_lock lock(run_->mu);
  run_->cv.wait(lock, [this] { return run_->reported == options_.clients; });
  if (run_->connect_error) {
    Error error = *run_->connect_error;
    lock.unlock();
    Stop();
    return Fail(std::move(error));
  }
  run_->start = Clock::now();
  run_->deadline = options_.duration.count() > 0 ? run_->start + options_.duration : Clock::time_point::max();
  run_->go = true;
  started_ = true;
  run_->cv.notify_all();
  return {};
}

void Workload::Stop() {
  if (!run_) return;
  {
    std::lock_guard lock(run_->mu);
    run_->stop = true;
  }
  run_->cv.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (started_ && !report_) Summarize();
}

bool Workload::running() const { return live_.load() > 0; }

uint64_t Workload::operations() const { return run_ ? run_->operations.load(std::memory_order_relaxed) : 0; }

uint64_t Workload::error_count() const { return run_ ? run_->errors.load(std::memory_order_relaxed) : 0; }

double Workload::longest_op_ms() const {
  if (!run_) return 0;
  int64_t longest = run_->longest_ns.load(std::memory_order_relaxed);
  const int64_t now = Clock::now().time_since_epoch().count();
  for (const auto& client : clients_) {
    const int64_t since = client->in_flight_since();
    if (since != 0)
      longest = std::max<int64_t>(
          longest, std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::duration(now - since)).count());
  }
  return static_cast<double>(longest) / 1e6;
}

void Workload::Summarize() {
  WorkloadReport report;
  report.clients = options_.clients;
  const Clock::time_point end = std::min(Clock::now(), run_->deadline);
  report.duration_s = std::chrono::duration<double>(end - run_->start).count();
  report.longest_op_ms = static_cast<double>(run_->longest_ns.load()) / 1e6;
  std::vector<std::vector<WindowSamples>> windows;
  for (auto& client : clients_) {
    report.appends += client->appends();
    report.transfers += client->transfers();
    report.reads += client->reads();
    for (const auto& [key, count] : client->errors()) report.errors[key] += count;
    windows.push_back(client->TakeWindows());
  }
  report.operations = report.appends + report.transfers + report.reads;
  SummarizeLatencies(std::move(windows), report);
  report_ = std::move(report);
}

WorkloadReport Workload::Report() {
  assert(started_);
  Stop();
  return *report_;
}

Result<WorkloadReport> Workload::Check(const db::Endpoint& final_primary) {
  WorkloadReport report = Report();
  auto conn = db::Connection::Connect(final_primary, InSchema(options_));
  if (!conn) return Fail(conn.error().WithContext("checking the final primary"));

  std::vector<const AppendLedger*> ledgers;
  for (const auto& client : clients_) ledgers.push_back(&client->ledger());
  AppendChecker checker(ledgers);
  Status st = conn->Stream(
      fmt::format("SELECT client, seq, COUNT(*) FROM appends WHERE seq > {} GROUP BY client, seq", run_->seq_base),
      [&checker](std::span<const db::FieldView> row) -> Status {
        auto client = ParseInt(row[0], "appends.client");
        if (!client) return Fail(std::move(client.error()));
        auto seq = ParseInt(row[1], "appends.seq");
        if (!seq) return Fail(std::move(seq.error()));
        auto count = ParseInt(row[2], "COUNT(*)");
        if (!count) return Fail(std::move(count.error()));
        checker.Found(*client, *seq, static_cast<uint64_t>(*count));
        return {};
      });
  if (!st) return Fail(st.error().WithContext("checking the final primary"));
  const AppendCheck appends = checker.Finish();
  report.appends_acknowledged = appends.acknowledged;
  report.appends_missing = appends.missing;
  report.appends_duplicated = appends.duplicated;
  report.appends_unknown = appends.unknown;
  report.appends_unknown_present = appends.unknown_present;
  report.appends_unexpected = appends.unexpected;

  auto bank = ReadBank(*conn);
  if (!bank) return Fail(bank.error().WithContext("checking the final primary"));
  report.bank_total_expected = options_.bank_total();
  report.bank_total_found = bank->second;
  report.checked = true;
  return report;
}

}  // namespace cutover::workload
