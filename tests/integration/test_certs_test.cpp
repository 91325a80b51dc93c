// The TLS tests' certificates checked with OpenSSL itself: chain
// verification with an X509_STORE, and real TLS handshakes in memory between
// an OpenSSL client and server, so that a certificate the TLS tests rely on
// to pass (or to fail) does so for the reason they mean.
#include "test_certs.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "local/file_util.h"

namespace cutover::testing {
namespace {

struct OpenSslFree {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
};
using CertPtr = std::unique_ptr<X509, OpenSslFree>;

CertPtr LoadCert(const std::string& path) {
  std::unique_ptr<BIO, OpenSslFree> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) return nullptr;
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::unique_ptr<EVP_PKEY, OpenSslFree> LoadKey(const std::string& path) {
  std::unique_ptr<BIO, OpenSslFree> bio(BIO_new_file(path.c_str(), "r"));
  if (bio == nullptr) return nullptr;
  return std::unique_ptr<EVP_PKEY, OpenSslFree>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert's verdict on `cert_path` with `ca_path` as the only trust
// anchor, for `purpose` (X509_PURPOSE_SSL_SERVER, ...): X509_V_OK or the error.
int Verify(const std::string& cert_path, const std::string& ca_path, int purpose) {
  CertPtr cert = LoadCert(cert_path);
  CertPtr ca = LoadCert(ca_path);
  if (cert == nullptr || ca == nullptr) {
    ADD_FAILURE() << "cannot read " << cert_path << " or " << ca_path;
    return -1;
  }
  std::unique_ptr<X509_STORE, OpenSslFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, OpenSslFree> ctx(X509_STORE_CTX_new());
  if (X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1) {
    ADD_FAILURE() << "cannot set up the verification of " << cert_path;
    return -1;
  }
  X509_verify_cert(ctx.get());
  return X509_STORE_CTX_get_error(ctx.get());
}

std::string VerifyErrorName(int error) { return error < 0 ? "setup failed" : X509_verify_cert_error_string(error); }

// Both sides' view of one TLS handshake.
struct Handshake {
  bool completed = false;
  long client_verify = X509_V_OK;  // what the client made of the server's certificate
  long server_verify = X509_V_OK;  // what the server made of the client's (when it asked for one)
  std::string server_fingerprint;  // SHA-256 of the certificate the client received
};

struct HandshakeOptions {
  PemFiles server;
  std::string client_trusts;   // the CA the client verifies the server with
  std::string host = "127.0.0.1";
  std::string server_trusts;   // when set, the server demands a client certificate from this CA
  PemFiles client;             // the client's certificate, if any
};

std::unique_ptr<SSL_CTX, OpenSslFree> NewContext(const SSL_METHOD* method, const PemFiles& own,
                                                 const std::string& trusts, int verify_mode) {
  std::unique_ptr<SSL_CTX, OpenSslFree> ctx(SSL_CTX_new(method));
  EXPECT_NE(ctx, nullptr);
  if (!own.cert.empty()) {
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), own.cert.c_str()), 1) << own.cert;
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), own.key.c_str(), SSL_FILETYPE_PEM), 1) << own.key;
    EXPECT_EQ(SSL_CTX_check_private_key(ctx.get()), 1) << own.key << " does not match " << own.cert;
  }
  if (!trusts.empty()) {
    EXPECT_EQ(SSL_CTX_load_verify_locations(ctx.get(), trusts.c_str(), nullptr), 1) << trusts;
    SSL_CTX_set_verify(ctx.get(), verify_mode, nullptr);
  }
  return ctx;
}

// A TLS handshake between an OpenSSL client and server joined by a BIO pair
// in memory, as a client verifying the server's certificate and host name
// (an IP address or a DNS name) does it.
Handshake RunHandshake(const HandshakeOptions& o) {
  Handshake result;
  auto server_ctx = NewContext(TLS_server_method(), o.server, o.server_trusts,
                               SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  auto client_ctx = NewContext(TLS_client_method(), o.client, o.client_trusts, SSL_VERIFY_PEER);
  std::unique_ptr<SSL, OpenSslFree> server(SSL_new(server_ctx.get()));
  std::unique_ptr<SSL, OpenSslFree> client(SSL_new(client_ctx.get()));
  if (server == nullptr || client == nullptr) {
    ADD_FAILURE() << "SSL_new failed";
    return result;
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(client.get());
  if (X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str()) != 1) {
    ERR_clear_error();  // not an IP address: a DNS name
    EXPECT_EQ(SSL_set1_host(client.get(), o.host.c_str()), 1);
  }
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  if (BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) {
    ADD_FAILURE() << "BIO_new_bio_pair failed";
    return result;
  }
  SSL_set_bio(client.get(), client_bio, client_bio);  // each SSL owns its end from here
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());

  bool client_done = false;
  bool server_done = false;
  bool failed = false;
  for (int round = 0; round < 20 && !failed && !(client_done && server_done); ++round) {
    for (auto [ssl, done] : {std::pair{client.get(), &client_done}, std::pair{server.get(), &server_done}}) {
      if (*done || failed) continue;
      int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        *done = true;
      } else {
        int error = SSL_get_error(ssl, rc);
        failed = error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE;
      }
    }
  }
  ERR_clear_error();
  // With TLS 1.3 the client finishes before the server has seen its
  // certificate: a client rejected by the server reads the server's alert next.
  if (client_done && server_done) {
    char byte;
    int rc = SSL_read(client.get(), &byte, 1);
    failed = rc <= 0 && SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ;
  }
  result.completed = client_done && server_done && !failed;
  result.client_verify = SSL_get_verify_result(client.get());
  result.server_verify = SSL_get_verify_result(server.get());
  if (X509* peer = SSL_get0_peer_certificate(client.get())) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    X509_digest(peer, EVP_sha256(), digest, &size);
    for (unsigned int i = 0; i < size; ++i) {
      static constexpr char kHex[] = "0123456789abcdef";
      result.server_fingerprint += kHex[digest[i] >> 4];
      result.server_fingerprint += kHex[digest[i] & 0xf];
    }
  }
  ERR_clear_error();
  return result;
}

class TestCertificatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = local::MakeTempDir("cutover-certs-test-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message();
    dir_ = *dir;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string dir_;
};

TEST_F(TestCertificatesTest, ServerCertVerifiesAgainstItsCaAndNotAgainstAnother) {
  auto certs = TestCertificates::Create(dir_);
  EXPECT_EQ(Verify(certs.server().cert, certs.ca(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(Verify(certs.server().cert, certs.other_ca(), X509_PURPOSE_SSL_SERVER),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  EXPECT_EQ(Verify(certs.other_server().cert, certs.other_ca(), X509_PURPOSE_SSL_SERVER), X509_V_OK);
  int other = Verify(certs.other_server().cert, certs.ca(), X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(other, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) << VerifyErrorName(other);
  // A CA is its own trust anchor and nobody else's.
  EXPECT_EQ(Verify(certs.ca(), certs.ca(), X509_PURPOSE_ANY), X509_V_OK);
  EXPECT_NE(Verify(certs.ca(), certs.other_ca(), X509_PURPOSE_ANY), X509_V_OK);
}

TEST_F(TestCertificatesTest, ExpiredCertFailsVerification) {
  auto certs = TestCertificates::Create(dir_);
  int server = Verify(certs.expired_server().cert, certs.ca(), X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(server, X509_V_ERR_CERT_HAS_EXPIRED) << VerifyErrorName(server);
  int client = Verify(certs.expired_client().cert, certs.ca(), X509_PURPOSE_SSL_CLIENT);
  EXPECT_EQ(client, X509_V_ERR_CERT_HAS_EXPIRED) << VerifyErrorName(client);
}

TEST_F(TestCertificatesTest, ClientCertIsForClientsOnlyAndServerCertForServersOnly) {
  auto certs = TestCertificates::Create(dir_);
  EXPECT_EQ(Verify(certs.client().cert, certs.ca(), X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(Verify(certs.client().cert, certs.ca(), X509_PURPOSE_SSL_SERVER), X509_V_ERR_INVALID_PURPOSE);
  EXPECT_EQ(Verify(certs.server().cert, certs.ca(), X509_PURPOSE_SSL_CLIENT), X509_V_ERR_INVALID_PURPOSE);

  CertPtr client = LoadCert(certs.client().cert);
  ASSERT_NE(client, nullptr);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(client.get()), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "app");
}

TEST_F(TestCertificatesTest, ServerCertNamesLoopbackAddressAndLocalhost) {
  auto certs = TestCertificates::Create(dir_);
  for (const PemFiles& files : {certs.server(), certs.server_renewed(), certs.expired_server(), certs.other_server()}) {
    CertPtr cert = LoadCert(files.cert);
    ASSERT_NE(cert, nullptr) << files.cert;
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1) << files.cert;
    EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1) << files.cert;
    EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.2", 0), 0) << files.cert;
    EXPECT_EQ(X509_check_host(cert.get(), "example.com", 0, 0, nullptr), 0) << files.cert;
    char cn[64] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
    EXPECT_STREQ(cn, "cutover test server");
  }
}

TEST_F(TestCertificatesTest, TlsHandshakeSucceedsOnlyWithATrustedValidServerCert) {
  auto certs = TestCertificates::Create(dir_);
  Handshake good = RunHandshake({.server = certs.server(), .client_trusts = certs.ca()});
  EXPECT_TRUE(good.completed);
  EXPECT_EQ(good.client_verify, X509_V_OK) << VerifyErrorName(good.client_verify);
  EXPECT_EQ(good.server_fingerprint, TestCertificates::Sha256Fingerprint(certs.server().cert));

  Handshake by_name = RunHandshake({.server = certs.server(), .client_trusts = certs.ca(), .host = "localhost"});
  EXPECT_TRUE(by_name.completed);

  Handshake wrong_host = RunHandshake({.server = certs.server(), .client_trusts = certs.ca(), .host = "10.0.0.1"});
  EXPECT_FALSE(wrong_host.completed);
  EXPECT_EQ(wrong_host.client_verify, X509_V_ERR_IP_ADDRESS_MISMATCH) << VerifyErrorName(wrong_host.client_verify);

  Handshake unknown_ca = RunHandshake({.server = certs.other_server(), .client_trusts = certs.ca()});
  EXPECT_FALSE(unknown_ca.completed);
  EXPECT_EQ(unknown_ca.client_verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
      << VerifyErrorName(unknown_ca.client_verify);

  Handshake expired = RunHandshake({.server = certs.expired_server(), .client_trusts = certs.ca()});
  EXPECT_FALSE(expired.completed);
  EXPECT_EQ(expired.client_verify, X509_V_ERR_CERT_HAS_EXPIRED) << VerifyErrorName(expired.client_verify);
}

TEST_F(TestCertificatesTest, ServerAcceptsTheClientCertAndRejectsTheExpiredOne) {
  auto certs = TestCertificates::Create(dir_);
  Handshake good = RunHandshake(
      {.server = certs.server(), .client_trusts = certs.ca(), .server_trusts = certs.ca(), .client = certs.client()});
  EXPECT_TRUE(good.completed);
  EXPECT_EQ(good.server_verify, X509_V_OK) << VerifyErrorName(good.server_verify);

  Handshake expired = RunHandshake({.server = certs.server(),
                                    .client_trusts = certs.ca(),
                                    .server_trusts = certs.ca(),
                                    .client = certs.expired_client()});
  EXPECT_FALSE(expired.completed);
  EXPECT_EQ(expired.server_verify, X509_V_ERR_CERT_HAS_EXPIRED) << VerifyErrorName(expired.server_verify);

  Handshake none = RunHandshake({.server = certs.server(), .client_trusts = certs.ca(), .server_trusts = certs.ca()});
  EXPECT_FALSE(none.completed);
}

TEST_F(TestCertificatesTest, RenewedServerCertHasItsOwnKeySerialAndFingerprint) {
  auto certs = TestCertificates::Create(dir_);
  CertPtr first = LoadCert(certs.server().cert);
  CertPtr renewed = LoadCert(certs.server_renewed().cert);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(renewed, nullptr);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(first.get()), X509_get0_serialNumber(renewed.get())), 0);
  EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(first.get()), X509_get0_pubkey(renewed.get())), 1);
  auto renewed_key = LoadKey(certs.server_renewed().key);
  ASSERT_NE(renewed_key, nullptr);
  EXPECT_EQ(X509_check_private_key(renewed.get(), renewed_key.get()), 1);
  EXPECT_EQ(X509_check_private_key(first.get(), renewed_key.get()), 0);
  ERR_clear_error();

  std::string fingerprint = TestCertificates::Sha256Fingerprint(certs.server().cert);
  EXPECT_EQ(fingerprint.size(), 64u);
  EXPECT_EQ(fingerprint.find_first_not_of("0123456789abcdef"), std::string::npos) << fingerprint;
  EXPECT_NE(fingerprint, TestCertificates::Sha256Fingerprint(certs.server_renewed().cert));
  EXPECT_EQ(TestCertificates::Sha256Fingerprint(dir_ + "/no-such-file.pem"), "");

  Handshake handshake = RunHandshake({.server = certs.server_renewed(), .client_trusts = certs.ca()});
  EXPECT_TRUE(handshake.completed);
  EXPECT_EQ(handshake.server_fingerprint, TestCertificates::Sha256Fingerprint(certs.server_renewed().cert));
}

TEST_F(TestCertificatesTest, KeysAreEcdsaByDefaultAndRsaOnRequest) {
  auto ecdsa = TestCertificates::Create(dir_ + "/ecdsa");
  auto rsa = TestCertificates::Create(dir_ + "/rsa", KeyType::kRsa2048);
  auto ecdsa_key = LoadKey(ecdsa.server().key);
  auto rsa_key = LoadKey(rsa.server().key);
  ASSERT_NE(ecdsa_key, nullptr);
  ASSERT_NE(rsa_key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(ecdsa_key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_base_id(rsa_key.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(rsa_key.get()), 2048);
  // Private keys are readable by their owner only.
  auto perms = std::filesystem::status(rsa.server().key).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);

  Handshake handshake = RunHandshake(
      {.server = rsa.server(), .client_trusts = rsa.ca(), .server_trusts = rsa.ca(), .client = rsa.client()});
  EXPECT_TRUE(handshake.completed);
  EXPECT_EQ(Verify(rsa.expired_server().cert, rsa.ca(), X509_PURPOSE_SSL_SERVER), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(TestCertificatesTest, GenerateReportsADirectoryItCannotCreate) {
  std::string file = dir_ + "/a-file";
  ASSERT_TRUE(local::WritePrivateFile(file, "x").has_value());
  auto certs = TestCertificates::Generate(file + "/certs");
  ASSERT_FALSE(certs.has_value());
  EXPECT_NE(certs.error().message().find(file), std::string::npos) << certs.error().message();
}

}  // namespace
}  // namespace cutover::testing
