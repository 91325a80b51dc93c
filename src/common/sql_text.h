// SQL text built by hand, shared by the layers that talk SQL: the blocking
// client (db) and the proxy, which restores sessions on another server.
#pragma once

#include <string>
#include <string_view>

namespace cutover {

// `name` as a backtick-quoted identifier, with backticks doubled: a`b -> `a``b`.
std::string QuoteIdentifier(std::string_view name);

}  // namespace cutover
