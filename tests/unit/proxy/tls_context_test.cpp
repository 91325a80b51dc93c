#include "proxy/tls_context.h"

#include <gtest/gtest.h>

namespace cutover::proxy {
namespace {

// [source] (first) has TLS with verification, [target] none; a server the
// config does not name gets [source]'s settings, checked against its own name.
TEST(FindBackendTlsTest, NamedServersGetTheirOwnOthersGetTheSources) {
  TlsContexts contexts;
  auto source_context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  contexts.backends.push_back({{"10.0.0.5", 3306}, BackendTls{source_context, {"10.0.0.5", true}, "source"}});
  contexts.backends.push_back({{"10.0.0.6", 3306}, BackendTls{nullptr, {"10.0.0.6", false}, "target"}});

  const BackendTls target = FindBackendTls(contexts, {"10.0.0.6", 3306});
  EXPECT_EQ(target.context, nullptr);
  EXPECT_EQ(target.setting, "target");

  const BackendTls other = FindBackendTls(contexts, {"db.example", 3307});
  EXPECT_EQ(other.context, source_context);
  EXPECT_TRUE(other.name.verify);
  EXPECT_EQ(other.name.host, "db.example");
  EXPECT_EQ(other.setting, "source");

  const BackendTls none = FindBackendTls(TlsContexts{}, {"10.0.0.9", 3306});
  EXPECT_EQ(none.context, nullptr);
  EXPECT_EQ(none.name.host, "10.0.0.9");
}

}  // namespace
}  // namespace cutover::proxy
