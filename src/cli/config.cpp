#include "cli/config.h"

#include "switchover/move_state.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace cutover::cli {
namespace {

// Collects every problem so that one run of the tool lists them all.
class Problems {
 public:
  void Add(std::string p) { list_.push_back(std::move(p)); }
  bool empty() const { return list_.empty(); }
  std::string Join(const std::string& origin) const {
    std::string out = fmt::format("{}: {} problem(s):", origin, list_.size());
    for (const auto& p : list_) out += "\n  - " + p;
    return out;
  }

 private:
  std::vector<std::string> list_;
};

std::optional<proxy::HostPort> ParseHostPort(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string port(text.substr(colon + 1));
  char* end = nullptr;
  const long value = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || value < 0 || value > 65535) return std::nullopt;
  return proxy::HostPort{std::string(text.substr(0, colon)), static_cast<uint16_t>(value)};
}

// Reads `password` or `password_env`; empty when neither is set.
std::string ReadPassword(const toml::table& t, const std::string& where, Problems& problems) {
  if (auto env = t["password_env"].value<std::string>()) {
    const char* v = std::getenv(env->c_str());
    if (!v) problems.Add(fmt::format("{}.password_env: environment variable {} is not set", where, *env));
    return v ? v : "";
  }
  return t["password"].value_or(std::string());
}

std::optional<ServerConfig> ReadServer(const toml::table& root, const std::string& name, Problems& problems) {
  const toml::table* t = root[name].as_table();
  if (!t) return std::nullopt;
  ServerConfig s;
  s.host = (*t)["host"].value_or(std::string());
  if (s.host.empty()) problems.Add(fmt::format("[{}] host is missing", name));
  const int64_t port = (*t)["port"].value_or(int64_t{3306});
  if (port <= 0 || port > 65535) problems.Add(fmt::format("[{}] port {} is not a TCP port", name, port));
  s.port = static_cast<uint16_t>(port);
  s.user = (*t)["user"].value_or(std::string());
  if (s.user.empty()) problems.Add(fmt::format("[{}] user is missing", name));
  s.password = ReadPassword(*t, name, problems);
  const int64_t timeout = (*t)["timeout_s"].value_or(int64_t{30});
  if (timeout <= 0 || timeout > 86400) {
    problems.Add(fmt::format("[{}] timeout_s {} must be between 1 and 86400 (seconds without an answer before the "
                             "server counts as stalled)",
                             name, timeout));
  }
  s.timeout = std::chrono::seconds(timeout);
  return s;
}

void ReadUsers(const toml::table& proxy, proxy::ProxyConfig& out, Problems& problems) {
  const toml::array* users = proxy["users"].as_array();
  if (!users || users->empty()) {
    problems.Add("[[proxy.users]]: at least one user must be configured; the proxy authenticates clients itself");
    return;
  }
  for (size_t i = 0; i < users->size(); ++i) {
    const toml::table* u = (*users)[i].as_table();
    const std::string where = fmt::format("proxy.users[{}]", i);
    if (!u) {
      problems.Add(where + ": expected a table");
      continue;
    }
    proxy::ProxyUser user;
    user.name = (*u)["name"].value_or(std::string());
    if (user.name.empty()) problems.Add(where + ".name is missing");
    if (auto hash = (*u)["password_hash"].value<std::string>()) {
      auto stage2 = protocol::ParseNativePasswordHash(*hash);
      if (!stage2) {
        problems.Add(fmt::format("{}.password_hash: expected '*' and 40 hex digits as in mysql.user", where));
      } else {
        user.stage2 = *stage2;
      }
    } else {
      const std::string password = ReadPassword(*u, where, problems);
      user.empty_password = password.empty();
      user.stage2 = protocol::NativePasswordStage2(protocol::NativePasswordStage1(password));
    }
    if (out.FindUser(user.name)) problems.Add(fmt::format("{}: user '{}' is listed twice", where, user.name));
    out.users.push_back(std::move(user));
  }
}

void ReadDuration(const toml::table& t, const char* key, std::chrono::milliseconds& out, Problems& problems) {
  if (auto v = t[key].value<int64_t>()) {
    if (*v <= 0) problems.Add(fmt::format("proxy.{} must be positive (milliseconds)", key));
    else out = std::chrono::milliseconds(*v);
  }
}

void ReadProxy(const toml::table& root, Config& config, Problems& problems) {
  const toml::table* p = root["proxy"].as_table();
  if (!p) return;
  config.has_proxy = true;
  proxy::ProxyConfig& out = config.proxy;
  for (const auto& [key, target] : {std::pair{"listen", &out.listen}, std::pair{"admin_listen", &out.admin_listen}}) {
    if (auto text = (*p)[key].value<std::string>()) {
      if (auto hp = ParseHostPort(*text)) *target = *hp;
      else problems.Add(fmt::format("proxy.{}: expected \"host:port\", got \"{}\"", key, *text));
    }
  }
  out.admin_token = (*p)["admin_token"].value_or(std::string());
  if (auto env = (*p)["admin_token_env"].value<std::string>()) {
    const char* v = std::getenv(env->c_str());
    if (v) out.admin_token = v;
    else problems.Add(fmt::format("proxy.admin_token_env: environment variable {} is not set", *env));
  }
  if (out.admin_token.empty()) problems.Add("proxy.admin_token is missing: the admin API needs a token");
  out.state_file = (*p)["state_file"].value_or(std::string());
  out.threads = static_cast<int>((*p)["threads"].value_or(int64_t{1}));
  if (out.threads < 1 || out.threads > 256) problems.Add("proxy.threads must be between 1 and 256");
  ReadDuration(*p, "handshake_timeout_ms", out.handshake_timeout, problems);
  ReadDuration(*p, "connect_timeout_ms", out.connect_timeout, problems);
  ReadDuration(*p, "drain_timeout_ms", out.drain_timeout, problems);
  ReadDuration(*p, "max_pause_ms", out.max_pause, problems);
  if (auto v = (*p)["max_packet_size"].value<int64_t>()) {
    if (*v < 1024 || *v > (int64_t{1} << 30)) problems.Add("proxy.max_packet_size must be between 1024 and 1073741824");
    else out.max_packet_size = static_cast<uint32_t>(*v);
  }
  ReadUsers(*p, out, problems);
}

// Length of the UTF-8 sequence starting at text[i], or 0 when the bytes there
// are not UTF-8 (a stray continuation byte, an overlong form, a surrogate, a
// code point beyond U+10FFFF, or a sequence cut short).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint8_t second_min = 0x80;
  uint8_t second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;  // overlong
    if (lead == 0xed) second_max = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;  // overlong
    if (lead == 0xf4) second_max = 0x8f;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  if (byte(i + 1) < second_min || byte(i + 1) > second_max) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

bool IsTomlWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Checks what toml++ cannot be trusted with, before it sees the text.
// toml++ 3.3 (Debian 12's libtomlplusplus-dev) reaches __builtin_unreachable()
// (undefined behaviour) when it asks whether one of many non-ASCII characters
// (U+00A1 to U+0499, U+2FAE to U+33A7) is whitespace, and it asks that of
// every character outside strings and comments (a quote inside a number,
// as in `x = -'...'`, does not start a string for it) and of the first
// character after a backslash in a multi-line basic string. TOML allows
// non-ASCII only inside strings and comments anyway, so this refuses, naming
// the byte offset: text that is not UTF-8; non-ASCII outside strings and
// comments, where a string starts only where TOML allows one (after `=`, `[`,
// `,`, `{`, `.` or at the start of a line); non-ASCII right after a backslash
// (and the whitespace a line-ending backslash trims) in a multi-line basic
// string. Anything else is left to toml++ to judge.
Status CheckTomlText(std::string_view text, const std::string& origin) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  In in = In::kCode;
  bool trimming = false;  // In kMultiBasic: after a backslash, or the whitespace a line-ending one trims?
  char last = '\n';       // The last character in kCode other than a space or tab.
  const auto fail = [&](size_t at, std::string_view what) {
    return Fail(Error::Config(fmt::format("{}: byte offset {}: {}", origin, at, what)));
  };
  // A closing """ or ''' may follow up to two quotes that belong to the string.
  const auto closing_length = [&](size_t i, char quote) {
    size_t n = 0;
    while (i + n < text.size() && text[i + n] == quote && n < 5) ++n;
    return n;
  };
  constexpr std::string_view kTripleQuote = R"(""")";
  constexpr std::string_view kTripleApostrophe = "'''";
  size_t i = text.starts_with("\xef\xbb\xbf") ? 3 : 0;  // a UTF-8 byte order mark
  while (i < text.size()) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return fail(i, fmt::format("byte 0x{:02x} is not UTF-8; the file must be UTF-8", static_cast<uint8_t>(text[i])));
    }
    if (length > 1) {
      if (in == In::kCode) return fail(i, "a non-ASCII character outside a string or comment");
      if (in == In::kMultiBasic && trimming) {
        return fail(i, "a non-ASCII character right after a backslash in a multi-line string; escape it as \\uXXXX");
      }
      i += length;
      continue;
    }
    const char c = text[i];
    const std::string_view rest = text.substr(i);
    switch (in) {
      case In::kCode: {
        if (c == ' ' || c == '\t') break;
        const bool string_may_start = std::string_view("\n=[,{.").find(last) != std::string_view::npos;
        last = c;
        if (c == '#') {
          in = In::kComment;
        } else if (!string_may_start) {
          break;
        } else if (rest.starts_with(kTripleQuote)) {
          in = In::kMultiBasic;
          i += 3;
          continue;
        } else if (rest.starts_with(kTripleApostrophe)) {
          in = In::kMultiLiteral;
          i += 3;
          continue;
        } else if (c == '"') {
          in = In::kBasic;
        } else if (c == '\'') {
          in = In::kLiteral;
        }
        break;
      }
      case In::kComment:
        if (c == '\n') {
          in = In::kCode;
          last = c;
        }
        break;
      case In::kBasic:
        if (c == '\\' && i + 1 < text.size() && static_cast<uint8_t>(text[i + 1]) < 0x80) {
          ++i;  // an escaped ASCII character, '"' included
        } else if (c == '"' || c == '\n') {
          in = In::kCode;
        }
        break;
      case In::kLiteral:
        if (c == '\'' || c == '\n') in = In::kCode;
        break;
      case In::kMultiBasic:
        if (trimming && IsTomlWhitespace(c)) break;
        trimming = false;
        if (c == '\\') {
          const char next = i + 1 < text.size() ? text[i + 1] : '\0';
          if (IsTomlWhitespace(next) || static_cast<uint8_t>(next) >= 0x80) {
            trimming = true;  // a line-ending backslash, or an invalid escape toml++ still inspects
          } else {
            ++i;  // an escaped ASCII character, '"' included
          }
        } else if (rest.starts_with(kTripleQuote)) {
          i += closing_length(i, '"');
          in = In::kCode;
          continue;
        }
        break;
      case In::kMultiLiteral:
        if (rest.starts_with(kTripleApostrophe)) {
          i += closing_length(i, '\'');
          in = In::kCode;
          continue;
        }
        break;
    }
    ++i;
  }
  return {};
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& origin, unsigned needs) {
  if (auto checked = CheckTomlText(text, origin); !checked) return Fail(checked.error());
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Fail(Error::Config(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                                          e.description())));
  }
  Problems problems;
  Config config;
  for (const auto& [key, value] : root) {
    const std::string_view k = key.str();
    if (k != "proxy" && k != "source" && k != "target" && k != "replication" && k != "switchover") {
      problems.Add(fmt::format("unknown section [{}]", k));
    }
  }
  ReadProxy(root, config, problems);
  config.source = ReadServer(root, "source", problems);
  if (config.source) config.proxy.primary = {config.source->host, config.source->port};
  config.target = ReadServer(root, "target", problems);
  if (const toml::table* r = root["replication"].as_table()) {
    ReplicationConfig c{(*r)["user"].value_or(std::string()), ReadPassword(*r, "replication", problems)};
    if (c.user.empty()) problems.Add("[replication] user is missing");
    c.source_host = (*r)["source_host"].value_or(std::string());
    const int64_t port = (*r)["source_port"].value_or(int64_t{0});
    if (port < 0 || port > 65535) problems.Add(fmt::format("[replication] source_port {} is not a TCP port", port));
    c.source_port = static_cast<uint16_t>(port);
    c.target_host = (*r)["target_host"].value_or(std::string());
    const int64_t target_port = (*r)["target_port"].value_or(int64_t{0});
    if (target_port < 0 || target_port > 65535) {
      problems.Add(fmt::format("[replication] target_port {} is not a TCP port", target_port));
    }
    c.target_port = static_cast<uint16_t>(target_port);
    config.replication = c;
  }
  if (const toml::table* sw = root["switchover"].as_table()) {
    SwitchoverConfig& c = config.switchover;
    c.state_file = (*sw)["state_file"].value_or(c.state_file);
    for (auto [key, target] : {std::pair{"max_lag_s", &c.max_lag_s}, std::pair{"max_transaction_s", &c.max_transaction_s},
                               std::pair{"drain_timeout_ms", &c.drain_timeout_ms},
                               std::pair{"catchup_timeout_ms", &c.catchup_timeout_ms},
                               std::pair{"max_pause_ms", &c.max_pause_ms}, std::pair{"gate_lag_ms", &c.gate_lag_ms},
                               std::pair{"gate_timeout_ms", &c.gate_timeout_ms}, std::pair{"attempts", &c.attempts}}) {
      *target = (*sw)[key].value_or(*target);
      const bool may_be_zero = std::string_view(key) == "gate_timeout_ms";  // 0: no catch-up gate
      if (*target < 0 || (*target == 0 && !may_be_zero)) {
        problems.Add(fmt::format("switchover.{} must be positive", key));
      }
    }
    if (const toml::array* replicas = (*sw)["replicas"].as_array()) {
      for (size_t i = 0; i < replicas->size(); ++i) {
        const std::string where = fmt::format("switchover.replicas[{}]", i);
        toml::table wrapper;
        if (const toml::table* r = (*replicas)[i].as_table()) wrapper.insert(where, *r);
        auto server = ReadServer(wrapper, where, problems);
        if (server) c.replicas.push_back(*server);
        else problems.Add(where + ": expected a table with host, port, user, password");
      }
    }
  }
  if ((needs & kProxySection) && !config.has_proxy) problems.Add("[proxy] section is missing");
  if ((needs & kSourceSection) && !config.source) {
    problems.Add("[source] section is missing: the current primary (host, port, user, password)");
  }
  if ((needs & kTargetSection) && !config.target) {
    problems.Add("[target] section is missing: the new server (host, port, user, password)");
  }
  if ((needs & kReplicationSection) && !config.replication) {
    problems.Add("[replication] section is missing: the account the target replicates with (user, password)");
  }
  if (!problems.empty()) return Fail(Error::Config(problems.Join(origin)));
  return config;
}

Result<CurrentRoles> ReadCurrentRoles(const Config& config) {
  auto moves = switchover::LoadMoveState(config.switchover.state_file);
  if (!moves) return Fail(moves.error());
  const bool swapped = moves->primary == "target";
  return CurrentRoles{swapped ? &*config.target : &*config.source, swapped ? &*config.source : &*config.target,
                      swapped};
}

Result<Config> LoadConfig(const std::string& path, unsigned needs) {
  std::ifstream in(path);
  if (!in) return Fail(Error::Config(fmt::format("{}: cannot read the config file", path)));
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path, needs);
}

}  // namespace cutover::cli
