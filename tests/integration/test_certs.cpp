#include "test_certs.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "local/file_util.h"

namespace cutover::testing {
namespace {

struct OpenSslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using CertPtr = std::unique_ptr<X509, OpenSslFree>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree>;

constexpr long kHour = 60 * 60;
constexpr long kDay = 24 * kHour;

// The OpenSSL error queue, drained, after `what`: "what: error:...; error:...".
Error OpenSslError(std::string_view what) {
  std::string message(what);
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message += message.size() == what.size() ? ": " : "; ";
    message += buf;
  }
  return Error::Io(std::move(message));
}

Result<KeyPtr> NewKey(KeyType type) {
  EVP_PKEY* key = type == KeyType::kRsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (key == nullptr) return std::unexpected(OpenSslError("cannot generate a private key"));
  return KeyPtr(key);
}

// What one certificate says; the issuer is given apart.
struct CertSpec {
  std::string common_name;
  bool ca = false;
  std::string extended_key_usage;  // "serverAuth", "clientAuth" or empty (a CA)
  std::string subject_alt_name;    // "IP:127.0.0.1,DNS:localhost" or empty
  long not_before_offset = -kHour;  // seconds from now; an hour back absorbs clock skew
  long not_after_offset = 365 * kDay;
};

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  std::unique_ptr<X509_EXTENSION, OpenSslFree> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return std::unexpected(OpenSslError(fmt::format("cannot add the extension {} = {}", OBJ_nid2sn(nid), value)));
  }
  return {};
}

// keyEncipherment only for RSA: an ECDSA key cannot encrypt, and a strict
// client rejects a certificate that claims it can.
std::string KeyUsage(bool ca, EVP_PKEY* key) {
  if (ca) return "critical,keyCertSign,cRLSign";
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? "critical,digitalSignature,keyEncipherment"
                                                   : "critical,digitalSignature";
}

// A random positive 127-bit serial number, so that no two certificates from
// one CA share one, even across runs.
Status SetRandomSerial(X509* cert) {
  std::unique_ptr<BIGNUM, OpenSslFree> serial(BN_new());
  if (serial == nullptr || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return std::unexpected(OpenSslError("cannot set a serial number"));
  }
  return {};
}

// A certificate for `key` with `spec`, signed by `issuer_key`; `issuer` is
// null for a self-signed one.
Result<CertPtr> NewCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  CertPtr cert(X509_new());
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return std::unexpected(OpenSslError("cannot create a certificate"));
  }
  if (auto s = SetRandomSerial(cert.get()); !s) return std::unexpected(s.error());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("cutover tests"),
                                 -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_offset) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_offset) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return std::unexpected(OpenSslError(fmt::format("cannot fill in the certificate '{}'", spec.common_name)));
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
      {NID_key_usage, KeyUsage(spec.ca, key)},
      {NID_subject_key_identifier, "hash"},
  };
  // A self-signed certificate's authority key identifier would name itself: leave it out.
  if (issuer != nullptr) extensions.emplace_back(NID_authority_key_identifier, "keyid:always");
  if (!spec.extended_key_usage.empty()) extensions.emplace_back(NID_ext_key_usage, spec.extended_key_usage);
  if (!spec.subject_alt_name.empty()) extensions.emplace_back(NID_subject_alt_name, spec.subject_alt_name);
  for (const auto& [nid, value] : extensions) {
    if (auto s = AddExtension(cert.get(), &ctx, nid, value); !s) return std::unexpected(s.error());
  }

  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return std::unexpected(OpenSslError(fmt::format("cannot sign the certificate '{}'", spec.common_name)));
  }
  return cert;
}

// The PEM text that `write` puts into a memory BIO.
template <class Write>
Result<std::string> ToPem(std::string_view what, Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || write(bio.get()) != 1) {
    return std::unexpected(OpenSslError(fmt::format("cannot encode {}", what)));
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Status WriteCert(const std::string& path, X509* cert) {
  auto pem = ToPem(path, [cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
  if (!pem) return std::unexpected(pem.error());
  return local::WritePrivateFile(path, *pem);
}

// PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted, whatever the key type.
Status WriteKey(const std::string& path, EVP_PKEY* key) {
  auto pem = ToPem(path, [key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  if (!pem) return std::unexpected(pem.error());
  return local::WritePrivateFile(path, *pem);
}

// A CA and its key, kept in memory to sign the leaves with.
struct Authority {
  KeyPtr key;
  CertPtr cert;
};

Result<Authority> MakeAuthority(KeyType type, const std::string& common_name, const std::string& cert_path,
                                const std::string& key_path) {
  auto key = NewKey(type);
  if (!key) return std::unexpected(key.error());
  auto cert = NewCert({.common_name = common_name, .ca = true, .not_after_offset = 10 * 365 * kDay}, key->get(),
                      nullptr, key->get());
  if (!cert) return std::unexpected(cert.error());
  if (auto s = WriteCert(cert_path, cert->get()); !s) return std::unexpected(s.error());
  if (auto s = WriteKey(key_path, key->get()); !s) return std::unexpected(s.error());
  return Authority{std::move(*key), std::move(*cert)};
}

Status MakeLeaf(KeyType type, const CertSpec& spec, const Authority& ca, const PemFiles& files) {
  auto key = NewKey(type);
  if (!key) return std::unexpected(key.error());
  auto cert = NewCert(spec, key->get(), ca.cert.get(), ca.key.get());
  if (!cert) return std::unexpected(cert.error());
  if (auto s = WriteCert(files.cert, cert->get()); !s) return s;
  return WriteKey(files.key, key->get());
}

}  // namespace

Result<TestCertificates> TestCertificates::Generate(const std::string& dir, KeyType key_type) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected(Error::Io(fmt::format("cannot create {}: {}", dir, ec.message())));
  TestCertificates certs(dir, key_type);

  auto ca = MakeAuthority(key_type, "cutover test CA", certs.ca(), certs.ca_key());
  if (!ca) return std::unexpected(ca.error());
  auto other_ca = MakeAuthority(key_type, "cutover other test CA", certs.other_ca(), dir + "/other-ca-key.pem");
  if (!other_ca) return std::unexpected(other_ca.error());

  const CertSpec server = {.common_name = "cutover test server",
                           .extended_key_usage = "serverAuth",
                           .subject_alt_name = "IP:127.0.0.1,DNS:localhost"};
  const CertSpec client = {.common_name = "app", .extended_key_usage = "clientAuth"};
  CertSpec expired_server = server;
  expired_server.not_before_offset = -30 * kDay;
  expired_server.not_after_offset = -kDay;
  CertSpec expired_client = client;
  expired_client.not_before_offset = -30 * kDay;
  expired_client.not_after_offset = -kDay;

  const struct {
    const CertSpec& spec;
    const Authority& issuer;
    PemFiles files;
  } leaves[] = {
      {server, *ca, certs.server()},
      {server, *ca, certs.server_renewed()},
      {expired_server, *ca, certs.expired_server()},
      {client, *ca, certs.client()},
      {expired_client, *ca, certs.expired_client()},
      {server, *other_ca, certs.other_server()},
  };
  for (const auto& leaf : leaves) {
    if (auto s = MakeLeaf(key_type, leaf.spec, leaf.issuer, leaf.files); !s) {
      return std::unexpected(Error::Io(fmt::format("{}: {}", leaf.files.cert, s.error().message())));
    }
  }
  return certs;
}

TestCertificates TestCertificates::Create(const std::string& dir, KeyType key_type) {
  auto certs = Generate(dir, key_type);
  if (!certs) {
    ADD_FAILURE() << "test certificates in " << dir << ": " << certs.error().message();
    return TestCertificates(dir, key_type);
  }
  return std::move(*certs);
}

std::string TestCertificates::Sha256Fingerprint(const std::string& cert_pem_path) {
  BioPtr bio(BIO_new_file(cert_pem_path.c_str(), "r"));
  if (bio == nullptr) return "";
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (cert == nullptr || X509_digest(cert.get(), EVP_sha256(), digest, &size) != 1) {
    ERR_clear_error();
    return "";
  }
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace cutover::testing
