#include "proxy/http_request.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace cutover::proxy {
namespace {

HttpParse Refuse(int status, std::string reason) {
  HttpParse p;
  p.kind = HttpParse::Kind::kRefused;
  p.status = status;
  p.reason = std::move(reason);
  return p;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<size_t> ParseLength(std::string_view s) {
  size_t value = 0;
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// "METHOD /target HTTP/1.1"; fills method and path.
std::optional<HttpParse> ParseRequestLine(std::string_view line, HttpRequest& req) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Refuse(400, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Refuse(400, "malformed method");
  if (target.empty() || target.front() != '/' || target.find_first_of(" \t") != std::string_view::npos) {
    return Refuse(400, "the request target must be a path starting with '/'");
  }
  if (!version.starts_with("HTTP/")) return Refuse(400, "malformed HTTP version");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Refuse(505, "only HTTP/1.0 and HTTP/1.1 are served");
  req.method = method;
  req.path = target.substr(0, target.find('?'));
  return std::nullopt;
}

}  // namespace

HttpParse ParseHttpRequest(std::string_view data, const HttpLimits& limits) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (data.size() > limits.max_head) {
      return Refuse(431, fmt::format("the request head is larger than {} bytes", limits.max_head));
    }
    return HttpParse{};
  }
  if (head_end > limits.max_head) return Refuse(431, fmt::format("the request head is larger than {} bytes", limits.max_head));

  HttpParse result;
  HttpRequest& req = result.request;
  const std::string_view head = data.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  if (auto refused = ParseRequestLine(head.substr(0, line_end), req)) return *refused;

  std::optional<size_t> length;
  while (line_end != std::string_view::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end == std::string_view::npos ? line_end : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Refuse(400, "malformed header line");  // also rejects obsolete line folding
    }
    const std::string name = Lower(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (name == "content-length") {
      const auto parsed = ParseLength(value);
      if (!parsed) return Refuse(400, "malformed Content-Length");
      if (length && *length != *parsed) return Refuse(400, "conflicting Content-Length headers");
      length = parsed;
    } else if (name == "transfer-encoding") {
      return Refuse(501, "Transfer-Encoding is not supported; send the body with a Content-Length");
    } else if (name == "authorization") {
      req.authorization = value;
    }
  }
  const size_t body_length = length.value_or(0);
  if (body_length > limits.max_body) {
    return Refuse(413, fmt::format("the request body is larger than {} bytes", limits.max_body));
  }
  const size_t body_start = head_end + 4;
  if (data.size() < body_start + body_length) return HttpParse{};
  req.body = data.substr(body_start, body_length);
  result.kind = HttpParse::Kind::kComplete;
  return result;
}

}  // namespace cutover::proxy
