#include "proxy/http_request.h"

#include <gtest/gtest.h>

namespace cutover::proxy {
namespace {

using Kind = HttpParse::Kind;

// What curl 7.88 and Prometheus 2.42 send, byte for byte.
constexpr char kCurlGet[] =
    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:6034\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
    "Authorization: Bearer change-me\r\n\r\n";
constexpr char kCurlPost[] =
    "POST /pause HTTP/1.1\r\nHost: 127.0.0.1:6034\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
    "Authorization: Bearer change-me\r\nContent-Length: 26\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n\r\n{\"drain_timeout_ms\": 2000}";
constexpr char kPrometheus[] =
    "GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:6034\r\nUser-Agent: Prometheus/2.42.0\r\n"
    "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
    "Accept-Encoding: gzip\r\nauthorization:   Bearer   change-me  \r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n";

struct GoodCase {
  const char* name;
  const char* bytes;
  const char* method;
  const char* path;
  const char* authorization;
  const char* body;
};

const GoodCase kGood[] = {
    {"curl GET", kCurlGet, "GET", "/metrics", "Bearer change-me", ""},
    {"curl POST with a body", kCurlPost, "POST", "/pause", "Bearer change-me", "{\"drain_timeout_ms\": 2000}"},
    {"prometheus, query string, odd spacing", kPrometheus, "GET", "/metrics", "Bearer   change-me", ""},
    {"HTTP/1.0 without headers", "GET /status HTTP/1.0\r\n\r\n", "GET", "/status", "", ""},
    {"pipelined bytes after the body are ignored",
     "POST /resume HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.1\r\n\r\n", "POST", "/resume", "", "{}"},
    {"repeated equal Content-Length", "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nA", "POST",
     "/x", "", "A"},
};

TEST(HttpRequestTest, ParsesWhatRealClientsSend) {
  for (const auto& c : kGood) {
    SCOPED_TRACE(c.name);
    const HttpParse p = ParseHttpRequest(c.bytes, HttpLimits{});
    ASSERT_EQ(p.kind, Kind::kComplete) << p.reason;
    EXPECT_EQ(p.request.method, c.method);
    EXPECT_EQ(p.request.path, c.path);
    EXPECT_EQ(p.request.authorization, c.authorization);
    EXPECT_EQ(p.request.body, c.body);
  }
}

TEST(HttpRequestTest, EveryTruncatedPrefixAsksForMoreBytes) {
  for (const auto& c : kGood) {
    const std::string_view whole(c.bytes);
    const size_t complete_at = whole.find("\r\n\r\n") + 4 + std::string_view(c.body).size();
    for (size_t n = 0; n < complete_at; ++n) {
      const HttpParse p = ParseHttpRequest(whole.substr(0, n), HttpLimits{});
      EXPECT_EQ(p.kind, Kind::kIncomplete) << c.name << ", prefix of " << n << " bytes: " << p.reason;
      EXPECT_TRUE(p.request.method.empty()) << c.name;
    }
  }
}

struct BadCase {
  const char* name;
  std::string bytes;
  int status;
};

const BadCase kBad[] = {
    {"no spaces in the request line", "GET\r\n\r\n", 400},
    {"one space in the request line", "GET /status\r\n\r\n", 400},
    {"target without a slash", "GET status HTTP/1.1\r\n\r\n", 400},
    {"absolute URI target", "GET http://x/status HTTP/1.1\r\n\r\n", 400},
    {"garbage version", "GET /status FOO\r\n\r\n", 400},
    {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
    {"HTTP/2.0 version with a path", "GET /status HTTP/2.0\r\n\r\n", 505},
    {"method with a control byte", std::string("G\x01T /status HTTP/1.1\r\n\r\n"), 400},
    {"header without a colon", "GET /status HTTP/1.1\r\nHost\r\n\r\n", 400},
    {"space before the colon", "GET /status HTTP/1.1\r\nHost : x\r\n\r\n", 400},
    {"obsolete line folding", "GET /status HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400},
    {"negative Content-Length", "POST /pause HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
    {"Content-Length with letters", "POST /pause HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", 400},
    {"huge Content-Length", "POST /pause HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
    {"conflicting Content-Length", "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nAB", 400},
    {"chunked body", "POST /pause HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 501},
    {"body over the limit", "POST /pause HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413},
    {"head over the limit, unfinished", "GET /" + std::string(20000, 'a'), 431},
    {"head over the limit, finished", "GET /status HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431},
};

TEST(HttpRequestTest, RefusesMalformedAndOversizedRequestsWithTheRightStatus) {
  for (const auto& c : kBad) {
    const HttpParse p = ParseHttpRequest(c.bytes, HttpLimits{});
    EXPECT_EQ(p.kind, Kind::kRefused) << c.name;
    EXPECT_EQ(p.status, c.status) << c.name << ": " << p.reason;
    EXPECT_FALSE(p.reason.empty()) << c.name;
  }
}

TEST(HttpRequestTest, LimitsAreTheCallers) {
  const HttpLimits small{64, 4};
  EXPECT_EQ(ParseHttpRequest("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", small).status, 413);
  EXPECT_EQ(ParseHttpRequest("POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd", small).kind, Kind::kComplete);
  EXPECT_EQ(ParseHttpRequest(std::string(65, 'G'), small).status, 431);
}

}  // namespace
}  // namespace cutover::proxy
