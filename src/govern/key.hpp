#pragma once
// Virtual keys: what a key is allowed to do, and how its secret is made, stored and checked.
//
// A key's secret is "mm-" followed by 43 base64url characters (32 random bytes from OpenSSL's
// RAND_bytes). It is shown once, at creation; modelmux keeps only its SHA-256 digest (hex) and a
// display prefix ("mm-AbCd…"). A presented key is looked up by its digest, and a candidate record
// is confirmed with CRYPTO_memcmp over the digests, so no comparison's time depends on how much
// of a secret matched (constant time by construction; nothing is compared byte by byte against a
// stored secret).
//
// Everything here is pure (randomness injected) and thread-safe.

#include <boost/json/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "govern/ip_allow.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::govern {

// What a call does, as far as scopes are concerned.
enum class Task : uint8_t {
  kText,        // chat/completions/messages without media
  kVision,      // a request with image parts
  kVideo,       // a request with video parts
  kEmbeddings,  // /v1/embeddings
  kBatch,       // /v1/batches, /v1/files
  kUsageRead,   // GET /v1/usage (own usage only)
};
// "text", "vision", "video", "embeddings", "batch", "usage-read".
[[nodiscard]] std::string_view TaskName(Task task);
[[nodiscard]] std::optional<Task> ParseTask(std::string_view name);

using Timestamp = std::chrono::sys_seconds;

// Spending caps in micro-units of `currency` (telemetry::Money); absent = no cap.
struct KeyBudgets {
  std::optional<int64_t> daily_micros;    // per UTC day
  std::optional<int64_t> monthly_micros;  // per UTC month
  std::optional<int64_t> total_micros;    // over the key's life
  telemetry::Currency currency = telemetry::Currency::kUsd;
  [[nodiscard]] bool any() const { return daily_micros || monthly_micros || total_micros; }
  friend bool operator==(const KeyBudgets&, const KeyBudgets&) = default;
};

struct KeyRecord {
  std::string id;          // "key_" + 16 hex; public, names the key in logs and the admin API
  std::string digest_hex;  // SHA-256 of the secret, 64 lowercase hex; never shown by the API
  std::string prefix;      // "mm-AbCd…": enough to recognise a key, never enough to use it
  std::string name;
  std::vector<std::string> models;  // globs over the name the caller sends ("gpt-*", "sim/*")
  std::vector<Task> tasks;
  std::optional<int64_t> max_tokens;          // cap on a request's max_tokens (clamped to it)
  std::optional<int64_t> default_max_tokens;  // given to a request that names none
  std::string context;  // domain context added to every chat request (docs/TEXT.md); "" = none
  uint64_t rpm = 0;     // requests per minute; 0 = no limit
  uint64_t tpm = 0;     // tokens per minute; 0 = no limit
  KeyBudgets budgets;
  std::optional<Timestamp> expires;
  std::vector<Cidr> ip_allowlist;  // empty = any address (the global list still applies)
  std::vector<std::string> tags;
  bool revoked = false;
  Timestamp created{};
  Timestamp updated{};

  [[nodiscard]] bool HasTask(Task task) const;
  [[nodiscard]] bool Expired(Timestamp now) const { return expires && now >= *expires; }
  friend bool operator==(const KeyRecord&, const KeyRecord&) = default;
};

// Fills `out` with random bytes; false on failure. The default is OpenSSL's RAND_bytes.
using RandomBytes = std::function<bool(std::span<unsigned char> out)>;
[[nodiscard]] RandomBytes SystemRandom();

inline constexpr std::string_view kKeyPrefix = "mm-";
inline constexpr size_t kKeySecretBytes = 32;
inline constexpr size_t kKeyLength = 3 + 43;  // "mm-" + base64url(32 bytes) without padding
inline constexpr size_t kMaxKeyContextBytes = 32 * 1024;  // a key's `context`, UTF-8 bytes

// A new secret ("mm-" + base64url of 32 random bytes). kInternal when the random source fails.
[[nodiscard]] Result<std::string> GenerateKeySecret(const RandomBytes& random);
// A new public id, "key_" + 16 lowercase hex.
[[nodiscard]] Result<std::string> GenerateKeyId(const RandomBytes& random);
// Lowercase hex SHA-256 of the whole presented key.
[[nodiscard]] std::string KeyDigestHex(std::string_view secret);
// "mm-" + the next 4 characters + "…" (a secret too short for that gives "mm-…").
[[nodiscard]] std::string KeyDisplayPrefix(std::string_view secret);
// True for text shaped like a key (prefix, length, alphabet); says nothing about validity.
[[nodiscard]] bool LooksLikeKey(std::string_view text);
// Constant-time equality of two digests (CRYPTO_memcmp); false when the lengths differ.
[[nodiscard]] bool DigestEquals(std::string_view a, std::string_view b);

// The full record as stored (includes the digest), and back. FromStoredJson fails (kInternal,
// code "key_store_corrupt") on a record it cannot read.
[[nodiscard]] std::string ToStoredJson(const KeyRecord& key);
[[nodiscard]] Result<KeyRecord> FromStoredJson(std::string_view json);
// What the admin API shows: every attribute and the display prefix, never the digest.
[[nodiscard]] boost::json::object ToPublicJson(const KeyRecord& key);

// Budget amounts as decimal text ("0.01") <-> micro-units. nullopt for a malformed amount
// (negative, more than 6 decimals, overflow).
[[nodiscard]] std::optional<int64_t> ParseMicros(std::string_view decimal);
[[nodiscard]] std::string FormatMicros(int64_t micros);

}  // namespace modelmux::govern
