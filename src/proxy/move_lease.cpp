#include "proxy/move_lease.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cutover::proxy {
namespace {

using nlohmann::json;

Result<std::vector<uint64_t>> ConnectionIds(const json& move, const char* name) {
  std::vector<uint64_t> ids;
  if (!move.contains(name)) return ids;
  const json& v = move[name];
  if (!v.is_array()) return Fail(Error::Malformed(fmt::format("move.{} must be an array of connection ids", name)));
  for (const json& id : v) {
    if (!id.is_number_unsigned()) return Fail(Error::Malformed(fmt::format("move.{} holds a non-id", name)));
    ids.push_back(id.get<uint64_t>());
  }
  return ids;
}

}  // namespace

Result<HostPort> ParseHostPort(const json& value, std::string_view path) {
  if (!value.is_object() || !value.contains("host") || !value["host"].is_string() ||
      value["host"].get<std::string>().empty() || !value.contains("port") || !value["port"].is_number_unsigned() ||
      value["port"].get<uint64_t>() == 0 || value["port"].get<uint64_t>() > 65535) {
    return Fail(Error::Malformed(fmt::format("{} needs {{\"host\": string, \"port\": 1-65535}}", path)));
  }
  return HostPort{value["host"].get<std::string>(), value["port"].get<uint16_t>()};
}

Result<MoveLease> ParseMoveLease(const json& move) {
  if (!move.is_object()) return Fail(Error::Malformed("move must be an object"));
  MoveLease lease;
  auto from = ParseHostPort(move.value("from", json::object()), "move.from");
  if (!from) return Fail(from.error());
  auto to = ParseHostPort(move.value("to", json::object()), "move.to");
  if (!to) return Fail(to.error());
  lease.from = *from;
  lease.to = *to;
  const json& ro = move.value("from_was_read_only", json());
  if (!ro.is_boolean()) return Fail(Error::Malformed("move.from_was_read_only must be true or false"));
  lease.from_was_read_only = ro.get<bool>();
  const json& ms = move.value("lease_ms", json());
  if (!ms.is_number_unsigned() || ms.get<uint64_t>() < 100 || ms.get<uint64_t>() > 3'600'000) {
    return Fail(Error::Malformed("move.lease_ms must be a whole number of milliseconds from 100 to 3600000"));
  }
  lease.duration = std::chrono::milliseconds(ms.get<uint64_t>());
  auto from_ids = ConnectionIds(move, "from_connection_ids");
  if (!from_ids) return Fail(from_ids.error());
  auto to_ids = ConnectionIds(move, "to_connection_ids");
  if (!to_ids) return Fail(to_ids.error());
  lease.from_connection_ids = *from_ids;
  lease.to_connection_ids = *to_ids;
  return lease;
}

json MoveLeaseJson(const MoveLease& lease) {
  return json{{"from", {{"host", lease.from.host}, {"port", lease.from.port}}},
              {"to", {{"host", lease.to.host}, {"port", lease.to.port}}},
              {"from_was_read_only", lease.from_was_read_only},
              {"from_connection_ids", lease.from_connection_ids},
              {"to_connection_ids", lease.to_connection_ids},
              {"lease_ms", static_cast<uint64_t>(lease.duration.count())}};
}

}  // namespace cutover::proxy
