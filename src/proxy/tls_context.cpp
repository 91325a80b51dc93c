#include "proxy/tls_context.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace cutover::proxy {
namespace {

// A file the proxy cannot open is named with the reason, before OpenSSL's
// vaguer "system lib" gets a chance.
Status CheckReadable(const std::string& path, std::string_view setting) {
  std::ifstream in(path);
  if (!in) return Fail(Error::Config(fmt::format("{}: cannot read {}: {}", setting, path, std::strerror(errno))));
  return {};
}

Error OpenSslError(std::string_view setting, const std::string& path, std::string_view what,
                   const asio::error_code& ec) {
  return Error::Config(fmt::format("{}: {} {}: {}", setting, what, path, ec.message()));
}

void Harden(asio::ssl::context& context) {
  SSL_CTX* raw = context.native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // An idle session keeps no read or write buffer: thousands of sessions.
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
}

// "CN=proxy.example, expires Dec  3 16:00:00 2027 GMT".
std::string DescribeCertificate(SSL_CTX* context) {
  X509* cert = SSL_CTX_get0_certificate(context);
  if (!cert) return "";
  char subject[256] = {};
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  BIO* bio = BIO_new(BIO_s_mem());
  ASN1_TIME_print(bio, X509_get0_notAfter(cert));
  char* text = nullptr;
  const long n = BIO_get_mem_data(bio, &text);
  std::string out = fmt::format("{}, expires {}", subject, std::string_view(text, n > 0 ? n : 0));
  BIO_free(bio);
  return out;
}

Result<std::shared_ptr<asio::ssl::context>> ClientContext(const ClientTlsConfig& tls) {
  if (tls.key.empty()) return Fail(Error::Config("proxy.tls_key: missing; proxy.tls_cert needs its private key"));
  if (Status st = CheckReadable(tls.cert, "proxy.tls_cert"); !st) return Fail(st.error());
  if (Status st = CheckReadable(tls.key, "proxy.tls_key"); !st) return Fail(st.error());
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  Harden(*context);
  asio::error_code ec;
  context->use_certificate_chain_file(tls.cert, ec);
  if (ec) return Fail(OpenSslError("proxy.tls_cert", tls.cert, "no PEM certificate in", ec));
  context->use_private_key_file(tls.key, asio::ssl::context::pem, ec);
  const bool mismatch = ec && ERR_GET_REASON(ec.value()) == X509_R_KEY_VALUES_MISMATCH;
  if (ec && !mismatch) return Fail(OpenSslError("proxy.tls_key", tls.key, "no PEM private key in", ec));
  if (mismatch || SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Fail(Error::Config(
        fmt::format("proxy.tls_key: {} is not the private key of the certificate in {}", tls.key, tls.cert)));
  }
  if (!tls.ca.empty()) {
    if (Status st = CheckReadable(tls.ca, "proxy.tls_ca"); !st) return Fail(st.error());
    context->load_verify_file(tls.ca, ec);
    if (ec) return Fail(OpenSslError("proxy.tls_ca", tls.ca, "no PEM CA certificate in", ec));
    context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    // Tells clients which CAs the proxy accepts.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.ca.c_str())) {
      SSL_CTX_set_client_CA_list(context->native_handle(), names);
    }
  }
  return context;
}

Result<BackendTls> ServerContext(const BackendTlsConfig& tls) {
  BackendTls out;
  out.setting = tls.setting;
  out.name = {tls.address.host, tls.mode == BackendTlsMode::kVerify};
  if (tls.mode == BackendTlsMode::kOff) return out;
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  Harden(*context);
  asio::error_code ec;
  const std::string setting = tls.setting + ".tls_ca";
  if (!tls.ca.empty()) {
    if (Status st = CheckReadable(tls.ca, setting); !st) return Fail(st.error());
    context->load_verify_file(tls.ca, ec);
    if (ec) return Fail(OpenSslError(setting, tls.ca, "no PEM CA certificate in", ec));
  } else if (tls.mode == BackendTlsMode::kVerify) {
    context->set_default_verify_paths(ec);
    if (ec) return Fail(Error::Config(fmt::format("{}: the system's CA certificates cannot be loaded ({}); set {}",
                                                  tls.setting, ec.message(), setting)));
  }
  out.context = std::move(context);
  return out;
}

}  // namespace

Result<std::shared_ptr<const TlsContexts>> LoadTlsContexts(const ProxyConfig& config) {
  auto out = std::make_shared<TlsContexts>();
  if (config.tls.enabled()) {
    auto clients = ClientContext(config.tls);
    if (!clients) return Fail(clients.error());
    out->clients = std::move(*clients);
    out->client_certificate = DescribeCertificate(out->clients->native_handle());
  }
  for (const BackendTlsConfig& b : config.backend_tls) {
    auto server = ServerContext(b);
    if (!server) return Fail(server.error());
    out->backends.emplace_back(b.address, std::move(*server));
  }
  return std::shared_ptr<const TlsContexts>(std::move(out));
}

BackendTls FindBackendTls(const TlsContexts& contexts, const HostPort& address) {
  for (const auto& [where, tls] : contexts.backends) {
    if (where == address) return tls;
  }
  if (contexts.backends.empty()) return BackendTls{nullptr, {address.host, false}, ""};
  BackendTls fallback = contexts.backends.front().second;
  fallback.name.host = address.host;
  return fallback;
}

}  // namespace cutover::proxy
