#include "cache/answer_codec.hpp"

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <utility>

namespace modelmux::cache {
namespace {

namespace json = boost::json;

// Our own stable names (independent of any dialect's vocabulary).
constexpr std::array<std::pair<FinishReason, std::string_view>, 7> kFinishNames = {{
    {FinishReason::kNone, "none"},
    {FinishReason::kStop, "stop"},
    {FinishReason::kLength, "length"},
    {FinishReason::kToolCalls, "tool_calls"},
    {FinishReason::kContentFilter, "content_filter"},
    {FinishReason::kError, "error"},
    {FinishReason::kOther, "other"},
}};
constexpr std::array<std::pair<PartType, std::string_view>, 4> kPartNames = {{
    {PartType::kText, "text"},
    {PartType::kImage, "image"},
    {PartType::kVideo, "video"},
    {PartType::kAudio, "audio"},
}};
constexpr std::array<std::pair<StreamEvent::Kind, std::string_view>, 4> kEventNames = {{
    {StreamEvent::Kind::kDelta, "delta"},
    {StreamEvent::Kind::kUsage, "usage"},
    {StreamEvent::Kind::kDone, "done"},
    {StreamEvent::Kind::kError, "error"},
}};

template <class E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [k, v] : table) {
    if (k == e) return v;
  }
  return table[0].second;
}

template <class E, size_t N>
std::optional<E> ValueOf(const std::array<std::pair<E, std::string_view>, N>& table,
                         std::string_view name) {
  for (const auto& [k, v] : table) {
    if (v == name) return k;
  }
  return std::nullopt;
}

// ---- encoding ----

void PutString(json::object& o, std::string_view key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}
void PutInt(json::object& o, std::string_view key, int64_t v) {
  if (v != 0) o[key] = v;
}

json::object EncodeUsage(const Usage& u) {
  json::object o;
  o["p"] = u.prompt_tokens;
  o["c"] = u.completion_tokens;
  PutInt(o, "cr", u.cache_read_tokens);
  PutInt(o, "cw", u.cache_write_tokens);
  PutInt(o, "r", u.reasoning_tokens);
  return o;
}

json::object EncodeMessage(const Message& m) {
  json::object o;
  o["role"] = RoleName(m.role);
  json::array parts;
  for (const ContentPart& p : m.content) {
    json::object po;
    if (p.type != PartType::kText) po["t"] = NameOf(kPartNames, p.type);
    PutString(po, "x", p.text);
    PutString(po, "u", p.url);
    PutString(po, "d", p.detail);
    PutString(po, "mt", p.mime_type);
    parts.push_back(std::move(po));
  }
  if (!parts.empty()) o["content"] = std::move(parts);
  if (!m.content_is_string) o["cs"] = false;
  PutString(o, "name", m.name);
  PutString(o, "tcid", m.tool_call_id);
  json::array calls;
  for (const ToolCall& c : m.tool_calls) {
    json::object co;
    PutString(co, "id", c.id);
    PutString(co, "name", c.name);
    PutString(co, "args", c.arguments);
    calls.push_back(std::move(co));
  }
  if (!calls.empty()) o["tc"] = std::move(calls);
  PutString(o, "r", m.reasoning);
  return o;
}

void PutFinish(json::object& o, FinishReason f, const std::string& raw) {
  if (f != FinishReason::kNone) o["f"] = NameOf(kFinishNames, f);
  PutString(o, "fr", raw);
}

json::object EncodeResponse(const ChatResponse& r) {
  json::object o;
  PutString(o, "id", r.id);
  PutString(o, "model", r.model);
  PutInt(o, "created", r.created);
  PutString(o, "fp", r.system_fingerprint);
  json::array choices;
  for (const Choice& c : r.choices) {
    json::object co;
    PutInt(co, "i", c.index);
    co["m"] = EncodeMessage(c.message);
    PutFinish(co, c.finish_reason, c.finish_reason_raw);
    choices.push_back(std::move(co));
  }
  o["choices"] = std::move(choices);
  if (r.usage) o["usage"] = EncodeUsage(*r.usage);
  return o;
}

json::object EncodeDelta(const StreamDelta& d) {
  json::object o;
  PutInt(o, "i", d.index);
  PutString(o, "role", d.role);
  PutString(o, "x", d.text);
  PutString(o, "r", d.reasoning);
  json::array calls;
  for (const auto& f : d.tool_calls) {
    json::object fo;
    PutInt(fo, "i", f.index);
    PutString(fo, "id", f.id);
    PutString(fo, "name", f.name);
    PutString(fo, "args", f.arguments);
    calls.push_back(std::move(fo));
  }
  if (!calls.empty()) o["tc"] = std::move(calls);
  PutFinish(o, d.finish_reason, d.finish_reason_raw);
  return o;
}

json::object EncodeEvent(const StreamEvent& e) {
  json::object o;
  o["k"] = NameOf(kEventNames, e.kind);
  PutString(o, "id", e.id);
  PutString(o, "model", e.model);
  PutInt(o, "created", e.created);
  json::array deltas;
  for (const StreamDelta& d : e.deltas) deltas.push_back(EncodeDelta(d));
  if (!deltas.empty()) o["d"] = std::move(deltas);
  if (e.usage) o["usage"] = EncodeUsage(*e.usage);
  PutString(o, "err", e.error_message);
  return o;
}

// ---- decoding: each reader returns false on a type mismatch ----

bool GetString(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return true;
  if (!v->is_string()) return false;
  out = std::string(v->get_string());
  return true;
}
bool GetInt64(const json::object& o, std::string_view key, int64_t& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return true;
  if (!v->is_int64()) return false;
  out = v->get_int64();
  return true;
}
bool GetInt(const json::object& o, std::string_view key, int& out) {
  int64_t v = 0;
  if (!GetInt64(o, key, v) || v < INT32_MIN || v > INT32_MAX) return false;
  out = static_cast<int>(v);
  return true;
}
bool GetBool(const json::object& o, std::string_view key, bool& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return true;
  if (!v->is_bool()) return false;
  out = v->get_bool();
  return true;
}
// The array at key (an empty one when absent); nullptr when present but not an array.
const json::array* GetArray(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return &kEmpty;
  return v->if_array();
}

bool DecodeUsage(const json::value* v, std::optional<Usage>& out) {
  if (v == nullptr) return true;
  const json::object* o = v->if_object();
  if (o == nullptr) return false;
  Usage u;
  if (!GetInt64(*o, "p", u.prompt_tokens) || !GetInt64(*o, "c", u.completion_tokens) ||
      !GetInt64(*o, "cr", u.cache_read_tokens) || !GetInt64(*o, "cw", u.cache_write_tokens) ||
      !GetInt64(*o, "r", u.reasoning_tokens)) {
    return false;
  }
  out = u;
  return true;
}

bool DecodeFinish(const json::object& o, FinishReason& f, std::string& raw) {
  std::string name;
  if (!GetString(o, "f", name) || !GetString(o, "fr", raw)) return false;
  if (name.empty()) return true;
  auto v = ValueOf(kFinishNames, name);
  if (!v) return false;
  f = *v;
  return true;
}

bool DecodeMessage(const json::value& v, Message& m) {
  const json::object* o = v.if_object();
  if (o == nullptr) return false;
  std::string role;
  if (!GetString(*o, "role", role)) return false;
  auto r = ParseRole(role);
  if (!r) return false;
  m.role = *r;
  const json::array* parts = GetArray(*o, "content");
  if (parts == nullptr) return false;
  for (const json::value& pv : *parts) {
    const json::object* po = pv.if_object();
    if (po == nullptr) return false;
    ContentPart p;
    std::string type;
    if (!GetString(*po, "t", type) || !GetString(*po, "x", p.text) || !GetString(*po, "u", p.url) ||
        !GetString(*po, "d", p.detail) || !GetString(*po, "mt", p.mime_type)) {
      return false;
    }
    if (!type.empty()) {
      auto t = ValueOf(kPartNames, type);
      if (!t) return false;
      p.type = *t;
    }
    m.content.push_back(std::move(p));
  }
  if (!GetBool(*o, "cs", m.content_is_string) || !GetString(*o, "name", m.name) ||
      !GetString(*o, "tcid", m.tool_call_id) || !GetString(*o, "r", m.reasoning)) {
    return false;
  }
  const json::array* calls = GetArray(*o, "tc");
  if (calls == nullptr) return false;
  for (const json::value& cv : *calls) {
    const json::object* co = cv.if_object();
    if (co == nullptr) return false;
    ToolCall c;
    if (!GetString(*co, "id", c.id) || !GetString(*co, "name", c.name) ||
        !GetString(*co, "args", c.arguments)) {
      return false;
    }
    m.tool_calls.push_back(std::move(c));
  }
  return true;
}

bool DecodeResponse(const json::value& v, ChatResponse& r) {
  const json::object* o = v.if_object();
  if (o == nullptr) return false;
  if (!GetString(*o, "id", r.id) || !GetString(*o, "model", r.model) ||
      !GetInt64(*o, "created", r.created) || !GetString(*o, "fp", r.system_fingerprint) ||
      !DecodeUsage(o->if_contains("usage"), r.usage)) {
    return false;
  }
  const json::array* choices = GetArray(*o, "choices");
  if (choices == nullptr) return false;
  for (const json::value& cv : *choices) {
    const json::object* co = cv.if_object();
    if (co == nullptr) return false;
    Choice c;
    const json::value* m = co->if_contains("m");
    if (!GetInt(*co, "i", c.index) || m == nullptr || !DecodeMessage(*m, c.message) ||
        !DecodeFinish(*co, c.finish_reason, c.finish_reason_raw)) {
      return false;
    }
    r.choices.push_back(std::move(c));
  }
  return true;
}

bool DecodeDelta(const json::value& v, StreamDelta& d) {
  const json::object* o = v.if_object();
  if (o == nullptr) return false;
  if (!GetInt(*o, "i", d.index) || !GetString(*o, "role", d.role) || !GetString(*o, "x", d.text) ||
      !GetString(*o, "r", d.reasoning) || !DecodeFinish(*o, d.finish_reason, d.finish_reason_raw)) {
    return false;
  }
  const json::array* calls = GetArray(*o, "tc");
  if (calls == nullptr) return false;
  for (const json::value& fv : *calls) {
    const json::object* fo = fv.if_object();
    if (fo == nullptr) return false;
    StreamDelta::ToolCallFragment f;
    if (!GetInt(*fo, "i", f.index) || !GetString(*fo, "id", f.id) ||
        !GetString(*fo, "name", f.name) || !GetString(*fo, "args", f.arguments)) {
      return false;
    }
    d.tool_calls.push_back(std::move(f));
  }
  return true;
}

bool DecodeEvent(const json::value& v, StreamEvent& e) {
  const json::object* o = v.if_object();
  if (o == nullptr) return false;
  std::string kind;
  if (!GetString(*o, "k", kind)) return false;
  auto k = ValueOf(kEventNames, kind);
  if (!k) return false;
  e.kind = *k;
  if (!GetString(*o, "id", e.id) || !GetString(*o, "model", e.model) ||
      !GetInt64(*o, "created", e.created) || !GetString(*o, "err", e.error_message) ||
      !DecodeUsage(o->if_contains("usage"), e.usage)) {
    return false;
  }
  const json::array* deltas = GetArray(*o, "d");
  if (deltas == nullptr) return false;
  for (const json::value& dv : *deltas) {
    StreamDelta d;
    if (!DecodeDelta(dv, d)) return false;
    e.deltas.push_back(std::move(d));
  }
  return true;
}

Error Invalid(std::string message) {
  Error e = Internal(std::move(message));
  e.code = "cache_entry_invalid";
  return e;
}

}  // namespace

std::string EncodeAnswer(const CachedAnswer& answer) {
  json::object o;
  o["v"] = kAnswerCodecVersion;
  o["stream"] = answer.stream;
  if (answer.stream) {
    json::array events;
    events.reserve(answer.events.size());
    for (const StreamEvent& e : answer.events) events.push_back(EncodeEvent(e));
    o["events"] = std::move(events);
  } else {
    o["response"] = EncodeResponse(answer.response);
  }
  return json::serialize(o);
}

Result<CachedAnswer> DecodeAnswer(std::string_view bytes) {
  json::parse_options opts;
  opts.allow_invalid_utf8 = true;  // the encoder writes the strings' bytes verbatim
  boost::system::error_code ec;
  json::value v = json::parse(bytes, ec, {}, opts);
  if (ec || !v.is_object()) return Invalid("cached answer is not a JSON object");
  const json::object& o = v.get_object();
  int64_t version = 0;
  if (!GetInt64(o, "v", version) || version != kAnswerCodecVersion) {
    return Invalid("cached answer has another version");
  }
  CachedAnswer a;
  if (!GetBool(o, "stream", a.stream)) return Invalid("cached answer: bad stream flag");
  if (a.stream) {
    const json::value* ev = o.if_contains("events");
    if (ev == nullptr || !ev->is_array()) return Invalid("cached stream without events");
    for (const json::value& e : ev->get_array()) {
      StreamEvent event;
      if (!DecodeEvent(e, event)) return Invalid("cached stream event is malformed");
      a.events.push_back(std::move(event));
    }
  } else {
    const json::value* rv = o.if_contains("response");
    if (rv == nullptr || !DecodeResponse(*rv, a.response)) {
      return Invalid("cached response is malformed");
    }
  }
  return a;
}

}  // namespace modelmux::cache
