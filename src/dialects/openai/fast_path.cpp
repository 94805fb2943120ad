#include "dialects/openai/fast_path.hpp"

#include <algorithm>

#include "dialects/openai/json_util.hpp"
#include "text/utf8.hpp"

namespace modelmux::dialects::openai {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

// Arena for one parse: small bodies never touch the heap.
constexpr size_t kArenaBytes = 4096;

size_t TextChars(const json::value& content) {
  if (content.is_string()) return text::CodePointCount(content.get_string());
  size_t n = 0;
  if (content.is_array()) {
    for (const auto& p : content.get_array()) {
      if (!p.is_object()) continue;
      const json::value* t = p.get_object().if_contains("text");
      if (t != nullptr && t->is_string()) n += text::CodePointCount(t->get_string());
    }
  }
  return n;
}

Result<ScannedRequest> ScanParsed(const json::value& v) {
  if (auto e = CheckTopLevel(v)) return *e;
  const json::object& o = v.get_object();
  ScannedRequest s;
  s.model = std::string(o.at("model").get_string());
  if (const json::value* st = o.if_contains("stream"); st && st->is_bool())
    s.stream = st->get_bool();
  if (const json::value* so = o.if_contains("stream_options"); so && !so->is_null()) {
    s.has_stream_options = true;
    if (so->is_object()) {
      const json::value* iu = so->get_object().if_contains("include_usage");
      s.include_usage = iu != nullptr && iu->is_bool() && iu->get_bool();
    }
  }
  if (const json::value* m = o.if_contains("max_completion_tokens"); m && !m->is_null()) {
    s.max_tokens = AsInt(*m);
  } else if (const json::value* mt = o.if_contains("max_tokens"); mt && !mt->is_null()) {
    s.max_tokens = AsInt(*mt);
  }
  for (const auto& msg : o.at("messages").get_array()) {
    if (!msg.is_object()) continue;
    if (const json::value* c = msg.get_object().if_contains("content")) {
      s.prompt_chars += TextChars(*c);
      if (!s.has_media && c->is_array()) {
        for (const auto& p : c->get_array()) {
          const json::value* t = p.is_object() ? p.get_object().if_contains("type") : nullptr;
          if (t != nullptr && t->is_string() &&
              (t->get_string() == "image_url" || t->get_string() == "video_url")) {
            s.has_media = true;
            break;
          }
        }
      }
    }
  }
  for (auto key : kExtensionKeys) {
    if (o.contains(key)) s.extension_keys_present.emplace_back(key);
  }
  if (const json::value* t = o.if_contains("temperature"); t && t->is_number()) {
    s.temperature = t->to_number<double>();
  }
  if (const json::value* seed = o.if_contains("seed"); seed && !seed->is_null()) s.has_seed = true;
  return s;
}

// One top-level member of an (already validated) JSON object, as byte offsets.
struct Member {
  std::string key;
  size_t key_begin = 0;
  size_t value_begin = 0;
  size_t value_end = 0;
};

class MemberScanner {
 public:
  explicit MemberScanner(std::string_view s) : s_(s) {}

  std::vector<Member> Scan() {
    std::vector<Member> out;
    Ws();
    ++p_;  // '{'
    for (;;) {
      Ws();
      if (p_ >= s_.size() || s_[p_] == '}') break;
      Member m;
      m.key_begin = p_;
      SkipString();
      m.key = Key(s_.substr(m.key_begin, p_ - m.key_begin));
      Ws();
      ++p_;  // ':'
      Ws();
      m.value_begin = p_;
      SkipValue();
      m.value_end = p_;
      out.push_back(std::move(m));
      Ws();
      if (p_ < s_.size() && s_[p_] == ',') ++p_;
    }
    close_ = p_;
    return out;
  }
  size_t close() const { return close_; }

 private:
  static std::string Key(std::string_view quoted) {
    if (quoted.find('\\') == std::string_view::npos) {
      return std::string(quoted.substr(1, quoted.size() - 2));
    }
    boost::system::error_code ec;
    json::value v = json::parse(quoted, ec);
    return !ec && v.is_string() ? std::string(v.get_string()) : std::string();
  }
  void Ws() {
    while (p_ < s_.size() &&
           (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) {
      ++p_;
    }
  }
  void SkipString() {
    ++p_;  // opening quote
    while (p_ < s_.size() && s_[p_] != '"') p_ += s_[p_] == '\\' ? 2 : 1;
    ++p_;  // closing quote
  }
  void SkipValue() {
    if (p_ >= s_.size()) return;
    if (s_[p_] == '"') return SkipString();
    if (s_[p_] == '{' || s_[p_] == '[') {
      int depth = 0;
      while (p_ < s_.size()) {
        const char c = s_[p_];
        if (c == '"') {
          SkipString();
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') --depth;
        ++p_;
        if (depth == 0) return;
      }
      return;
    }
    while (p_ < s_.size() && s_[p_] != ',' && s_[p_] != '}' && s_[p_] != ' ' && s_[p_] != '\n' &&
           s_[p_] != '\r' && s_[p_] != '\t') {
      ++p_;
    }
  }

  std::string_view s_;
  size_t p_ = 0;
  size_t close_ = 0;
};

}  // namespace

Result<ScannedRequest> ScanChatRequest(std::string_view body) {
  unsigned char arena[kArenaBytes];
  json::monotonic_resource mr(arena, sizeof(arena));
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(&mr));
  if (ec) return ParseBodyError();
  return ScanParsed(v);
}

Result<std::string> RewriteForUpstream(std::string_view body, std::string_view upstream_model,
                                       bool force_include_usage,
                                       std::span<const std::string_view> remove_keys) {
  // The body was checked by the caller (ScanChatRequest or DecodeCompletionRequest): the hot
  // path parses it once. Only a body that is not an object at all is refused here.
  {
    const size_t b = body.find_first_not_of(" \t\r\n");
    const size_t e = body.find_last_not_of(" \t\r\n");
    if (b == std::string_view::npos || body[b] != '{' || body[e] != '}' || b == e) {
      return ParseBodyError();
    }
  }
  MemberScanner scanner(body);
  const std::vector<Member> members = scanner.Scan();
  const std::string model_json = json::serialize(json::value(upstream_model));
  const bool want_usage = force_include_usage;

  std::string out;
  out.reserve(body.size() + 48);
  out.append(body.substr(0, members.empty() ? scanner.close() : members.front().key_begin));
  bool first = true;
  bool wrote_stream_options = false;
  auto sep = [&] {
    if (!first) out += ',';
    first = false;
  };
  for (const Member& m : members) {
    if (std::find(remove_keys.begin(), remove_keys.end(), m.key) != remove_keys.end()) continue;
    sep();
    if (m.key == "model") {
      out.append(body.substr(m.key_begin, m.value_begin - m.key_begin));
      out += model_json;
    } else if (m.key == "stream_options" && want_usage) {
      boost::system::error_code ec;
      json::value so = json::parse(body.substr(m.value_begin, m.value_end - m.value_begin), ec);
      if (ec || !so.is_object()) so = json::object();
      so.get_object()["include_usage"] = true;
      out.append(body.substr(m.key_begin, m.value_begin - m.key_begin));
      out += json::serialize(so);
      wrote_stream_options = true;
    } else {
      out.append(body.substr(m.key_begin, m.value_end - m.key_begin));
    }
  }
  if (want_usage && !wrote_stream_options) {
    sep();
    out += R"("stream_options":{"include_usage":true})";
  }
  const size_t tail = members.empty() ? scanner.close() : members.back().value_end;
  // Keep whitespace before the closing brace and anything after it.
  size_t close = body.find('}', tail);
  out.append(body.substr(close == std::string_view::npos ? tail : close));
  return out;
}

namespace {

// The `{...}` value of the last `"usage": {` member in `data`, found by matching braces outside
// strings; empty if there is none or it does not close.
std::string_view LastUsageObject(std::string_view data) {
  size_t at = data.rfind("\"usage\"");
  while (at != std::string_view::npos) {
    size_t i = at + 7;
    while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' ||
                               data[i] == '\r' || data[i] == ':')) {
      ++i;
    }
    if (i < data.size() && data[i] == '{') {
      int depth = 0;
      bool in_string = false;
      for (size_t j = i; j < data.size(); ++j) {
        const char c = data[j];
        if (in_string) {
          if (c == '\\')
            ++j;
          else if (c == '"')
            in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{') {
          ++depth;
        } else if (c == '}' && --depth == 0) {
          return data.substr(i, j - i + 1);
        }
      }
      return {};
    }
    if (at == 0) break;
    at = data.rfind("\"usage\"", at - 1);
  }
  return {};
}

}  // namespace

std::optional<Usage> ScanUsage(std::string_view data) {
  // Fast path: parse only the usage object (a response body is mostly text we do not need).
  // Whatever this cannot settle falls back to the full parse below.
  if (std::string_view obj = LastUsageObject(data); !obj.empty()) {
    unsigned char small[2048];
    json::monotonic_resource mr(small, sizeof(small));
    boost::system::error_code ec;
    json::value u = json::parse(obj, ec, json::storage_ptr(&mr));
    if (!ec && u.is_object()) {
      if (auto usage = UsageFromJson(&u)) return usage;
    }
  }
  unsigned char arena[kArenaBytes];
  json::monotonic_resource mr(arena, sizeof(arena));
  boost::system::error_code ec;
  json::value v = json::parse(data, ec, json::storage_ptr(&mr));
  if (ec || !v.is_object()) return std::nullopt;
  return UsageFromBody(v.get_object());
}

bool IsUsageOnlyChunk(std::string_view data) {
  unsigned char arena[kArenaBytes];
  json::monotonic_resource mr(arena, sizeof(arena));
  boost::system::error_code ec;
  json::value v = json::parse(data, ec, json::storage_ptr(&mr));
  if (ec || !v.is_object()) return false;
  const json::object& o = v.get_object();
  const json::value* choices = o.if_contains("choices");
  const json::value* usage = o.if_contains("usage");
  return choices != nullptr && choices->is_array() && choices->get_array().empty() &&
         usage != nullptr && usage->is_object();
}

bool IsErrorChunk(std::string_view data) {
  unsigned char arena[kArenaBytes];
  json::monotonic_resource mr(arena, sizeof(arena));
  boost::system::error_code ec;
  json::value v = json::parse(data, ec, json::storage_ptr(&mr));
  if (ec || !v.is_object()) return false;
  const json::value* err = v.get_object().if_contains("error");
  return err != nullptr && !err->is_null();
}

void AppendDeltaContent(std::string_view data, std::string& out) {
  constexpr std::string_view kKey = "\"content\":";
  for (size_t at = data.find(kKey); at != std::string_view::npos; at = data.find(kKey, at)) {
    at += kKey.size();
    while (at < data.size() && data[at] == ' ') ++at;
    if (at >= data.size() || data[at] != '"') continue;
    const size_t begin = ++at;
    while (at < data.size() && data[at] != '"') at += data[at] == '\\' ? 2 : 1;
    out.append(data.substr(begin, std::min(at, data.size()) - begin));
  }
}

}  // namespace modelmux::dialects::openai
