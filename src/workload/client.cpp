#include "workload/client.h"

#include <fmt/format.h>

#include <algorithm>

#include "workload/error_key.h"

namespace cutover::workload {
namespace {

// After a failed reconnect, the pause before the next attempt, so that a
// client running flat out does not spin on a refused connection.
constexpr std::chrono::milliseconds kReconnectPause{50};

Error Inconsistent(std::string_view what) {
  return Error(ErrorCode::kPrecondition, fmt::format("consistency: {}", what));
}

}  // namespace

Client::Client(int id, RunState& run)
    : id_(id),
      run_(run),
      rng_(std::random_device{}() ^ static_cast<uint64_t>(id)),
      where_(run.options.endpoint.ToString()) {
  ledger_.client = id;
  ledger_.first_seq = run.seq_base + 1;
}

void Client::Run() {
  if (!AwaitStart(Connect())) return;
  if (run_.options.rate > 0) {
    RunPaced();
  } else {
    RunFlatOut();
  }
}

bool Client::AwaitStart(const Status& connected) {
  std::unique_lock lock(run_.mu);
  if (!connected && !run_.connect_error)
    run_.connect_error = connected.error().WithContext(fmt::format("client {}", id_));
  ++run_.reported;
  run_.cv.notify_all();
  run_.cv.wait(lock, [this] { return run_.go || run_.stop.load(); });
  return !run_.stop.load();
}

bool Client::SleepUntil(Clock::time_point t) {
  {
    std::unique_lock lock(run_.mu);
    run_.cv.wait_until(lock, std::min(t, run_.deadline), [this] { return run_.stop.load(); });
  }
  return !run_.stop.load() && Clock::now() < run_.deadline;
}

void Client::RunFlatOut() {
  while (!run_.stop.load(std::memory_order_relaxed) && Clock::now() < run_.deadline) {
    const bool had_connection = conn_.has_value();
    RunOne();
    if (!had_connection && !conn_ && !SleepUntil(Clock::now() + kReconnectPause)) break;
  }
}

void Client::RunPaced() {
  // Each client keeps its own fixed schedule of rate/clients slots per second,
  // the clients' phases spread over one interval. A slot missed during a stall
  // is skipped, not made up in a burst: the stall shows as it was.
  const int clients = run_.options.clients;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(clients) / run_.options.rate));
  Clock::time_point next = run_.start + interval * (id_ - 1) / clients;
  while (SleepUntil(next)) {
    RunOne();
    next += interval;
    const auto now = Clock::now();
    if (next <= now) next += interval * ((now - next) / interval + 1);
  }
}

void Client::RunOne() {
  const WorkloadOptions& o = run_.options;
  const uint64_t dice = rng_() % 100;
  const Kind kind = dice < static_cast<uint64_t>(o.append_percent)                        ? Kind::kAppend
                    : dice < static_cast<uint64_t>(o.append_percent + o.transfer_percent) ? Kind::kTransfer
                                                                                          : Kind::kRead;
  const Clock::time_point start = Clock::now();
  in_flight_since_.store(start.time_since_epoch().count(), std::memory_order_relaxed);
  Status st = conn_ ? Status{} : Connect();
  if (st) {
    switch (kind) {
      case Kind::kAppend:
        st = Append();
        break;
      case Kind::kTransfer:
        st = Transfer();
        break;
      case Kind::kRead:
        st = Read();
        break;
    }
  }
  const Clock::time_point end = Clock::now();
  in_flight_since_.store(0, std::memory_order_relaxed);
  if (st) {
    if (kind == Kind::kAppend) ++appends_;
    if (kind == Kind::kTransfer) ++transfers_;
    if (kind == Kind::kRead) ++reads_;
  }
  Record(start, end, st);
}

Status Client::Connect() {
  db::ConnectOptions options;
  options.database = run_.options.schema;
  options.connect_timeout = run_.options.connect_timeout;
  options.read_timeout = run_.options.read_timeout;
  options.write_timeout = run_.options.read_timeout;
  auto conn = db::Connection::Connect(run_.options.endpoint, options);
  if (!conn) return Fail(std::move(conn.error()));
  conn_.emplace(std::move(*conn));
  return {};
}

Status Client::Append() {
  const int64_t seq = ledger_.NextSeq();
  Status st = conn_->Execute(fmt::format(
      "INSERT INTO appends (client, seq, payload) VALUES ({}, {}, 'client {} seq {}')", id_, seq, id_, seq));
  // Lost before the answer, the INSERT may or may not have committed; any
  // answer from the server is definite.
  ledger_.outcomes.push_back(st                           ? AppendOutcome::kAcknowledged
                             : ConnectionLost(st.error()) ? AppendOutcome::kUnknown
                                                          : AppendOutcome::kRejected);
  return st;
}

Status Client::Transfer() {
  std::uniform_int_distribution<int> account(1, run_.options.accounts);
  const int from = account(rng_);
  int to = account(rng_);
  while (to == from) to = account(rng_);
  const int64_t amount = 1 + static_cast<int64_t>(rng_() % 10);
  // Rows are locked in id order, so two transfers never wait on each other in
  // a cycle (no deadlock errors that are the workload's own doing).
  const int first = std::min(from, to);
  const int second = std::max(from, to);
  const int64_t first_delta = first == from ? -amount : amount;
  const std::string statements[] = {
      "START TRANSACTION",
      fmt::format("UPDATE accounts SET balance = balance + ({}) WHERE id = {}", first_delta, first),
      fmt::format("UPDATE accounts SET balance = balance + ({}) WHERE id = {}", -first_delta, second),
      "COMMIT",
  };
  for (size_t i = 0; i < std::size(statements); ++i) {
    Status st = conn_->Execute(statements[i]);
    if (st && (i == 1 || i == 2) && conn_->affected_rows() != 1) st = Fail(Inconsistent("account row missing"));
    if (!st) {
      AbortTransaction(st.error());
      return st;
    }
  }
  return {};
}

void Client::AbortTransaction(const Error& failed) {
  if (ConnectionLost(failed)) return;  // the server rolls back a transaction whose connection ends
  // A failed ROLLBACK leaves the session's state unclear: start afresh.
  if (!conn_->Execute("ROLLBACK")) conn_.reset();
}

Status Client::Read() {
  const uint64_t dice = rng_() % 100;
  if (dice < 10) {
    // One statement reads one snapshot: the total must hold in every one.
    auto total = conn_->QueryValue("SELECT SUM(balance) FROM accounts");
    if (!total) return Fail(std::move(total.error()));
    if (*total != std::to_string(run_.options.bank_total())) return Fail(Inconsistent("bank total read differs"));
    return {};
  }
  if (const int64_t seq = ledger_.AcknowledgedSeq(rng_()); dice < 55 && seq != 0) {
    // The client's own acknowledged write must be visible to it.
    auto count =
        conn_->QueryValue(fmt::format("SELECT COUNT(*) FROM appends WHERE client = {} AND seq = {}", id_, seq));
    if (!count) return Fail(std::move(count.error()));
    if (*count != "1") return Fail(Inconsistent("acknowledged append not visible"));
    return {};
  }
  std::uniform_int_distribution<int> account(1, run_.options.accounts);
  auto rows = conn_->Query(fmt::format("SELECT balance FROM accounts WHERE id = {}", account(rng_)));
  if (!rows) return Fail(std::move(rows.error()));
  if (rows->rows.size() != 1) return Fail(Inconsistent("account row missing"));
  return {};
}

void Client::Record(Clock::time_point start, Clock::time_point end, const Status& st) {
  const auto latency = end - start;
  const auto window = static_cast<size_t>((start - run_.start) / kWindow);
  if (windows_.size() <= window) windows_.resize(window + 1);
  WindowSamples& w = windows_[window];
  w.latencies_ms.push_back(std::chrono::duration<float, std::milli>(latency).count());
  if (st) {
    ++w.ops;
    run_.operations.fetch_add(1, std::memory_order_relaxed);
  } else {
    ++w.errors;
    ++errors_[ErrorKey(st.error(), where_)];
    run_.errors.fetch_add(1, std::memory_order_relaxed);
    if (ConnectionLost(st.error())) conn_.reset();
  }
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count();
  int64_t longest = run_.longest_ns.load(std::memory_order_relaxed);
  while (ns > longest && !run_.longest_ns.compare_exchange_weak(longest, ns, std::memory_order_relaxed)) {
  }
}

}  // namespace cutover::workload
