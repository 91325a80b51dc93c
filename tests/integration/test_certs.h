// Certificates for the TLS tests, made when the test runs: no PEM file is
// checked in and no openssl command is needed. Everything is generated with
// the OpenSSL 3 API into one directory: two unrelated CAs and the server and
// client certificates the tests need, valid ones and expired ones.
//
// Server certificates name 127.0.0.1 (IP) and localhost (DNS) in their
// subjectAltName, so a client that checks the host name accepts them on the
// address LocalServer and the proxy listen on. Private keys are unencrypted
// PKCS#8 PEM files with mode 0600, which mariadbd (--ssl-key) and
// Connector/C (--ssl-key) both read, for ECDSA and RSA keys alike.
//
// Thread-safety: a TestCertificates is an immutable set of paths once made;
// Create() itself may run on several threads with distinct directories.
#pragma once

#include <string>
#include <utility>

#include "common/error.h"

namespace cutover::testing {

struct PemFiles {
  std::string cert;  // path of the certificate, PEM
  std::string key;   // path of its private key, PEM (PKCS#8, unencrypted)
};

enum class KeyType {
  kEcdsaP256,  // fast to make and to sign with: the default
  kRsa2048,    // what most deployments run, for benchmarks that compare
};

class TestCertificates {
 public:
  // Makes every certificate and key under `dir` (created if missing; files
  // already there are overwritten). Eight keys: a few milliseconds with
  // ECDSA, one to two seconds of CPU with RSA.
  [[nodiscard]] static Result<TestCertificates> Generate(const std::string& dir,
                                                         KeyType key_type = KeyType::kEcdsaP256);
  // Generate(), failing the current test (ADD_FAILURE) when it cannot; the
  // paths of a failed Create() name files that may not exist.
  static TestCertificates Create(const std::string& dir, KeyType key_type = KeyType::kEcdsaP256);

  // The CA: self-signed, basicConstraints CA:TRUE, keyUsage keyCertSign.
  std::string ca() const { return dir_ + "/ca.pem"; }
  // Its key, for a test that signs more certificates of its own.
  std::string ca_key() const { return dir_ + "/ca-key.pem"; }
  // Signed by ca(); CN "cutover test server"; SAN IP:127.0.0.1, DNS:localhost;
  // extendedKeyUsage serverAuth; valid from an hour ago for a year.
  PemFiles server() const { return Pair("server"); }
  // Signed by ca(), like server() but with its own key and serial number: what
  // a certificate reload replaces server() with.
  PemFiles server_renewed() const { return Pair("server-renewed"); }
  // Signed by ca(), SAN IP:127.0.0.1, DNS:localhost, but notAfter yesterday.
  PemFiles expired_server() const { return Pair("expired-server"); }
  // Signed by ca(); CN "app"; extendedKeyUsage clientAuth; valid for a year.
  PemFiles client() const { return Pair("client"); }
  // Signed by ca(); CN "app"; extendedKeyUsage clientAuth; notAfter yesterday.
  PemFiles expired_client() const { return Pair("expired-client"); }
  // A CA unrelated to ca() (CN "cutover other test CA"), for "wrong CA" tests.
  // A client trusting only other_ca() fails on server() with "unable to get
  // local issuer certificate", but on a mariadbd started with --ssl-ca=ca()
  // with "self-signed certificate in certificate chain": mariadbd sends ca()
  // along with its certificate.
  std::string other_ca() const { return dir_ + "/other-ca.pem"; }
  // Signed by other_ca(), otherwise like server(): a server whose CA the
  // client does not trust.
  PemFiles other_server() const { return Pair("other-server"); }

  const std::string& dir() const { return dir_; }
  KeyType key_type() const { return key_type_; }

  // SHA-256 of the certificate's DER encoding: 64 lowercase hex digits, no
  // colons (what `openssl x509 -fingerprint -sha256` prints, reformatted).
  // Empty when the file cannot be read as a PEM certificate.
  static std::string Sha256Fingerprint(const std::string& cert_pem_path);

 private:
  TestCertificates(std::string dir, KeyType key_type) : dir_(std::move(dir)), key_type_(key_type) {}
  PemFiles Pair(const std::string& name) const { return {dir_ + "/" + name + ".pem", dir_ + "/" + name + "-key.pem"}; }

  std::string dir_;
  KeyType key_type_;
};

}  // namespace cutover::testing
