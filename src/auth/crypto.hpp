#pragma once
// Small crypto helpers for the request signers (SigV4, TC3, Zhipu JWT), backed by OpenSSL's
// libcrypto. Pure functions of their inputs; thread-safe. Byte strings are std::string holding raw
// bytes (not text).

#include <string>
#include <string_view>

namespace modelmux::auth {

// Lowercase hex of the bytes, two characters per byte.
[[nodiscard]] std::string Hex(std::string_view bytes);
// SHA-256 digest of `data`: 32 raw bytes.
[[nodiscard]] std::string Sha256(std::string_view data);
// Lowercase hex SHA-256 of `data` (64 characters).
[[nodiscard]] std::string Sha256Hex(std::string_view data);
// HMAC-SHA256(key, data): 32 raw bytes.
[[nodiscard]] std::string HmacSha256(std::string_view key, std::string_view data);
// RFC 4648 section 5 base64url alphabet, without '=' padding.
[[nodiscard]] std::string Base64UrlNoPad(std::string_view bytes);

}  // namespace modelmux::auth
