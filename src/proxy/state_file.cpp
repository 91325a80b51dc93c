#include "proxy/state_file.h"

#include "common/atomic_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cutover::proxy {

Result<std::optional<HostPort>> LoadPrimary(const std::string& path) {
  auto text = ReadFileIfExists(path);
  if (!text) return Fail(text.error().WithContext("state file"));
  if (!*text) return std::optional<HostPort>{};
  auto json = nlohmann::json::parse(**text, nullptr, false);
  if (json.is_discarded() || !json.contains("primary") || !json["primary"].contains("host") ||
      !json["primary"]["host"].is_string() || !json["primary"].contains("port") ||
      !json["primary"]["port"].is_number_unsigned()) {
    return Fail(Error::Config(fmt::format(
        "state file {}: not a cutover state file; fix or remove it (removing makes the proxy use [source])", path)));
  }
  return std::optional<HostPort>(
      HostPort{json["primary"]["host"].get<std::string>(), json["primary"]["port"].get<uint16_t>()});
}

Status SavePrimary(const std::string& path, const HostPort& primary) {
  nlohmann::json json = {{"primary", {{"host", primary.host}, {"port", primary.port}}}};
  if (Status st = WriteFileAtomically(path, json.dump(2) + "\n"); !st) return Fail(st.error().WithContext("state file"));
  return {};
}

}  // namespace cutover::proxy
