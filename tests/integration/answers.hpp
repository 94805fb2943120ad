#pragma once
// What a caller of the gateway got, read back in neutral terms from either caller dialect (OpenAI
// Chat Completions or Anthropic Messages, streamed or not), and the request bodies that produce
// it. Shared by the translation and conformance tests.

#include <string>
#include <string_view>

#include "gateway_it.hpp"

namespace modelmux::testing {

// The kinds of request a matrix sends: plain text, text with an image, a tool call.
enum class Kind { kText, kImage, kTools };

// A 1x1 PNG, the smallest real image.
inline constexpr std::string_view kTinyPngBase64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg"
    "==";

// What a caller got, in neutral terms.
struct Answer {
  int status = 0;
  std::string text;
  std::string tool_name;
  json::value tool_args;  // parsed arguments / input
  std::string tool_id;
  std::string finish;  // "stop", "length" or "tool" whatever the dialect
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  std::string error_type;   // an error (in-band for streams)
  bool terminated = false;  // [DONE] or message_stop seen
  std::string raw;
};

inline std::string NeutralFinish(std::string_view f) {
  if (f == "stop" || f == "end_turn") return "stop";
  if (f == "length" || f == "max_tokens") return "length";
  if (f == "tool_calls" || f == "tool_use") return "tool";
  return std::string(f);
}

inline int64_t IntOr(const json::object& o, std::string_view key, int64_t fallback) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<int64_t>() : fallback;
}

inline json::value ParseArgs(std::string_view s) {
  json::value v = ParseJson(s);
  return v.is_null() ? json::value(std::string(s)) : v;
}

// ---- OpenAI caller ------------------------------------------------------------------------------

inline void ReadOpenAiUsage(const json::value* usage, Answer& a) {
  if (usage == nullptr || !usage->is_object()) return;
  a.prompt_tokens = IntOr(usage->get_object(), "prompt_tokens", a.prompt_tokens);
  a.completion_tokens = IntOr(usage->get_object(), "completion_tokens", a.completion_tokens);
}

inline Answer FromOpenAi(const HttpResult& r, bool stream) {
  Answer a;
  a.status = r.status;
  a.raw = r.body;
  if (!stream || r.status != 200) {
    json::value v = ParseJson(r.body);
    if (!v.is_object()) return a;
    if (const json::value* e = v.get_object().if_contains("error"); e && e->is_object()) {
      a.error_type = Str(e->get_object().contains("type") ? e->at("type") : json::value());
      return a;
    }
    const json::value& choice = v.at("choices").at(0);
    const json::value& message = choice.at("message");
    a.text = Str(message.at("content"));
    if (const json::value* calls = message.get_object().if_contains("tool_calls");
        calls && calls->is_array() && !calls->get_array().empty()) {
      const json::value& fn = calls->at(0).at("function");
      a.tool_name = Str(fn.at("name"));
      a.tool_args = ParseArgs(Str(fn.at("arguments")));
      a.tool_id = Str(calls->at(0).at("id"));
    }
    a.finish = NeutralFinish(Str(choice.at("finish_reason")));
    ReadOpenAiUsage(v.get_object().if_contains("usage"), a);
    return a;
  }
  std::string args;
  for (const std::string& data : SseData(r.body)) {
    if (data == "[DONE]") {
      a.terminated = true;
      continue;
    }
    json::value v = ParseJson(data);
    if (!v.is_object()) continue;
    const json::object& o = v.get_object();
    if (const json::value* e = o.if_contains("error"); e && e->is_object()) {
      a.error_type = Str(e->get_object().contains("type") ? e->at("type") : json::value());
      continue;
    }
    ReadOpenAiUsage(o.if_contains("usage"), a);
    const json::value* choices = o.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) continue;
    const json::object& c = choices->at(0).get_object();
    if (const json::value* delta = c.if_contains("delta"); delta && delta->is_object()) {
      const json::object& d = delta->get_object();
      if (const json::value* t = d.if_contains("content"); t && t->is_string()) {
        a.text += t->get_string();
      }
      if (const json::value* calls = d.if_contains("tool_calls"); calls && calls->is_array()) {
        for (const json::value& call : calls->get_array()) {
          const json::object& co = call.get_object();
          if (const json::value* id = co.if_contains("id"); id && id->is_string()) {
            a.tool_id = Str(*id);
          }
          const json::value* fn = co.if_contains("function");
          if (fn == nullptr || !fn->is_object()) continue;
          if (const json::value* n = fn->get_object().if_contains("name"); n && n->is_string()) {
            a.tool_name += n->get_string();
          }
          if (const json::value* s = fn->get_object().if_contains("arguments");
              s && s->is_string()) {
            args += s->get_string();
          }
        }
      }
    }
    if (const json::value* f = c.if_contains("finish_reason"); f && f->is_string()) {
      a.finish = NeutralFinish(f->get_string());
    }
  }
  if (!a.tool_name.empty()) a.tool_args = ParseArgs(args);
  return a;
}

// ---- Anthropic caller ---------------------------------------------------------------------------

inline void ReadAnthropicUsage(const json::value* usage, Answer& a) {
  if (usage == nullptr || !usage->is_object()) return;
  a.prompt_tokens = IntOr(usage->get_object(), "input_tokens", a.prompt_tokens);
  a.completion_tokens = IntOr(usage->get_object(), "output_tokens", a.completion_tokens);
}

inline Answer FromAnthropic(const HttpResult& r, bool stream) {
  Answer a;
  a.status = r.status;
  a.raw = r.body;
  if (!stream || r.status != 200) {
    json::value v = ParseJson(r.body);
    if (!v.is_object()) return a;
    if (Str(v.at("type")) == "error") {
      a.error_type = Str(v.at("error").at("type"));
      return a;
    }
    for (const json::value& block : v.at("content").as_array()) {
      if (Str(block.at("type")) == "text") a.text += Str(block.at("text"));
      if (Str(block.at("type")) == "tool_use") {
        a.tool_name = Str(block.at("name"));
        a.tool_args = block.at("input");
        a.tool_id = Str(block.at("id"));
      }
    }
    a.finish = NeutralFinish(Str(v.at("stop_reason")));
    ReadAnthropicUsage(v.get_object().if_contains("usage"), a);
    return a;
  }
  std::string args;
  for (const std::string& data : SseData(r.body)) {
    json::value v = ParseJson(data);
    if (!v.is_object()) continue;
    const json::object& o = v.get_object();
    std::string type = Str(o.contains("type") ? o.at("type") : json::value());
    if (type == "error") {
      a.error_type = Str(v.at("error").at("type"));
    } else if (type == "message_start") {
      ReadAnthropicUsage(v.at("message").get_object().if_contains("usage"), a);
    } else if (type == "content_block_start") {
      const json::value& b = v.at("content_block");
      if (Str(b.at("type")) == "tool_use") {
        a.tool_name = Str(b.at("name"));
        a.tool_id = Str(b.at("id"));
      }
    } else if (type == "content_block_delta") {
      const json::value& d = v.at("delta");
      if (Str(d.at("type")) == "text_delta") a.text += Str(d.at("text"));
      if (Str(d.at("type")) == "input_json_delta") args += Str(d.at("partial_json"));
    } else if (type == "message_delta") {
      a.finish = NeutralFinish(Str(v.at("delta").at("stop_reason")));
      ReadAnthropicUsage(o.if_contains("usage"), a);
    } else if (type == "message_stop") {
      a.terminated = true;
    }
  }
  if (!a.tool_name.empty()) a.tool_args = ParseArgs(args);
  return a;
}

// The line the simulator writes first for kTinyPngBase64 (it states the media it received).
inline std::string TinyPngLine() {
  const std::string_view b64 = kTinyPngBase64;
  size_t bytes = b64.size() / 4 * 3;
  if (b64.ends_with("==")) {
    bytes -= 2;
  } else if (b64.ends_with("=")) {
    bytes -= 1;
  }
  return "[image: png 1x1, " + std::to_string(bytes) + " bytes]\n";
}

// ---- request bodies -----------------------------------------------------------------------------

// {"type":"object","properties":{"query":{"type":"string"}}}
inline json::object QuerySchema() {
  json::object properties{{"query", json::object{{"type", "string"}}}};
  return json::object{{"type", "object"}, {"properties", std::move(properties)}};
}

inline std::string OpenAiBody(std::string_view model, std::string_view prompt, Kind kind,
                              bool stream) {
  json::value content = json::string(prompt);
  if (kind == Kind::kImage) {
    const std::string url = "data:image/png;base64," + std::string(kTinyPngBase64);
    content =
        json::array{json::object{{"type", "text"}, {"text", prompt}},
                    json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}}};
  }
  json::object o{{"model", model},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", content}}}}};
  if (kind == Kind::kTools) {
    json::object fn{
        {"name", "search"}, {"description", "Search the web"}, {"parameters", QuerySchema()}};
    o["tools"] = json::array{json::object{{"type", "function"}, {"function", std::move(fn)}}};
  }
  if (stream) {
    o["stream"] = true;
    o["stream_options"] = json::object{{"include_usage", true}};
  }
  return json::serialize(o);
}

inline std::string AnthropicBody(std::string_view model, std::string_view prompt, Kind kind,
                                 bool stream, bool with_max_tokens = true) {
  json::value content = json::string(prompt);
  if (kind == Kind::kImage) {
    json::object source{{"type", "base64"}, {"media_type", "image/png"}, {"data", kTinyPngBase64}};
    content = json::array{json::object{{"type", "text"}, {"text", prompt}},
                          json::object{{"type", "image"}, {"source", std::move(source)}}};
  }
  json::object o{{"model", model},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", content}}}}};
  if (with_max_tokens) o["max_tokens"] = 1024;
  if (kind == Kind::kTools) {
    o["tools"] = json::array{json::object{
        {"name", "search"}, {"description", "Search the web"}, {"input_schema", QuerySchema()}}};
  }
  if (stream) o["stream"] = true;
  return json::serialize(o);
}

}  // namespace modelmux::testing
