#include "db/endpoint.h"

#include <fmt/format.h>

namespace cutover::db {

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

}  // namespace cutover::db
