#include "cache/key.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace modelmux::cache {
namespace {

namespace json = boost::json;

// Bumped whenever the serialisation below changes, so old entries simply stop matching.
constexpr std::string_view kChatVersion = "modelmux.cache.chat/1";
constexpr std::string_view kEmbeddingVersion = "modelmux.cache.embedding/1";

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Incremental SHA-256 over (tag, value) records, each written as two length-prefixed strings.
class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }

  void Raw(std::string_view bytes) { EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()); }

  void Field(std::string_view tag, std::string_view value) {
    Length(tag.size());
    Raw(tag);
    Length(value.size());
    Raw(value);
  }
  void Int(std::string_view tag, int64_t value) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), value);
    Field(tag, std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
  }
  void Number(std::string_view tag, double value) {
    if (value == 0) value = 0;  // -0.0 and 0.0 are one value
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), value);  // shortest round-trip form
    Field(tag, std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
  }

  // Finishes the digest as raw bytes (32).
  std::string Digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    return std::string(reinterpret_cast<const char*>(md), len);
  }
  std::string HexDigest() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string raw = Digest();
    std::string out;
    out.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
    return out;
  }

 private:
  void Length(size_t n) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>((uint64_t{n} >> (8 * i)) & 0xff);
    EVP_DigestUpdate(ctx_.get(), b, sizeof(b));
  }

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx_;
};

void WriteCanonical(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const json::object& o = v.get_object();
      std::vector<const json::key_value_pair*> items;
      items.reserve(o.size());
      for (const auto& kv : o) items.push_back(&kv);
      std::sort(items.begin(), items.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out.push_back('{');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out.push_back(',');
        out += json::serialize(json::string(items[i]->key()));
        out.push_back(':');
        WriteCanonical(items[i]->value(), out);
      }
      out.push_back('}');
      return;
    }
    case json::kind::array: {
      const json::array& a = v.get_array();
      out.push_back('[');
      for (size_t i = 0; i < a.size(); ++i) {
        if (i > 0) out.push_back(',');
        WriteCanonical(a[i], out);
      }
      out.push_back(']');
      return;
    }
    default:
      out += json::serialize(v);
      return;
  }
}

std::optional<json::value> Parse(std::string_view raw) {
  boost::system::error_code ec;
  json::value v = json::parse(raw, ec);
  if (ec) return std::nullopt;
  return v;
}

bool IsUnkeyedExtra(std::string_view key) {
  return std::find(kUnkeyedExtraFields.begin(), kUnkeyedExtraFields.end(), key) !=
         kUnkeyedExtraFields.end();
}

// The extras as keyed: unkeyed fields dropped, the rest normalised; "" when nothing is left.
std::string KeyedExtra(std::string_view raw) {
  if (raw.empty()) return {};
  std::optional<json::value> v = Parse(raw);
  if (!v) return std::string(raw);
  if (v->is_object()) {
    json::object& o = v->get_object();
    json::object kept;
    for (auto& kv : o) {
      if (!IsUnkeyedExtra(kv.key())) kept[kv.key()] = std::move(kv.value());
    }
    if (kept.empty()) return {};
    *v = std::move(kept);
  }
  std::string out;
  WriteCanonical(*v, out);
  return out;
}

void JsonField(Hasher& h, std::string_view tag, std::string_view raw) {
  if (!raw.empty()) h.Field(tag, NormalizeJson(raw));
}

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // standard and URL-safe alphabets
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// SHA-256 of the base64 payload's decoded bytes (whitespace ignored, padding optional), or
// nullopt when the payload is not base64.
std::optional<std::string> DecodedDigest(std::string_view payload) {
  Hasher h;
  std::string buf;
  buf.reserve(3072);
  uint32_t acc = 0;
  int bits = 0;
  bool padded = false;
  for (unsigned char c : payload) {
    if (IsSpace(c)) continue;
    if (c == '=') {
      padded = true;
      continue;
    }
    if (padded) return std::nullopt;  // data after padding
    int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf.push_back(static_cast<char>((acc >> bits) & 0xff));
      if (buf.size() == buf.capacity()) {
        h.Raw(buf);
        buf.clear();
      }
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling sextet is not a whole byte
  h.Raw(buf);
  return h.Digest();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void MediaField(Hasher& h, std::string_view url) {
  constexpr std::string_view kData = "data:";
  if (url.size() >= kData.size() && Lower(url.substr(0, kData.size())) == kData) {
    size_t comma = url.find(',');
    if (comma != std::string_view::npos) {
      std::string header = Lower(url.substr(kData.size(), comma - kData.size()));
      constexpr std::string_view kB64 = ";base64";
      if (header.size() >= kB64.size() &&
          header.compare(header.size() - kB64.size(), kB64.size(), kB64) == 0) {
        if (auto digest = DecodedDigest(url.substr(comma + 1))) {
          h.Field("media.data_type", header.substr(0, header.size() - kB64.size()));
          h.Field("media.data_sha256", *digest);
          return;
        }
      }
    }
    Hasher inner;
    inner.Raw(url);
    h.Field("media.url_sha256", inner.Digest());
    return;
  }
  h.Field("media.url", url);
}

std::string_view PartTypeName(PartType t) {
  switch (t) {
    case PartType::kText:
      return "text";
    case PartType::kImage:
      return "image";
    case PartType::kVideo:
      return "video";
    case PartType::kAudio:
      return "audio";
  }
  return "unknown";
}

void PartFields(Hasher& h, const ContentPart& p) {
  h.Field("part", PartTypeName(p.type));
  if (p.type == PartType::kText) {
    h.Field("part.text", p.text);
  } else {
    MediaField(h, p.url);
    if (!p.text.empty()) h.Field("part.text", p.text);
  }
  if (!p.detail.empty()) h.Field("part.detail", p.detail);
  if (!p.mime_type.empty()) h.Field("part.mime", p.mime_type);
}

void MessageFields(Hasher& h, const Message& m) {
  h.Field("message", RoleName(m.role));
  if (!m.name.empty()) h.Field("message.name", m.name);
  if (!m.tool_call_id.empty()) h.Field("message.tool_call_id", m.tool_call_id);
  // A string content and an array of one text part are the same prompt.
  h.Int("message.parts", static_cast<int64_t>(m.content.size()));
  for (const ContentPart& p : m.content) PartFields(h, p);
  h.Int("message.tool_calls", static_cast<int64_t>(m.tool_calls.size()));
  for (const ToolCall& c : m.tool_calls) {
    h.Field("tool_call.id", c.id);
    h.Field("tool_call.name", c.name);
    h.Field("tool_call.arguments", c.arguments);  // verbatim: the model sees these bytes
  }
  if (!m.reasoning.empty()) h.Field("message.reasoning", m.reasoning);
}

}  // namespace

std::string NormalizeJson(std::string_view raw) {
  std::optional<json::value> v = Parse(raw);
  if (!v) return std::string(raw);
  std::string out;
  out.reserve(raw.size());
  WriteCanonical(*v, out);
  return out;
}

std::string CacheKey(const KeyInput& input) {
  const ChatRequest& r = input.request;
  Hasher h;
  h.Field("version", kChatVersion);
  h.Field("kind", input.kind);
  h.Field("tenant", input.tenant);
  h.Field("namespace", input.ns);
  h.Field("provider", input.provider);
  h.Field("model", input.model);
  h.Int("messages", static_cast<int64_t>(r.messages.size()));
  for (const Message& m : r.messages) MessageFields(h, m);
  if (r.temperature) h.Number("temperature", *r.temperature);
  if (r.top_p) h.Number("top_p", *r.top_p);
  if (r.max_tokens) h.Int("max_tokens", *r.max_tokens);
  h.Int("n", r.n.value_or(1));
  if (!r.stop.empty()) {
    h.Int("stop", static_cast<int64_t>(r.stop.size()));
    for (const std::string& s : r.stop) h.Field("stop.item", s);
  }
  if (r.seed) h.Int("seed", *r.seed);
  JsonField(h, "tools", r.tools);
  JsonField(h, "tool_choice", r.tool_choice);
  JsonField(h, "response_format", r.response_format);
  if (!r.reasoning_effort.empty()) h.Field("reasoning_effort", r.reasoning_effort);
  std::string extra = KeyedExtra(r.extra);
  if (!extra.empty()) h.Field("extra", extra);
  return h.HexDigest();
}

std::string EmbeddingCacheKey(const EmbeddingKeyInput& input) {
  const EmbeddingRequest& r = input.request;
  Hasher h;
  h.Field("version", kEmbeddingVersion);
  h.Field("tenant", input.tenant);
  h.Field("namespace", input.ns);
  h.Field("provider", input.provider);
  h.Field("model", input.model);
  h.Int("inputs", static_cast<int64_t>(r.inputs.size()));
  for (const std::string& s : r.inputs) h.Field("input", s);
  if (r.dimensions) h.Int("dimensions", *r.dimensions);
  h.Field("encoding_format", r.encoding_format.empty() ? "float" : r.encoding_format);
  if (!r.task_type.empty()) h.Field("task_type", r.task_type);
  return h.HexDigest();
}

}  // namespace modelmux::cache
