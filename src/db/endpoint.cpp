#include "db/endpoint.h"

#include <fmt/format.h>

namespace cutover::db {

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::chrono::seconds DataReadTimeout(const Endpoint& server, uint64_t bytes_before_answer) {
  constexpr uint64_t kSlowestScanBytesPerSecond = 8 << 20;
  return server.timeout * 4 +
         std::chrono::seconds((bytes_before_answer + kSlowestScanBytesPerSecond - 1) / kSlowestScanBytesPerSecond);
}

}  // namespace cutover::db
