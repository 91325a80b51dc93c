#include "protocol/caching_sha2.h"

#include <cassert>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "protocol/constants.h"

namespace cutover::protocol {
namespace {

Sha256Digest Sha256Of(const Sha256Digest& a, ByteView b) {
  Bytes buf(a.begin(), a.end());
  buf.insert(buf.end(), b.begin(), b.end());
  return Sha256(buf);
}

}  // namespace

Sha256Digest Sha256(ByteView data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
    throw std::runtime_error("libcrypto SHA256 failed");
  }
  return out;
}

Sha256Digest CachingSha2Stage2(std::string_view password) {
  const Sha256Digest stage1 = Sha256(AsBytes(password));
  return Sha256(stage1);
}

std::string CachingSha2Token(std::string_view password, ByteView nonce) {
  assert(nonce.size() == kScrambleLength);
  const Sha256Digest stage1 = Sha256(AsBytes(password));
  const Sha256Digest mask = Sha256Of(Sha256(stage1), nonce);
  std::string token(stage1.size(), '\0');
  for (size_t i = 0; i < stage1.size(); ++i) token[i] = char(stage1[i] ^ mask[i]);
  return token;
}

bool VerifyCachingSha2Token(ByteView token, ByteView nonce, const Sha256Digest& stage2) {
  if (token.size() != stage2.size() || nonce.size() != kScrambleLength) return false;
  const Sha256Digest mask = Sha256Of(stage2, nonce);
  Sha256Digest stage1{};
  for (size_t i = 0; i < stage1.size(); ++i) stage1[i] = token[i] ^ mask[i];
  const Sha256Digest candidate = Sha256(stage1);
  OPENSSL_cleanse(stage1.data(), stage1.size());
  return CRYPTO_memcmp(candidate.data(), stage2.data(), stage2.size()) == 0;
}

std::string XorWithNonce(ByteView data, ByteView nonce) {
  std::string out(data.size(), '\0');
  for (size_t i = 0; i < data.size(); ++i) out[i] = char(data[i] ^ (nonce.empty() ? 0 : nonce[i % nonce.size()]));
  return out;
}

Result<std::shared_ptr<const RsaKey>> RsaKey::Generate() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (!key) return Fail(Error::Io("cannot generate an RSA key for caching_sha2_password"));
  return std::shared_ptr<const RsaKey>(new RsaKey(key));
}

RsaKey::RsaKey(EVP_PKEY* key) : key_(key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_);
  char* text = nullptr;
  const long n = BIO_get_mem_data(bio, &text);
  public_pem_.assign(text, n > 0 ? size_t(n) : 0);
  BIO_free(bio);
}

RsaKey::~RsaKey() { EVP_PKEY_free(key_); }

Result<std::string> RsaKey::Decrypt(ByteView cipher) const {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key_, nullptr);
  std::string out;
  size_t n = 0;
  bool ok = ctx && EVP_PKEY_decrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_decrypt(ctx, nullptr, &n, cipher.data(), cipher.size()) == 1;
  if (ok) {
    out.resize(n);
    ok = EVP_PKEY_decrypt(ctx, reinterpret_cast<uint8_t*>(out.data()), &n, cipher.data(), cipher.size()) == 1;
    out.resize(ok ? n : 0);
  }
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return Fail(Error::Malformed("the RSA-encrypted password does not decrypt with the proxy's key"));
  return out;
}

Result<Bytes> RsaKey::Encrypt(ByteView plain) const {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key_, nullptr);
  Bytes out;
  size_t n = 0;
  bool ok = ctx && EVP_PKEY_encrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_encrypt(ctx, nullptr, &n, plain.data(), plain.size()) == 1;
  if (ok) {
    out.resize(n);
    ok = EVP_PKEY_encrypt(ctx, out.data(), &n, plain.data(), plain.size()) == 1;
    out.resize(ok ? n : 0);
  }
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return Fail(Error::Io("RSA encryption failed"));
  return out;
}

}  // namespace cutover::protocol
