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

// An integer setting, or nullopt when it is absent. toml++'s value<int64_t>()
// would convert a float, with undefined behaviour (UBSan) for one beyond
// int64_t's range, so only an integer is read; any other value is a problem.
std::optional<int64_t> ReadInteger(toml::node_view<const toml::node> node, std::string_view where,
                                   Problems& problems) {
  if (!node) return std::nullopt;
  if (auto v = node.value_exact<int64_t>()) return *v;
  problems.Add(fmt::format("{} must be an integer", where));
  return std::nullopt;
}

std::optional<ServerConfig> ReadServer(const toml::table& root, const std::string& name, Problems& problems) {
  const toml::table* t = root[name].as_table();
  if (!t) return std::nullopt;
  ServerConfig s;
  s.host = (*t)["host"].value_or(std::string());
  if (s.host.empty()) problems.Add(fmt::format("[{}] host is missing", name));
  const int64_t port = ReadInteger((*t)["port"], fmt::format("[{}] port", name), problems).value_or(3306);
  if (port <= 0 || port > 65535) problems.Add(fmt::format("[{}] port {} is not a TCP port", name, port));
  s.port = static_cast<uint16_t>(port);
  s.user = (*t)["user"].value_or(std::string());
  if (s.user.empty()) problems.Add(fmt::format("[{}] user is missing", name));
  s.password = ReadPassword(*t, name, problems);
  const int64_t timeout = ReadInteger((*t)["timeout_s"], fmt::format("[{}] timeout_s", name), problems).value_or(30);
  if (timeout <= 0 || timeout > 86400) {
    problems.Add(fmt::format("[{}] timeout_s {} must be between 1 and 86400 (seconds without an answer before the "
                             "server counts as stalled)",
                             name, timeout));
  }
  s.timeout = std::chrono::seconds(timeout);
  s.tls_ca = (*t)["tls_ca"].value_or(std::string());
  // A CA given means the certificate is to be checked.
  const std::string tls = (*t)["tls"].value_or(std::string(s.tls_ca.empty() ? "off" : "verify"));
  if (tls == "off") s.tls = proxy::BackendTlsMode::kOff;
  else if (tls == "required") s.tls = proxy::BackendTlsMode::kRequired;
  else if (tls == "verify") s.tls = proxy::BackendTlsMode::kVerify;
  else problems.Add(fmt::format("[{}] tls = \"{}\": expected \"off\", \"required\" or \"verify\"", name, tls));
  if (s.tls == proxy::BackendTlsMode::kOff && !s.tls_ca.empty()) {
    problems.Add(fmt::format("[{}] tls_ca is set but tls = \"off\": set tls = \"verify\" to use it", name));
  }
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
      user.stage1 = protocol::NativePasswordStage1(password);
      user.stage2 = protocol::NativePasswordStage2(*user.stage1);
      user.sha2_stage2 = protocol::CachingSha2Stage2(password);
      user.ed25519_key = protocol::Ed25519PasswordKey(password);
      user.password = password;
    }
    user.auth_plugin = (*u)["auth_plugin"].value_or(std::string(protocol::kNativePasswordPlugin));
    if (user.auth_plugin != protocol::kNativePasswordPlugin && user.auth_plugin != protocol::kCachingSha2Plugin &&
        user.auth_plugin != protocol::kEd25519Plugin && user.auth_plugin != protocol::kClearPasswordPlugin) {
      problems.Add(fmt::format("{}.auth_plugin = \"{}\": expected \"mysql_native_password\", "
                               "\"caching_sha2_password\", \"client_ed25519\" or \"mysql_clear_password\"",
                               where, user.auth_plugin));
    } else if (user.auth_plugin == protocol::kEd25519Plugin && !user.ed25519_key) {
      problems.Add(fmt::format("{}: auth_plugin = \"client_ed25519\" needs password (or password_env), not "
                               "password_hash: the proxy derives the Ed25519 key from it",
                               where));
    }
    if (out.FindUser(user.name)) problems.Add(fmt::format("{}: user '{}' is listed twice", where, user.name));
    out.users.push_back(std::move(user));
  }
}

void ReadDuration(const toml::table& t, const char* key, std::chrono::milliseconds& out, Problems& problems) {
  if (auto v = ReadInteger(t[key], fmt::format("proxy.{}", key), problems)) {
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
  const int64_t threads = ReadInteger((*p)["threads"], "proxy.threads", problems).value_or(1);
  if (threads < 1 || threads > 256) problems.Add("proxy.threads must be between 1 and 256");
  else out.threads = static_cast<int>(threads);
  ReadDuration(*p, "handshake_timeout_ms", out.handshake_timeout, problems);
  ReadDuration(*p, "connect_timeout_ms", out.connect_timeout, problems);
  ReadDuration(*p, "drain_timeout_ms", out.drain_timeout, problems);
  ReadDuration(*p, "max_pause_ms", out.max_pause, problems);
  if (auto v = ReadInteger((*p)["max_packet_size"], "proxy.max_packet_size", problems)) {
    if (*v < 1024 || *v > (int64_t{1} << 30)) problems.Add("proxy.max_packet_size must be between 1024 and 1073741824");
    else out.max_packet_size = static_cast<uint32_t>(*v);
  }
  out.tls.cert = (*p)["tls_cert"].value_or(std::string());
  out.tls.key = (*p)["tls_key"].value_or(std::string());
  out.tls.ca = (*p)["tls_ca"].value_or(std::string());
  out.tls.required = (*p)["require_tls"].value_or(false);
  if (out.tls.cert.empty() && (out.tls.required || !out.tls.key.empty() || !out.tls.ca.empty())) {
    problems.Add("proxy.tls_cert is missing: require_tls, tls_key and tls_ca need the proxy's certificate");
  }
  if (!out.tls.cert.empty() && out.tls.key.empty()) problems.Add("proxy.tls_key is missing: tls_cert needs its key");
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

// The code point of the valid UTF-8 sequence of `length` bytes at text[i].
char32_t DecodeUtf8(std::string_view text, size_t i, size_t length) {
  static constexpr uint8_t kLeadMask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  char32_t c = static_cast<uint8_t>(text[i]) & kLeadMask[length];
  for (size_t k = 1; k < length; ++k) c = (c << 6) | (static_cast<uint8_t>(text[i + k]) & 0x3f);
  return c;
}

// The TOML text toml++ is given: the same document in ASCII only.
// toml++ 3.3 (Debian 12's libtomlplusplus-dev) reaches __builtin_unreachable()
// (undefined behaviour) when it asks whether one of many non-ASCII characters
// (U+00A1 to U+0499, U+2FAE to U+33A7, U+FC06 to U+FEFE) is whitespace, which
// it does wherever its scanner meets them outside a string, and its scanner's
// idea of where strings are can differ from ours on broken text (in
// `x = 0x1['''é'''`, say, it reads on through the quotes as part of the
// number). So toml++ is never given a non-ASCII byte:
//   - text that is not UTF-8 is refused, naming the byte offset;
//   - non-ASCII outside strings and comments, which TOML does not allow, is
//     refused, naming the byte offset;
//   - inside basic strings it becomes a \uXXXX (\UXXXXXXXX) escape; a literal
//     string ('...', '''...''') becomes the basic string with the same value,
//     escapes and all; a backslash before a non-ASCII character (never a valid
//     escape) is refused;
//   - inside comments it becomes '?'.
// Lines keep their numbers; columns in toml++'s messages count the rewritten line.
Result<std::string> AsciiTomlText(std::string_view text, const std::string& origin) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral };
  In in = In::kCode;
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  const auto fail = [&](size_t at, std::string_view what) {
    return Fail(Error::Config(fmt::format("{}: byte offset {}: {}", origin, at, what)));
  };
  constexpr std::string_view kTripleQuote = R"(""")";
  constexpr std::string_view kTripleApostrophe = "'''";
  // A closing """ or ''' may follow up to two quotes that belong to the string.
  const auto quotes_at = [&](size_t i, char quote) {
    size_t n = 0;
    while (i + n < text.size() && text[i + n] == quote && n < 5) ++n;
    return n;
  };
  size_t i = text.starts_with("\xef\xbb\xbf") ? 3 : 0;  // a UTF-8 byte order mark
  while (i < text.size()) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return fail(i, fmt::format("byte 0x{:02x} is not UTF-8; the file must be UTF-8", static_cast<uint8_t>(text[i])));
    }
    if (length > 1) {
      const char32_t c = DecodeUtf8(text, i, length);
      switch (in) {
        case In::kCode: return fail(i, "a non-ASCII character outside a string or comment");
        case In::kComment: out += '?'; break;
        default: out += c <= 0xffff ? fmt::format("\\u{:04X}", uint32_t(c)) : fmt::format("\\U{:08X}", uint32_t(c)); break;
      }
      i += length;
      continue;
    }
    const char c = text[i];
    const std::string_view rest = text.substr(i);
    switch (in) {
      case In::kCode:
        if (c == '#') {
          in = In::kComment;
        } else if (rest.starts_with(kTripleQuote)) {
          in = In::kMultiBasic;
          out += kTripleQuote;
          i += 3;
          continue;
        } else if (rest.starts_with(kTripleApostrophe)) {
          in = In::kMultiLiteral;
          out += kTripleQuote;
          i += 3;
          continue;
        } else if (c == '"') {
          in = In::kBasic;
        } else if (c == '\'') {
          in = In::kLiteral;
          out += '"';
          ++i;
          continue;
        }
        out += c;
        break;
      case In::kComment:
        if (c == '\n') in = In::kCode;
        out += c;
        break;
      case In::kBasic:
      case In::kMultiBasic:
        if (c == '\\') {
          if (i + 1 < text.size() && static_cast<uint8_t>(text[i + 1]) >= 0x80) {
            return fail(i, "a backslash before a non-ASCII character is not an escape");
          }
          out += c;
          if (i + 1 < text.size()) out += text[i + 1];  // the escaped character, '"' included
          i += 2;
          continue;
        }
        if (in == In::kBasic && (c == '"' || c == '\n')) {
          in = In::kCode;
        } else if (in == In::kMultiBasic && rest.starts_with(kTripleQuote)) {
          const size_t n = quotes_at(i, '"');
          out += rest.substr(0, n);
          in = In::kCode;
          i += n;
          continue;
        }
        out += c;
        break;
      case In::kLiteral:
      case In::kMultiLiteral:
        if (in == In::kLiteral && (c == '\'' || c == '\n')) {
          out += c == '\'' ? '"' : c;
          in = In::kCode;
        } else if (in == In::kMultiLiteral && rest.starts_with(kTripleApostrophe)) {
          const size_t n = quotes_at(i, '\'');
          out.append(n - 3, '\'');  // apostrophes that belong to the string
          out += kTripleQuote;
          in = In::kCode;
          i += n;
          continue;
        } else if (c == '\\' || c == '"') {
          out += '\\';
          out += c;
        } else {
          out += c;
        }
        break;
    }
    ++i;
  }
  return out;
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& origin, unsigned needs) {
  auto ascii = AsciiTomlText(text, origin);
  if (!ascii) return Fail(ascii.error());
  toml::table root;
  try {
    root = toml::parse(*ascii, origin);
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
  // [source] first: a server the config does not name gets its settings.
  for (const auto& [name, server] : {std::pair{"source", &config.source}, std::pair{"target", &config.target}}) {
    if (!*server) continue;
    const ServerConfig& s = **server;
    config.proxy.backend_tls.push_back({{s.host, s.port}, s.tls, s.tls_ca, name});
  }
  if (const toml::table* r = root["replication"].as_table()) {
    ReplicationConfig c{(*r)["user"].value_or(std::string()), ReadPassword(*r, "replication", problems)};
    if (c.user.empty()) problems.Add("[replication] user is missing");
    c.source_host = (*r)["source_host"].value_or(std::string());
    const int64_t port = ReadInteger((*r)["source_port"], "[replication] source_port", problems).value_or(0);
    if (port < 0 || port > 65535) problems.Add(fmt::format("[replication] source_port {} is not a TCP port", port));
    c.source_port = static_cast<uint16_t>(port);
    c.target_host = (*r)["target_host"].value_or(std::string());
    const int64_t target_port = ReadInteger((*r)["target_port"], "[replication] target_port", problems).value_or(0);
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
      *target = ReadInteger((*sw)[key], fmt::format("switchover.{}", key), problems).value_or(*target);
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
