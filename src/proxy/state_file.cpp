#include "proxy/state_file.h"

#include "common/atomic_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cutover::proxy {

Result<ProxyState> LoadProxyState(const std::string& path) {
  auto text = ReadFileIfExists(path);
  if (!text) return Fail(text.error().WithContext("state file"));
  if (!*text) return ProxyState{};
  const auto not_ours = [&](std::string_view why) {
    return Fail(Error::Config(fmt::format(
        "state file {}: {}; fix or remove it (removing makes the proxy use [source] and forget a move in progress)",
        path, why)));
  };
  auto json = nlohmann::json::parse(**text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return not_ours("not a cutover state file");
  auto primary = ParseHostPort(json.value("primary", nlohmann::json()), "primary");
  if (!primary) return not_ours(primary.error().message());
  ProxyState state{*primary, std::nullopt};
  if (json.contains("move")) {
    auto move = ParseMoveLease(json["move"]);
    if (!move) return not_ours(move.error().message());
    state.move = std::move(*move);
  }
  return state;
}

Status SaveProxyState(const std::string& path, const ProxyState& state) {
  nlohmann::json json = {{"primary", {{"host", state.primary->host}, {"port", state.primary->port}}}};
  if (state.move) json["move"] = MoveLeaseJson(*state.move);
  if (Status st = WriteFileAtomically(path, json.dump(2) + "\n"); !st) return Fail(st.error().WithContext("state file"));
  return {};
}

}  // namespace cutover::proxy
