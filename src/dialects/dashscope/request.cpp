#include "dialects/dashscope/request.hpp"

#include <algorithm>

#include "dialects/dashscope/capabilities.hpp"
#include "dialects/dashscope/wire.hpp"

namespace modelmux::dialects::dashscope {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr std::string_view kExtraKeys[] = {
    "top_k",
    "enable_search",
    "search_options",
    "enable_thinking",
    "thinking_budget",
    "repetition_penalty",
    "presence_penalty",
    "parallel_tool_calls",
    "vl_high_resolution_images",
    "translation_options",
    "logprobs",
    "top_logprobs",
    "modalities",
    "audio",
};

Error Bad(std::string message, std::string param, std::string code = "invalid_value") {
  return InvalidRequest(std::move(message), std::move(param), std::move(code));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view RoleOnWire(Role role) {
  switch (role) {
    case Role::kSystem:
    case Role::kDeveloper:
      return "system";
    case Role::kUser:
      return "user";
    case Role::kAssistant:
      return "assistant";
    case Role::kTool:
      return "tool";
  }
  return "user";
}

std::string_view MediaKey(PartType type) {
  switch (type) {
    case PartType::kImage:
      return "image";
    case PartType::kVideo:
      return "video";
    case PartType::kAudio:
      return "audio";
    case PartType::kText:
      break;
  }
  return "text";
}

Result<json::value> Content(const Message& m, size_t i, bool multimodal) {
  if (!multimodal) {
    std::string text;
    for (const auto& part : m.content) {
      if (part.type != PartType::kText) {
        return Bad("DashScope text models accept text only",
                   "messages[" + std::to_string(i) + "].content", "unsupported_content");
      }
      text += part.text;
    }
    return json::value(std::move(text));
  }
  json::array parts;
  for (const auto& part : m.content) {
    if (part.type == PartType::kText && part.text.empty()) continue;
    parts.push_back(
        json::object{{MediaKey(part.type), part.type == PartType::kText ? part.text : part.url}});
  }
  return json::value(std::move(parts));
}

// Raw JSON text from the request (tools, tool_choice, response_format) as a value.
Result<json::value> RawJson(const std::string& text, std::string_view param) {
  auto v = Parse(text);
  if (!v)
    return Bad(std::string(param) + " must be valid JSON", std::string(param), "invalid_type");
  return *std::move(v);
}

std::string ToolName(const ChatRequest& req, const Message& m) {
  for (const Message& prev : req.messages) {
    for (const ToolCall& c : prev.tool_calls) {
      if (!m.tool_call_id.empty() && c.id == m.tool_call_id) return c.name;
    }
  }
  return m.name;
}

}  // namespace

bool IsMultimodal(std::string_view model, const ChatRequest& req) {
  const std::string m = Lower(model);
  for (std::string_view prefix : {"qwen-vl", "qwen-omni", "qwen-audio", "qvq"}) {
    if (m.rfind(prefix, 0) == 0) return true;
  }
  if (m.find("-vl") != std::string::npos || m.find("-omni") != std::string::npos) return true;
  for (const Message& msg : req.messages) {
    for (const ContentPart& p : msg.content) {
      if (p.type != PartType::kText) return true;
    }
  }
  return false;
}

Result<std::string> EncodeChatRequest(const ChatRequest& req, std::string_view model, bool stream,
                                      bool multimodal) {
  if (req.messages.empty()) return Bad("DashScope needs at least one message", "messages");
  json::array messages;
  for (size_t i = 0; i < req.messages.size(); ++i) {
    const Message& m = req.messages[i];
    json::object o;
    o["role"] = RoleOnWire(m.role);
    MM_TRY(o["content"], Content(m, i, multimodal));
    if (m.role == Role::kAssistant && !m.tool_calls.empty()) {
      json::array calls;
      for (const ToolCall& c : m.tool_calls) {
        calls.push_back(json::object{
            {"id", c.id},
            {"type", "function"},
            {"function", json::object{{"name", c.name},
                                      {"arguments", c.arguments.empty() ? "{}" : c.arguments}}}});
      }
      o["tool_calls"] = std::move(calls);
    }
    if (m.role == Role::kTool) {
      if (!m.tool_call_id.empty()) o["tool_call_id"] = m.tool_call_id;
      if (std::string name = ToolName(req, m); !name.empty()) o["name"] = std::move(name);
    } else if (!m.name.empty() && m.role != Role::kAssistant) {
      o["name"] = m.name;
    }
    messages.push_back(std::move(o));
  }

  json::object params;
  params["result_format"] = "message";
  if (stream) params["incremental_output"] = true;
  if (req.temperature) {
    params["temperature"] = std::clamp(*req.temperature, 0.0, Capabilities::kMaxTemperature);
  }
  if (req.top_p) params["top_p"] = std::clamp(*req.top_p, Capabilities::kMinTopP, 1.0);
  if (req.max_tokens) params["max_tokens"] = *req.max_tokens;
  if (req.n && *req.n > 1) params["n"] = *req.n;
  if (req.seed) params["seed"] = *req.seed;
  if (!req.stop.empty()) {
    json::array stop;
    for (const auto& s : req.stop) stop.emplace_back(s);
    params["stop"] = std::move(stop);
  }
  if (!req.tools.empty()) {
    MM_TRY(json::value tools, RawJson(req.tools, "tools"));
    if (!tools.is_array()) return Bad("tools must be a JSON array", "tools", "invalid_type");
    if (!tools.get_array().empty()) params["tools"] = std::move(tools);
  }
  if (!req.tool_choice.empty()) {
    MM_TRY(params["tool_choice"], RawJson(req.tool_choice, "tool_choice"));
  }
  if (!req.response_format.empty()) {
    MM_TRY(params["response_format"], RawJson(req.response_format, "response_format"));
  }
  if (!req.extra.empty()) {
    auto extra = Parse(req.extra);
    if (extra && extra->is_object()) {
      for (std::string_view key : kExtraKeys) {
        if (const json::value* v = extra->get_object().if_contains(key)) params[key] = *v;
      }
    }
  }

  json::object body;
  body["model"] = model;
  body["input"] = json::object{{"messages", std::move(messages)}};
  body["parameters"] = std::move(params);
  return json::serialize(body);
}

Result<std::string> EncodeEmbeddingsRequest(const EmbeddingRequest& req, std::string_view model) {
  if (req.inputs.empty()) return Bad("DashScope embeddings need at least one text", "input");
  json::array texts;
  for (const auto& t : req.inputs) texts.emplace_back(t);
  json::object params;
  if (req.dimensions) {
    if (*req.dimensions < 1) return Bad("dimensions must be at least 1", "dimensions");
    params["dimension"] = *req.dimensions;
  }
  const std::string task = Lower(req.task_type);
  if (task == "query" || task == "retrieval_query") params["text_type"] = "query";
  if (task == "document" || task == "retrieval_document") params["text_type"] = "document";
  json::object body;
  body["model"] = model;
  body["input"] = json::object{{"texts", std::move(texts)}};
  body["parameters"] = std::move(params);
  return json::serialize(body);
}

}  // namespace modelmux::dialects::dashscope
