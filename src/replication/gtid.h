// MariaDB GTID positions as values: parse "0-1-42,1-2-7", compare two
// servers' binary-log states, and find the transactions one server wrote that
// the other never had (errant transactions).
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace cutover::replication {

// domain_id-server_id-seq_no
struct Gtid {
  uint32_t domain = 0;
  uint32_t server_id = 0;
  uint64_t seq = 0;

  std::string ToString() const;
  bool operator==(const Gtid&) const = default;
};

// "0-1-42,1-2-7" (spaces and newlines allowed between entries) -> its GTIDs;
// "" -> none. kMalformed names the entry that is not a GTID.
[[nodiscard]] Result<std::vector<Gtid>> ParseGtidList(std::string_view text);
std::string FormatGtidList(const std::vector<Gtid>& gtids);

// The GTIDs of `server_state` that `other_state` does not cover. Both are
// @@gtid_binlog_state values: the last GTID each (domain, server_id) wrote to
// that server's binary log. A GTID is covered when the other state holds the
// same domain and server_id with the same or a higher sequence number. On a
// replica, what is not covered was written there directly: an errant
// transaction, which a replica of it after a move would fail on (error 1236).
std::vector<Gtid> UncoveredGtids(const std::vector<Gtid>& server_state, const std::vector<Gtid>& other_state);

}  // namespace cutover::replication
