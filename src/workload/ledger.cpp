#include "workload/ledger.h"

namespace cutover::workload {

int64_t AppendLedger::AcknowledgedSeq(uint64_t r) const {
  if (outcomes.empty()) return 0;
  // Probe from a random point: nearly every append is acknowledged, so this
  // stops after a step or two.
  const size_t n = outcomes.size();
  for (size_t i = 0, at = r % n; i < n; ++i, at = (at + 1) % n) {
    if (outcomes[at] == AppendOutcome::kAcknowledged) return first_seq + static_cast<int64_t>(at);
  }
  return 0;
}

AppendChecker::AppendChecker(const std::vector<const AppendLedger*>& ledgers) {
  for (const AppendLedger* ledger : ledgers) {
    ledgers_[ledger->client] = ledger;
    for (AppendOutcome outcome : ledger->outcomes) {
      if (outcome == AppendOutcome::kAcknowledged) ++check_.acknowledged;
      if (outcome == AppendOutcome::kUnknown) ++check_.unknown;
    }
  }
}

const AppendLedger* AppendChecker::Ledger(int64_t client) const {
  auto it = ledgers_.find(client);
  return it == ledgers_.end() ? nullptr : it->second;
}

void AppendChecker::Found(int64_t client, int64_t seq, uint64_t count) {
  const AppendLedger* ledger = Ledger(client);
  if (ledger == nullptr || seq < ledger->first_seq || seq >= ledger->NextSeq()) {
    ++check_.unexpected;
    return;
  }
  if (count > 1) ++check_.duplicated;
  switch (ledger->outcomes[static_cast<size_t>(seq - ledger->first_seq)]) {
    case AppendOutcome::kAcknowledged:
      ++acknowledged_found_;
      break;
    case AppendOutcome::kUnknown:
      ++check_.unknown_present;
      break;
    case AppendOutcome::kRejected:
      ++check_.unexpected;
      break;
  }
}

AppendCheck AppendChecker::Finish() const {
  AppendCheck check = check_;
  check.missing = check.acknowledged - acknowledged_found_;
  return check;
}

}  // namespace cutover::workload
