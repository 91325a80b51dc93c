// The ledger of one client's appends, and the check of every client's ledger
// against the rows the final primary holds.
//
// Each client numbers its appends 1, 2, 3... above a base shared by the run,
// one number per attempt, and notes what it was told: acknowledged (the
// INSERT returned OK), unknown (the connection was lost before an answer, so
// the row may or may not have been committed) or rejected (the server
// answered with an error: the statement did not happen).
// Thread-safety: none; a ledger is written by its client's thread and read
// after that thread has been joined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace cutover::workload {

enum class AppendOutcome : uint8_t { kAcknowledged, kUnknown, kRejected };

struct AppendLedger {
  int client = 0;
  int64_t first_seq = 1;                // seq of outcomes[0]
  std::vector<AppendOutcome> outcomes;  // outcomes[i]: the append of seq first_seq + i

  int64_t NextSeq() const { return first_seq + static_cast<int64_t>(outcomes.size()); }
  // The seq of a random acknowledged append drawn from `r`, or 0 when there is none.
  int64_t AcknowledgedSeq(uint64_t r) const;
};

struct AppendCheck {
  uint64_t acknowledged = 0;     // appends the clients were told succeeded
  uint64_t missing = 0;          // acknowledged, yet absent
  uint64_t duplicated = 0;       // present more than once
  uint64_t unknown = 0;          // outcome unknown to the client
  uint64_t unknown_present = 0;  // ... and found committed
  uint64_t unexpected = 0;       // present although rejected or never attempted
};

// Compares the rows found on the final primary with the ledgers.
class AppendChecker {
 public:
  // REQUIRES: the ledgers outlive the checker; client ids are distinct.
  explicit AppendChecker(const std::vector<const AppendLedger*>& ledgers);

  // (client, seq) appears `count` times on the final primary.
  // REQUIRES: each pair is reported at most once; count > 0.
  void Found(int64_t client, int64_t seq, uint64_t count);
  AppendCheck Finish() const;

 private:
  const AppendLedger* Ledger(int64_t client) const;

  std::map<int64_t, const AppendLedger*> ledgers_;
  AppendCheck check_;
  uint64_t acknowledged_found_ = 0;  // acknowledged appends seen at least once
};

}  // namespace cutover::workload
