#include "dialects/ollama/request.hpp"

#include "dialects/ollama/wire.hpp"

namespace modelmux::dialects::ollama {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr std::string_view kOptionKeys[] = {
    "top_k",          "min_p",         "typical_p",        "num_ctx",           "num_keep",
    "repeat_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty", "mirostat",
    "mirostat_eta",   "mirostat_tau",
};

Error Bad(std::string message, std::string param, std::string code = "invalid_value") {
  return InvalidRequest(std::move(message), std::move(param), std::move(code));
}

std::string Param(size_t i, std::string_view field = {}) {
  std::string p = "messages[" + std::to_string(i) + "]";
  if (!field.empty()) p += "." + std::string(field);
  return p;
}

// The base64 payload of a data: URL; nullopt for anything else.
std::optional<std::string> DataUrlPayload(std::string_view url) {
  constexpr std::string_view kPrefix = "data:";
  constexpr std::string_view kBase64 = ";base64,";
  if (url.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const size_t at = url.find(kBase64);
  if (at == std::string_view::npos) return std::nullopt;
  return std::string(url.substr(at + kBase64.size()));
}

Result<json::object> MessageOf(const ChatRequest& req, size_t i) {
  const Message& m = req.messages[i];
  json::object o;
  switch (m.role) {
    case Role::kSystem:
    case Role::kDeveloper:
      o["role"] = "system";
      break;
    case Role::kUser:
      o["role"] = "user";
      break;
    case Role::kAssistant:
      o["role"] = "assistant";
      break;
    case Role::kTool:
      o["role"] = "tool";
      break;
  }
  std::string text;
  json::array images;
  for (const ContentPart& part : m.content) {
    if (part.type == PartType::kText) {
      text += part.text;
    } else if (part.type == PartType::kImage) {
      auto payload = DataUrlPayload(part.url);
      if (!payload) {
        return Bad("Ollama takes images inline only (data: URLs with base64)", Param(i, "content"),
                   "image_url_not_supported");
      }
      images.emplace_back(std::move(*payload));
    } else {
      return Bad("Ollama accepts text and images only", Param(i, "content"), "unsupported_content");
    }
  }
  o["content"] = text;
  if (!images.empty()) o["images"] = std::move(images);
  if (m.role == Role::kAssistant && !m.tool_calls.empty()) {
    json::array calls;
    for (const ToolCall& c : m.tool_calls) {
      auto args = Parse(c.arguments.empty() ? std::string_view("{}") : c.arguments);
      if (!args || !args->is_object()) {
        return Bad("tool call arguments must be a JSON object for Ollama", Param(i, "tool_calls"));
      }
      calls.push_back(json::object{
          {"function", json::object{{"name", c.name}, {"arguments", std::move(*args)}}}});
    }
    o["tool_calls"] = std::move(calls);
  }
  if (m.role == Role::kTool) {
    std::string name = m.name;
    for (const Message& prev : req.messages) {
      for (const ToolCall& c : prev.tool_calls) {
        if (!m.tool_call_id.empty() && c.id == m.tool_call_id) name = c.name;
      }
    }
    if (!name.empty()) o["tool_name"] = name;
  }
  return o;
}

Status AddFormat(const std::string& response_format, json::object& body) {
  if (response_format.empty()) return OkStatus();
  auto v = Parse(response_format);
  if (!v || !v->is_object()) {
    return Bad("response_format must be a JSON object", "response_format", "invalid_type");
  }
  const std::string type = Str(v->get_object(), "type");
  if (type == "json_object") {
    body["format"] = "json";
  } else if (type == "json_schema") {
    const json::object* js = Obj(v->get_object(), "json_schema");
    const json::value* schema = js != nullptr ? js->if_contains("schema") : nullptr;
    body["format"] = schema != nullptr ? *schema : json::value("json");
  }
  return OkStatus();
}

}  // namespace

Result<std::string> EncodeChatRequest(const ChatRequest& req, std::string_view model, bool stream) {
  if (req.n && *req.n > 1) return Bad("Ollama returns one choice only", "n");
  json::array messages;
  for (size_t i = 0; i < req.messages.size(); ++i) {
    MM_TRY(json::object o, MessageOf(req, i));
    messages.push_back(std::move(o));
  }
  json::object body;
  body["model"] = model;
  body["messages"] = std::move(messages);
  body["stream"] = stream;

  json::object options;
  if (req.temperature) options["temperature"] = *req.temperature;
  if (req.top_p) options["top_p"] = *req.top_p;
  if (req.max_tokens) options["num_predict"] = *req.max_tokens;
  if (!req.stop.empty()) {
    json::array stop;
    for (const auto& s : req.stop) stop.emplace_back(s);
    options["stop"] = std::move(stop);
  }
  if (req.seed) options["seed"] = *req.seed;
  if (!req.extra.empty()) {
    auto extra = Parse(req.extra);
    if (extra && extra->is_object()) {
      const json::object& eo = extra->get_object();
      for (std::string_view key : kOptionKeys) {
        if (const json::value* v = eo.if_contains(key)) options[key] = *v;
      }
      if (const json::object* more = Obj(eo, "options")) {
        for (const auto& [k, v] : *more) options[k] = v;
      }
      for (std::string_view key : {"keep_alive", "think"}) {
        if (const json::value* v = eo.if_contains(key)) body[key] = *v;
      }
    }
  }
  if (!options.empty()) body["options"] = std::move(options);
  if (!req.tools.empty()) {
    auto tools = Parse(req.tools);
    if (!tools || !tools->is_array()) {
      return Bad("tools must be a JSON array", "tools", "invalid_type");
    }
    if (!tools->get_array().empty()) body["tools"] = std::move(*tools);
  }
  MM_RETURN_IF_ERROR(AddFormat(req.response_format, body));
  return json::serialize(body);
}

Result<std::string> EncodeEmbeddingRequest(const EmbeddingRequest& req, std::string_view model) {
  if (req.inputs.empty()) return Bad("input must not be empty", "input");
  json::array input;
  for (const auto& s : req.inputs) input.emplace_back(s);
  json::object body{{"model", model}, {"input", std::move(input)}};
  if (req.dimensions) body["dimensions"] = *req.dimensions;
  return json::serialize(body);
}

}  // namespace modelmux::dialects::ollama
