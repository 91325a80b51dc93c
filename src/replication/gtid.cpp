#include "replication/gtid.h"

#include <charconv>

#include <fmt/format.h>

namespace cutover::replication {
namespace {

template <class T>
bool ParseNumber(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Gtid::ToString() const { return fmt::format("{}-{}-{}", domain, server_id, seq); }

Result<std::vector<Gtid>> ParseGtidList(std::string_view text) {
  std::vector<Gtid> out;
  text = Trim(text);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view entry = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t dash1 = entry.find('-');
    const size_t dash2 = dash1 == std::string_view::npos ? dash1 : entry.find('-', dash1 + 1);
    Gtid g;
    if (dash2 == std::string_view::npos || !ParseNumber(entry.substr(0, dash1), g.domain) ||
        !ParseNumber(entry.substr(dash1 + 1, dash2 - dash1 - 1), g.server_id) ||
        !ParseNumber(entry.substr(dash2 + 1), g.seq)) {
      return Fail(Error::Malformed(fmt::format("'{}' is not a GTID (domain-server_id-sequence)", entry)));
    }
    out.push_back(g);
  }
  return out;
}

std::string FormatGtidList(const std::vector<Gtid>& gtids) {
  std::string out;
  for (const Gtid& g : gtids) out += (out.empty() ? "" : ",") + g.ToString();
  return out;
}

std::vector<Gtid> UncoveredGtids(const std::vector<Gtid>& server_state, const std::vector<Gtid>& other_state) {
  std::vector<Gtid> out;
  for (const Gtid& g : server_state) {
    bool covered = false;
    for (const Gtid& o : other_state) {
      covered |= o.domain == g.domain && o.server_id == g.server_id && o.seq >= g.seq;
    }
    if (!covered) out.push_back(g);
  }
  return out;
}

}  // namespace cutover::replication
