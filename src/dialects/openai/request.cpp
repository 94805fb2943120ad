#include "dialects/openai/request.hpp"

#include <array>

#include "dialects/openai/json_util.hpp"

namespace modelmux::dialects::openai {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr std::array<std::string_view, 16> kKnownFields = {"model",
                                                           "messages",
                                                           "max_tokens",
                                                           "max_completion_tokens",
                                                           "temperature",
                                                           "top_p",
                                                           "n",
                                                           "seed",
                                                           "stop",
                                                           "stream",
                                                           "stream_options",
                                                           "tools",
                                                           "tool_choice",
                                                           "response_format",
                                                           "reasoning_effort",
                                                           "user"};

bool IsKnown(std::string_view key) {
  for (auto k : kKnownFields) {
    if (k == key) return true;
  }
  return false;
}

Error InvalidValue(std::string param, std::string message) {
  return InvalidRequest(std::move(message), std::move(param), "invalid_value");
}

std::string Index(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

const json::value* Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

Result<std::string> StringField(const json::object& o, std::string_view key,
                                const std::string& param) {
  const json::value* v = Field(o, key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return InvalidType(param, "a string", *v);
  return std::string(v->get_string());
}

Result<ContentPart> DecodePart(const json::value& v, const std::string& param) {
  if (!v.is_object()) return InvalidType(param, "an object", v);
  const json::object& o = v.get_object();
  const json::value* type = Field(o, "type");
  if (type == nullptr) return MissingParam(param + ".type");
  if (!type->is_string()) return InvalidType(param + ".type", "a string", *type);
  const std::string_view t = type->get_string();
  ContentPart part;
  if (t == "text") {
    const json::value* text = Field(o, "text");
    if (text == nullptr) return MissingParam(param + ".text");
    if (!text->is_string()) return InvalidType(param + ".text", "a string", *text);
    part.text = std::string(text->get_string());
    return part;
  }
  if (t == "image_url" || t == "video_url") {
    const std::string key(t);
    const json::value* inner = Field(o, key);
    if (inner == nullptr) return MissingParam(param + "." + key);
    if (!inner->is_object()) return InvalidType(param + "." + key, "an object", *inner);
    const json::object& io = inner->get_object();
    const json::value* url = Field(io, "url");
    if (url == nullptr) return MissingParam(param + "." + key + ".url");
    if (!url->is_string()) return InvalidType(param + "." + key + ".url", "a string", *url);
    part.type = t == "image_url" ? PartType::kImage : PartType::kVideo;
    part.url = std::string(url->get_string());
    MM_TRY(part.detail, StringField(io, "detail", param + "." + key + ".detail"));
    if (!part.detail.empty() && part.detail != "low" && part.detail != "high" &&
        part.detail != "auto") {
      return InvalidValue(
          param + "." + key + ".detail",
          "Invalid value: '" + part.detail + "'. Supported values are: 'low', 'high', and 'auto'.");
    }
    return part;
  }
  if (t == "input_audio") {
    const json::value* inner = Field(o, "input_audio");
    if (inner == nullptr) return MissingParam(param + ".input_audio");
    if (!inner->is_object()) return InvalidType(param + ".input_audio", "an object", *inner);
    const json::object& io = inner->get_object();
    std::string data, format;
    MM_TRY(data, StringField(io, "data", param + ".input_audio.data"));
    MM_TRY(format, StringField(io, "format", param + ".input_audio.format"));
    if (data.empty()) return MissingParam(param + ".input_audio.data");
    if (format.empty()) return MissingParam(param + ".input_audio.format");
    part.type = PartType::kAudio;
    part.mime_type = "audio/" + format;
    part.url = "data:" + part.mime_type + ";base64," + data;
    return part;
  }
  return InvalidValue(param + ".type",
                      "Invalid value: '" + std::string(t) +
                          "'. Supported values are: 'text', 'image_url', 'input_audio', and "
                          "'video_url'.");
}

Result<std::vector<ToolCall>> DecodeToolCalls(const json::value& v, const std::string& param) {
  if (!v.is_array()) return InvalidType(param, "an array", v);
  std::vector<ToolCall> calls;
  for (size_t i = 0; i < v.get_array().size(); ++i) {
    const json::value& c = v.get_array()[i];
    const std::string p = Index(param, i);
    if (!c.is_object()) return InvalidType(p, "an object", c);
    ToolCall call;
    MM_TRY(call.id, StringField(c.get_object(), "id", p + ".id"));
    if (call.id.empty()) return MissingParam(p + ".id");
    const json::value* fn = Field(c.get_object(), "function");
    if (fn == nullptr) return MissingParam(p + ".function");
    if (!fn->is_object()) return InvalidType(p + ".function", "an object", *fn);
    MM_TRY(call.name, StringField(fn->get_object(), "name", p + ".function.name"));
    if (call.name.empty()) return MissingParam(p + ".function.name");
    MM_TRY(call.arguments, StringField(fn->get_object(), "arguments", p + ".function.arguments"));
    calls.push_back(std::move(call));
  }
  return calls;
}

Result<Message> DecodeMessage(const json::value& v, const std::string& param) {
  if (!v.is_object()) return InvalidType(param, "an object", v);
  const json::object& o = v.get_object();
  const json::value* role = Field(o, "role");
  if (role == nullptr) return MissingParam(param + ".role");
  if (!role->is_string()) return InvalidType(param + ".role", "a string", *role);
  auto parsed_role = ParseRole(role->get_string());
  if (!parsed_role) {
    return InvalidValue(param + ".role",
                        "Invalid value: '" + std::string(role->get_string()) +
                            "'. Supported values are: 'system', 'assistant', 'user', 'tool', and "
                            "'developer'.");
  }
  Message m;
  m.role = *parsed_role;
  MM_TRY(m.name, StringField(o, "name", param + ".name"));
  const json::value* content = Field(o, "content");
  if (content == nullptr) {
    if (m.role != Role::kAssistant) return MissingParam(param + ".content");
  } else if (content->is_string()) {
    m.content.push_back(
        ContentPart{PartType::kText, std::string(content->get_string()), "", "", ""});
  } else if (content->is_array()) {
    m.content_is_string = false;
    for (size_t i = 0; i < content->get_array().size(); ++i) {
      ContentPart part;
      MM_TRY(part, DecodePart(content->get_array()[i], Index(param + ".content", i)));
      m.content.push_back(std::move(part));
    }
  } else {
    return InvalidType(param + ".content", "one of a string or an array", *content);
  }
  if (const json::value* calls = Field(o, "tool_calls")) {
    if (m.role != Role::kAssistant) {
      return InvalidRequest(
          "Invalid parameter: only messages with role 'assistant' can have "
          "'tool_calls'.",
          param + ".tool_calls", "invalid_value");
    }
    MM_TRY(m.tool_calls, DecodeToolCalls(*calls, param + ".tool_calls"));
  }
  if (m.role == Role::kTool) {
    MM_TRY(m.tool_call_id, StringField(o, "tool_call_id", param + ".tool_call_id"));
    if (m.tool_call_id.empty()) return MissingParam(param + ".tool_call_id");
  }
  MM_TRY(m.reasoning, StringField(o, "reasoning_content", param + ".reasoning_content"));
  return m;
}

Result<std::vector<std::string>> DecodeStop(const json::value& v) {
  if (v.is_string()) return std::vector<std::string>{std::string(v.get_string())};
  if (!v.is_array()) return InvalidType("stop", "one of a string or an array", v);
  const json::array& a = v.get_array();
  if (a.size() > 4) {
    return InvalidRequest(
        "Invalid 'stop': array too long. Expected an array with maximum length "
        "4, but got an array with length " +
            std::to_string(a.size()) + " instead.",
        "stop", "array_above_max_length");
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) return InvalidType(Index("stop", i), "a string", a[i]);
    out.emplace_back(a[i].get_string());
  }
  return out;
}

// Fields shared by chat and legacy completions.
Status DecodeCommon(const json::object& o, ChatRequest& req, json::object& extra) {
  req.model = std::string(o.at("model").get_string());
  if (const json::value* v = Field(o, "max_completion_tokens")) {
    req.max_tokens = AsInt(*v);
    req.max_completion_tokens_field = true;
  } else if (const json::value* mt = Field(o, "max_tokens")) {
    req.max_tokens = AsInt(*mt);
  }
  if (const json::value* v = Field(o, "temperature")) req.temperature = AsNumber(*v);
  if (const json::value* v = Field(o, "top_p")) req.top_p = AsNumber(*v);
  if (const json::value* v = Field(o, "n")) req.n = AsInt(*v);
  if (const json::value* v = Field(o, "seed")) {
    req.seed = AsInt(*v);
    if (!req.seed) return InvalidType("seed", "an integer", *v);
  }
  if (const json::value* v = Field(o, "stop")) {
    MM_TRY(req.stop, DecodeStop(*v));
  }
  if (const json::value* v = Field(o, "stream")) req.stream = v->get_bool();
  if (const json::value* v = Field(o, "stream_options")) {
    if (!v->is_object()) return InvalidType("stream_options", "an object", *v);
    json::object rest;  // keys other than include_usage, in order (object::erase reorders)
    for (const auto& kv : v->get_object()) {
      if (kv.key() != "include_usage") {
        rest[kv.key()] = kv.value();
      } else if (!kv.value().is_null()) {
        if (!kv.value().is_bool()) {
          return InvalidType("stream_options.include_usage", "a boolean", kv.value());
        }
        req.include_usage = kv.value().get_bool();
      }
    }
    if (!rest.empty()) extra["stream_options"] = std::move(rest);
  }
  MM_TRY(req.user, StringField(o, "user", "user"));
  return OkStatus();
}

Result<json::value> ParseObject(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return ParseBodyError();
  return v;
}

Result<ChatRequest> DecodeParsedChatRequest(const json::value& v);

}  // namespace

Result<ChatRequest> DecodeChatRequest(std::string_view body) {
  MM_TRY(json::value v, ParseObject(body));
  return DecodeParsedChatRequest(v);
}

Result<ChatRequest> DecodeChatRequestReleasing(std::string& body) {
  MM_TRY(json::value v, ParseObject(body));
  std::string().swap(body);
  return DecodeParsedChatRequest(v);
}

namespace {

Result<ChatRequest> DecodeParsedChatRequest(const json::value& v) {
  if (auto e = CheckTopLevel(v)) return *e;
  const json::object& o = v.get_object();
  ChatRequest req;
  json::object extra;
  MM_RETURN_IF_ERROR(DecodeCommon(o, req, extra));
  const json::array& msgs = o.at("messages").get_array();
  req.messages.reserve(msgs.size());
  for (size_t i = 0; i < msgs.size(); ++i) {
    Message m;
    MM_TRY(m, DecodeMessage(msgs[i], Index("messages", i)));
    req.messages.push_back(std::move(m));
  }
  if (const json::value* v2 = Field(o, "tools")) {
    if (!v2->is_array()) return InvalidType("tools", "an array", *v2);
    req.tools = ToText(*v2);
  }
  if (const json::value* v2 = Field(o, "tool_choice")) {
    if (!v2->is_string() && !v2->is_object()) {
      return InvalidType("tool_choice", "one of a string or an object", *v2);
    }
    req.tool_choice = ToText(*v2);
  }
  if (const json::value* v2 = Field(o, "response_format")) {
    if (!v2->is_object()) return InvalidType("response_format", "an object", *v2);
    req.response_format = ToText(*v2);
  }
  MM_TRY(req.reasoning_effort, StringField(o, "reasoning_effort", "reasoning_effort"));
  for (const auto& kv : o) {
    if (!IsKnown(kv.key())) extra[kv.key()] = kv.value();
  }
  if (!extra.empty()) req.extra = ToText(extra);
  return req;
}

}  // namespace

Result<ChatRequest> DecodeCompletionRequest(std::string_view body) {
  MM_TRY(json::value v, ParseObject(body));
  json::object& o = v.get_object();
  const json::value* model = Field(o, "model");
  if (model == nullptr) return MissingParam("model");
  if (!model->is_string()) return InvalidType("model", "a string", *model);
  const json::value* prompt = Field(o, "prompt");
  if (prompt == nullptr) return MissingParam("prompt");
  std::string text;
  if (prompt->is_string()) {
    text = std::string(prompt->get_string());
  } else if (prompt->is_array() && prompt->get_array().size() == 1 &&
             prompt->get_array()[0].is_string()) {
    text = std::string(prompt->get_array()[0].get_string());
  } else {
    return InvalidType("prompt", "a string or an array of one string", *prompt);
  }
  // Reuse the chat checks for the shared parameters by giving them a stand-in messages array.
  json::value check = o;
  check.get_object()["messages"] = json::array{json::object{}};
  if (auto e = CheckTopLevel(check)) return *e;
  ChatRequest req;
  json::object extra;
  MM_RETURN_IF_ERROR(DecodeCommon(o, req, extra));
  if (!req.max_tokens) req.max_tokens = 16;  // OpenAI's documented default for completions
  Message m;
  m.role = Role::kUser;
  m.content.push_back(ContentPart{PartType::kText, std::move(text), "", "", ""});
  req.messages.push_back(std::move(m));
  for (const auto& kv : o) {
    if (kv.key() != "prompt" && !IsKnown(kv.key())) extra[kv.key()] = kv.value();
  }
  if (!extra.empty()) req.extra = ToText(extra);
  return req;
}

namespace {

json::value ParseRaw(const std::string& raw) {
  boost::system::error_code ec;
  json::value v = json::parse(raw, ec);
  return ec ? json::value(nullptr) : v;
}

json::value EncodePart(const ContentPart& p) {
  switch (p.type) {
    case PartType::kText:
      return json::object{{"type", "text"}, {"text", p.text}};
    case PartType::kImage: {
      json::object img{{"url", p.url}};
      if (!p.detail.empty()) img["detail"] = p.detail;
      return json::object{{"type", "image_url"}, {"image_url", std::move(img)}};
    }
    case PartType::kVideo:
      return json::object{{"type", "video_url"}, {"video_url", json::object{{"url", p.url}}}};
    case PartType::kAudio: {
      // data:audio/<format>;base64,<data>
      std::string_view url = p.url;
      std::string format = p.mime_type.starts_with("audio/") ? p.mime_type.substr(6) : "wav";
      auto comma = url.find(',');
      std::string data(comma == std::string_view::npos ? url : url.substr(comma + 1));
      return json::object{{"type", "input_audio"},
                          {"input_audio", json::object{{"data", data}, {"format", format}}}};
    }
  }
  return nullptr;
}

json::object EncodeMessage(const Message& m) {
  json::object o;
  o["role"] = RoleName(m.role);
  const bool single_text = m.content.size() == 1 && m.content[0].type == PartType::kText;
  if (m.content.empty() && (m.content_is_string || !m.tool_calls.empty())) {
    o["content"] = m.tool_calls.empty() ? json::value("") : json::value(nullptr);
  } else if (m.content_is_string && single_text) {
    o["content"] = m.content[0].text;
  } else {
    json::array parts;
    for (const auto& p : m.content) parts.push_back(EncodePart(p));
    o["content"] = std::move(parts);
  }
  if (!m.name.empty()) o["name"] = m.name;
  if (!m.tool_call_id.empty()) o["tool_call_id"] = m.tool_call_id;
  if (!m.tool_calls.empty()) {
    json::array calls;
    for (const auto& c : m.tool_calls) {
      calls.push_back(
          json::object{{"id", c.id},
                       {"type", "function"},
                       {"function", json::object{{"name", c.name}, {"arguments", c.arguments}}}});
    }
    o["tool_calls"] = std::move(calls);
  }
  return o;
}

}  // namespace

std::string EncodeChatRequest(const ChatRequest& req, std::string_view upstream_model,
                              bool ask_stream_usage) {
  json::object o;
  o["model"] = upstream_model;
  json::array msgs;
  msgs.reserve(req.messages.size());
  for (const auto& m : req.messages) msgs.push_back(EncodeMessage(m));
  o["messages"] = std::move(msgs);
  if (req.max_tokens)
    o[req.max_completion_tokens_field ? "max_completion_tokens" : "max_tokens"] = *req.max_tokens;
  if (req.temperature) o["temperature"] = *req.temperature;
  if (req.top_p) o["top_p"] = *req.top_p;
  if (req.n) o["n"] = *req.n;
  if (req.seed) o["seed"] = *req.seed;
  if (req.stop.size() == 1) {
    o["stop"] = req.stop[0];
  } else if (!req.stop.empty()) {
    json::array stop;
    for (const auto& s : req.stop) stop.emplace_back(s);
    o["stop"] = std::move(stop);
  }
  json::object extra;
  if (!req.extra.empty()) {
    json::value e = ParseRaw(req.extra);
    if (e.is_object()) extra = std::move(e.get_object());
  }
  if (req.stream) {
    o["stream"] = true;
    json::object so;
    if (auto* rest = extra.if_contains("stream_options"); rest && rest->is_object()) {
      so = rest->get_object();
    }
    if (req.include_usage || ask_stream_usage) so["include_usage"] = true;
    if (!so.empty()) o["stream_options"] = std::move(so);
  }
  if (!req.tools.empty()) o["tools"] = ParseRaw(req.tools);
  if (!req.tool_choice.empty()) o["tool_choice"] = ParseRaw(req.tool_choice);
  if (!req.response_format.empty()) o["response_format"] = ParseRaw(req.response_format);
  if (!req.reasoning_effort.empty()) o["reasoning_effort"] = req.reasoning_effort;
  if (!req.user.empty()) o["user"] = req.user;
  for (auto& kv : extra) {
    if (kv.key() != "stream_options" && !o.contains(kv.key())) o[kv.key()] = std::move(kv.value());
  }
  return json::serialize(o);
}

}  // namespace modelmux::dialects::openai
