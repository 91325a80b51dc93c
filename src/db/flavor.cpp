#include "db/flavor.h"

#include <charconv>
#include <tuple>

#include <fmt/format.h>

#include "db/connection.h"

namespace cutover::db {
namespace {

// Older MariaDB prefixes its greeting with this so that MySQL 5.5 replicas
// accept it as a primary; the real version follows.
constexpr std::string_view kMariaDbCompatPrefix = "5.5.5-";

// Consumes a decimal number (at most 5 digits) from the front of `s`.
bool ConsumeNumber(std::string_view& s, int* value) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits > 5) return false;
  std::from_chars(s.data(), s.data() + digits, *value);
  s.remove_prefix(digits);
  return true;
}

bool ConsumeChar(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

// A number part must end at the string's end or at a non-digit, non-dot suffix start.
bool AtSuffix(std::string_view s) { return s.empty() || s.front() == '-' || s.front() == '+' || s.front() == '~'; }

}  // namespace

std::string_view FlavorName(Flavor flavor) { return flavor == Flavor::kMariaDB ? "MariaDB" : "MySQL"; }

bool ServerVersion::AtLeast(int at_major, int at_minor, int at_patch) const {
  return std::tie(major, minor, patch) >= std::tie(at_major, at_minor, at_patch);
}

Result<ServerVersion> ParseServerVersion(std::string_view version_string) {
  ServerVersion v;
  v.raw = std::string(version_string);
  bool mariadb = version_string.find("MariaDB") != std::string_view::npos;
  v.flavor = mariadb ? Flavor::kMariaDB : Flavor::kMySQL;
  std::string_view s = version_string;
  if (mariadb && s.starts_with(kMariaDbCompatPrefix)) s.remove_prefix(kMariaDbCompatPrefix.size());
  if (!ConsumeNumber(s, &v.major) || !ConsumeChar(s, '.') || !ConsumeNumber(s, &v.minor) || !ConsumeChar(s, '.') ||
      !ConsumeNumber(s, &v.patch) || !AtSuffix(s)) {
    return Fail(Error::Malformed(
        fmt::format("server version \"{}\" does not start with major.minor.patch", version_string)));
  }
  return v;
}

Result<ServerVersion> GetServerVersion(const Connection& connection) {
  auto version = ParseServerVersion(connection.server_version());
  if (!version) return Fail(version.error().WithContext(connection.where()));
  return version;
}

}  // namespace cutover::db
