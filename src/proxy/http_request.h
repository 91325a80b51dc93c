// The admin API's HTTP/1.1 request parser: sans-io, like the protocol layer.
// It takes the bytes received so far and says whether they hold a whole
// request, need more, or must be refused with a status code. One request per
// connection and Content-Length bodies only: that is all the admin API and
// its clients (curl, Prometheus, urllib, cutover itself) need.
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cutover::proxy {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // the target without its query string
  std::string authorization;  // the Authorization header's value
  std::string body;
};

struct HttpParse {
  enum class Kind { kComplete, kIncomplete, kRefused };
  Kind kind = Kind::kIncomplete;
  HttpRequest request;  // kComplete only
  int status = 0;       // kRefused only: 400, 413, 431, 501 or 505
  std::string reason;   // kRefused only: what was wrong, for the client
};

struct HttpLimits {
  size_t max_head = 16 * 1024;  // request line and headers
  size_t max_body = 64 * 1024;
};

// Parses `data`, the bytes received so far from one connection.
[[nodiscard]] HttpParse ParseHttpRequest(std::string_view data, const HttpLimits& limits);

}  // namespace cutover::proxy
