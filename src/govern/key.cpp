#include "govern/key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <limits>

namespace modelmux::govern {

namespace json = boost::json;

namespace {

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kHex[] = "0123456789abcdef";

std::string Base64Url(std::span<const unsigned char> in) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kB64Url[(v >> s) & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    if (rest == 2) out += kB64Url[(v >> 6) & 63];
  }
  return out;
}

Error Corrupt(std::string what) {
  Error e = Internal("a stored key record cannot be read: " + std::move(what));
  e.code = "key_store_corrupt";
  return e;
}

std::string_view CurrencyName(telemetry::Currency c) {
  return c == telemetry::Currency::kCny ? "CNY" : "USD";
}

json::value OptionalInt(const std::optional<int64_t>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::array Strings(const std::vector<std::string>& list) {
  json::array a;
  for (const auto& s : list) a.emplace_back(s);
  return a;
}

json::array Tasks(const std::vector<Task>& tasks) {
  json::array a;
  for (Task t : tasks) a.emplace_back(TaskName(t));
  return a;
}

json::array Cidrs(const std::vector<Cidr>& list) {
  json::array a;
  for (const auto& c : list) a.emplace_back(FormatCidr(c));
  return a;
}

}  // namespace

std::string_view TaskName(Task task) {
  switch (task) {
    case Task::kText:
      return "text";
    case Task::kVision:
      return "vision";
    case Task::kVideo:
      return "video";
    case Task::kEmbeddings:
      return "embeddings";
    case Task::kBatch:
      return "batch";
    case Task::kUsageRead:
      return "usage-read";
  }
  return "text";
}

std::optional<Task> ParseTask(std::string_view name) {
  for (Task t : {Task::kText, Task::kVision, Task::kVideo, Task::kEmbeddings, Task::kBatch,
                 Task::kUsageRead}) {
    if (TaskName(t) == name) return t;
  }
  if (name == "usage_read") return Task::kUsageRead;
  return std::nullopt;
}

bool KeyRecord::HasTask(Task task) const {
  for (Task t : tasks) {
    if (t == task) return true;
  }
  return false;
}

RandomBytes SystemRandom() {
  return [](std::span<unsigned char> out) {
    return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
  };
}

Result<std::string> GenerateKeySecret(const RandomBytes& random) {
  unsigned char bytes[kKeySecretBytes];
  if (!random(bytes)) return Internal("the random source failed");
  std::string secret(kKeyPrefix);
  secret += Base64Url(bytes);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return secret;
}

Result<std::string> GenerateKeyId(const RandomBytes& random) {
  unsigned char bytes[8];
  if (!random(bytes)) return Internal("the random source failed");
  std::string id = "key_";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

std::string KeyDigestHex(std::string_view secret) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(secret.data(), secret.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

std::string KeyDisplayPrefix(std::string_view secret) {
  if (secret.size() < kKeyPrefix.size() + 4 || !secret.starts_with(kKeyPrefix)) return "mm-…";
  return std::string(secret.substr(0, kKeyPrefix.size() + 4)) + "…";
}

bool LooksLikeKey(std::string_view text) {
  if (text.size() != kKeyLength || !text.starts_with(kKeyPrefix)) return false;
  for (char c : text.substr(kKeyPrefix.size())) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

bool DigestEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<int64_t> ParseMicros(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (frac.size() > 6 || (whole.empty() && frac.empty())) return std::nullopt;
  int64_t w = 0;
  if (!whole.empty()) {
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec != std::errc() || p != whole.data() + whole.size() || w < 0) return std::nullopt;
  }
  int64_t f = 0;
  for (size_t i = 0; i < 6; ++i) {
    char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    f = f * 10 + (c - '0');
  }
  if (w > (std::numeric_limits<int64_t>::max() - f) / 1'000'000) return std::nullopt;
  return w * 1'000'000 + f;
}

std::string FormatMicros(int64_t micros) {
  std::string out = std::to_string(micros / 1'000'000);
  int64_t f = micros % 1'000'000;
  if (f == 0) return out;
  std::string frac = std::to_string(f);
  frac.insert(0, 6 - frac.size(), '0');
  while (frac.back() == '0') frac.pop_back();
  return out + "." + frac;
}

json::object ToPublicJson(const KeyRecord& k) {
  json::object o;
  o["id"] = k.id;
  o["prefix"] = k.prefix;
  o["name"] = k.name;
  o["models"] = Strings(k.models);
  o["tasks"] = Tasks(k.tasks);
  o["max_tokens"] = OptionalInt(k.max_tokens);
  o["default_max_tokens"] = OptionalInt(k.default_max_tokens);
  o["context"] = k.context.empty() ? json::value(nullptr) : json::value(k.context);
  o["rpm"] = k.rpm;
  o["tpm"] = k.tpm;
  json::object b;
  auto money = [](const std::optional<int64_t>& m) {
    return m ? json::value(FormatMicros(*m)) : json::value(nullptr);
  };
  b["daily"] = money(k.budgets.daily_micros);
  b["monthly"] = money(k.budgets.monthly_micros);
  b["total"] = money(k.budgets.total_micros);
  b["currency"] = CurrencyName(k.budgets.currency);
  o["budgets"] = std::move(b);
  o["expires"] = k.expires ? json::value(k.expires->time_since_epoch().count()) : nullptr;
  o["ip_allowlist"] = Cidrs(k.ip_allowlist);
  o["tags"] = Strings(k.tags);
  o["revoked"] = k.revoked;
  o["created"] = k.created.time_since_epoch().count();
  o["updated"] = k.updated.time_since_epoch().count();
  return o;
}

std::string ToStoredJson(const KeyRecord& k) {
  json::object o = ToPublicJson(k);
  o["digest"] = k.digest_hex;
  o["v"] = 1;
  return json::serialize(o);
}

Result<KeyRecord> FromStoredJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Corrupt("not a JSON object");
  const json::object& o = v.get_object();
  KeyRecord k;
  auto str = [&](std::string_view name, std::string& out) {
    if (const auto* p = o.if_contains(name); p && p->is_string()) out = p->get_string();
  };
  auto int64 = [&](const json::object& obj, std::string_view name) -> std::optional<int64_t> {
    const auto* p = obj.if_contains(name);
    if (!p) return std::nullopt;
    if (p->is_int64()) return p->get_int64();
    if (p->is_uint64()) return static_cast<int64_t>(p->get_uint64());
    return std::nullopt;
  };
  auto list = [&](std::string_view name) {
    std::vector<std::string> out;
    if (const auto* p = o.if_contains(name); p && p->is_array()) {
      for (const auto& e : p->get_array()) {
        if (e.is_string()) out.emplace_back(e.get_string());
      }
    }
    return out;
  };
  str("id", k.id);
  str("digest", k.digest_hex);
  str("prefix", k.prefix);
  str("name", k.name);
  if (k.id.empty() || k.digest_hex.size() != 64) return Corrupt("id or digest missing");
  k.models = list("models");
  for (const auto& t : list("tasks")) {
    if (auto task = ParseTask(t)) k.tasks.push_back(*task);
  }
  k.max_tokens = int64(o, "max_tokens");
  k.default_max_tokens = int64(o, "default_max_tokens");
  str("context", k.context);
  k.rpm = static_cast<uint64_t>(int64(o, "rpm").value_or(0));
  k.tpm = static_cast<uint64_t>(int64(o, "tpm").value_or(0));
  if (const auto* b = o.if_contains("budgets"); b && b->is_object()) {
    const auto& bo = b->get_object();
    auto money = [&](std::string_view name) -> std::optional<int64_t> {
      const auto* p = bo.if_contains(name);
      if (!p || !p->is_string()) return std::nullopt;
      return ParseMicros(p->get_string());
    };
    k.budgets.daily_micros = money("daily");
    k.budgets.monthly_micros = money("monthly");
    k.budgets.total_micros = money("total");
    if (const auto* c = bo.if_contains("currency"); c && c->is_string() && c->get_string() == "CNY")
      k.budgets.currency = telemetry::Currency::kCny;
  }
  if (auto e = int64(o, "expires")) k.expires = Timestamp(std::chrono::seconds(*e));
  for (const auto& c : list("ip_allowlist")) {
    auto cidr = ParseCidr(c);
    if (!cidr.ok()) return Corrupt("bad ip_allowlist entry");
    k.ip_allowlist.push_back(*cidr);
  }
  k.tags = list("tags");
  if (const auto* r = o.if_contains("revoked"); r && r->is_bool()) k.revoked = r->get_bool();
  k.created = Timestamp(std::chrono::seconds(int64(o, "created").value_or(0)));
  k.updated = Timestamp(std::chrono::seconds(int64(o, "updated").value_or(0)));
  return k;
}

}  // namespace modelmux::govern
