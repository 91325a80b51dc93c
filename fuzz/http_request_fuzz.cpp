// The admin API's request parser on arbitrary bytes, under small limits (so
// that 413 and 431 are reachable) taken from the first 2 input bytes.
// Checks: a refusal carries one of the documented statuses and a reason; a
// complete request's fields are what its bytes say; a request that is
// complete stays complete (with the same fields) when more bytes arrive, and
// none of its prefixes is complete.
#include <string>

#include "fuzz_util.h"
#include "proxy/http_request.h"

using namespace cutover;
using namespace cutover::proxy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  HttpLimits limits;
  limits.max_head = 16 + data[0] * 4;
  limits.max_body = data[1] * 4;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  const HttpParse p = ParseHttpRequest(text, limits);
  switch (p.kind) {
    case HttpParse::Kind::kIncomplete: {
      // Waiting for more is right only while the head fits the limit.
      const size_t head_end = text.find("\r\n\r\n");
      FUZZ_CHECK(head_end == std::string_view::npos ? text.size() <= limits.max_head : head_end <= limits.max_head);
      return 0;
    }
    case HttpParse::Kind::kRefused:
      FUZZ_CHECK(p.status == 400 || p.status == 413 || p.status == 431 || p.status == 501 || p.status == 505);
      FUZZ_CHECK(!p.reason.empty());
      return 0;
    case HttpParse::Kind::kComplete:
      break;
  }
  const HttpRequest& r = p.request;
  const size_t head_end = text.find("\r\n\r\n");
  FUZZ_CHECK(head_end != std::string_view::npos && head_end <= limits.max_head);
  FUZZ_CHECK(text.starts_with(r.method + " " + r.path));
  FUZZ_CHECK(!r.path.empty() && r.path[0] == '/' && r.path.find('?') == std::string::npos);
  FUZZ_CHECK(r.body.size() <= limits.max_body);
  FUZZ_CHECK(text.substr(head_end + 4, r.body.size()) == r.body);
  FUZZ_CHECK(r.authorization.size() < head_end);

  // More bytes after a whole request (a pipelined one, say) change nothing.
  const std::string longer = std::string(text) + "GET / HTTP/1.1\r\n\r\n";
  const HttpParse q = ParseHttpRequest(longer, limits);
  FUZZ_CHECK(q.kind == HttpParse::Kind::kComplete && q.request.method == r.method && q.request.path == r.path &&
             q.request.authorization == r.authorization && q.request.body == r.body);

  // The request ends exactly at head + body: one byte less is not complete.
  const size_t end = head_end + 4 + r.body.size();
  FUZZ_CHECK(ParseHttpRequest(text.substr(0, end - 1), limits).kind != HttpParse::Kind::kComplete);
  return 0;
}
