// ParseConfig (cutover.toml from text) on arbitrary bytes. The first input
// byte picks the sections required (low 4 bits); the rest is the TOML text.
// Checks: the result is a config or a kConfig error whose message names the
// origin; a config has every section it was required to have and only values
// inside the documented ranges.
#include <string>

#include "cli/config.h"
#include "fuzz_util.h"

using namespace cutover;
using namespace cutover::cli;

namespace {

const std::string kOrigin = "fuzz.toml";

void CheckServer(const ServerConfig& s) {
  FUZZ_CHECK(!s.host.empty() && !s.user.empty());
  FUZZ_CHECK(s.port != 0);
  FUZZ_CHECK(s.timeout.count() >= 1 && s.timeout.count() <= 86400);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const unsigned needs = data[0] & 0x0f;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto config = ParseConfig(text, kOrigin, needs);
  if (!config) {
    FUZZ_CHECK(config.error().code() == ErrorCode::kConfig);
    FUZZ_CHECK(config.error().message().starts_with(kOrigin));
    return 0;
  }
  if (needs & kProxySection) FUZZ_CHECK(config->has_proxy);
  if (needs & kSourceSection) FUZZ_CHECK(config->source.has_value());
  if (needs & kTargetSection) FUZZ_CHECK(config->target.has_value());
  if (needs & kReplicationSection) FUZZ_CHECK(config->replication.has_value());
  if (config->source) CheckServer(*config->source);
  if (config->target) CheckServer(*config->target);
  for (const ServerConfig& r : config->switchover.replicas) CheckServer(r);
  if (config->has_proxy) {
    const proxy::ProxyConfig& p = config->proxy;
    FUZZ_CHECK(!p.admin_token.empty());
    FUZZ_CHECK(p.threads >= 1 && p.threads <= 256);
    FUZZ_CHECK(!p.users.empty());
    for (const auto& u : p.users) FUZZ_CHECK(!u.name.empty());
    FUZZ_CHECK(p.max_packet_size >= 1024 && p.max_packet_size <= (uint32_t{1} << 30));
  }
  const SwitchoverConfig& s = config->switchover;
  FUZZ_CHECK(s.max_lag_s > 0 && s.max_transaction_s > 0 && s.drain_timeout_ms > 0 && s.catchup_timeout_ms > 0 &&
             s.max_pause_ms > 0 && s.gate_lag_ms > 0 && s.gate_timeout_ms >= 0 && s.attempts > 0);
  return 0;
}
