#pragma once
// The server side of TLS: one context per listening server, built from PEM files.
//
// Policy: TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AES-GCM or
// CHACHA20-POLY1305 (forward secrecy and AEAD), for 1.3 its three standard AEAD suites; no
// compression, no renegotiation, no session-ticket keys (resumption from the process's cache);
// the server's cipher order wins; ALPN answers `http/1.1` (the only protocol spoken).

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace modelmux::net {

// The cipher lists the policy allows (OpenSSL names), exposed for tests and docs.
inline constexpr std::string_view kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr std::string_view kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// Builds the server context. Errors name the file and the reason, never key material.
[[nodiscard]] Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

}  // namespace modelmux::net
