#include "net/server_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <cstring>

namespace modelmux::net {

namespace ssl = boost::asio::ssl;

namespace {

// The last OpenSSL error as text (reason only: no file content is ever part of it).
std::string OpenSslReason() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  const char* r = ERR_reason_error_string(e);
  return r ? r : "unknown error";
}

Error TlsConfigError(std::string message) {
  Error e;
  e.kind = ErrorKind::kInvalidRequest;
  e.message = std::move(message);
  e.code = "tls_config";
  return e;
}

// ALPN: this server speaks HTTP/1.1 only. A client that offers ALPN without it gets no ALPN
// answer (and may then give up), never a protocol we do not speak.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
  for (unsigned int i = 0; i < inlen;) {
    const unsigned len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == sizeof(kHttp11) && std::memcmp(in + i + 1, kHttp11, len) == 0) {
      *out = in + i + 1;
      *outlen = static_cast<unsigned char>(len);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                           const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return TlsConfigError("TLS needs both a certificate (--tls-cert) and a key (--tls-key)");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return TlsConfigError("TLS: cannot set the minimum protocol version: " + OpenSslReason());
  }
  SSL_CTX_set_options(native, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                                  SSL_OP_NO_TLSv1_1 | SSL_OP_NO_COMPRESSION |
                                  SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                  SSL_OP_NO_TICKET);
  if (SSL_CTX_set_cipher_list(native, std::string(kTls12Ciphers).c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(native, std::string(kTls13Suites).c_str()) != 1) {
    return TlsConfigError("TLS: cannot set the cipher list: " + OpenSslReason());
  }
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  // Resumption from this process's session cache only (SSL_OP_NO_TICKET): no ticket keys that
  // would need rotating and sharing across replicas.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);

  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    return TlsConfigError("TLS: cannot load the certificate chain from '" + cert_file +
                          "': " + OpenSslReason());
  }
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // The reason only: OpenSSL never quotes key bytes, and neither do we.
    return TlsConfigError("TLS: cannot load the private key from '" + key_file +
                          "': " + OpenSslReason());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return TlsConfigError("TLS: the private key in '" + key_file +
                          "' does not match the certificate in '" + cert_file + "'");
  }
  return ctx;
}

}  // namespace modelmux::net
