#include "dialects/bedrock/request.hpp"

#include "dialects/bedrock/wire.hpp"

namespace modelmux::dialects::bedrock {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

std::string MessageParam(size_t i, std::string_view rest) {
  return "messages[" + std::to_string(i) + "]" + std::string(rest);
}

bool IsHttpUrl(std::string_view url) {
  return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

Result<json::object> ImageBlock(const ContentPart& part, const std::string& param) {
  if (part.type != PartType::kImage) {
    return InvalidRequest("Bedrock Converse takes text and images only, not video or audio.", param,
                          "unsupported_content");
  }
  auto split = SplitDataUrl(part.url);
  if (!split) {
    if (IsHttpUrl(part.url)) {
      return InvalidRequest(
          "Bedrock takes images as base64 bytes only; image URLs are not fetched for it.", param,
          "image_url_unsupported");
    }
    return InvalidRequest("Image URLs must be base64 data URLs for Bedrock.", param,
                          "invalid_image_url");
  }
  std::string format = ImageFormat(split->first.empty() ? part.mime_type : split->first);
  if (format.empty()) format = ImageFormat(part.mime_type);
  if (format.empty()) {
    return InvalidRequest("Bedrock takes png, jpeg, gif and webp images only.", param,
                          "unsupported_image_format");
  }
  return json::object{
      {"image", json::object{{"format", std::move(format)},
                             {"source", json::object{{"bytes", std::move(split->second)}}}}}};
}

Result<json::array> ContentBlocks(const Message& m, size_t i) {
  json::array blocks;
  for (size_t j = 0; j < m.content.size(); ++j) {
    const ContentPart& part = m.content[j];
    if (part.type == PartType::kText) {
      if (!part.text.empty()) blocks.push_back(json::object{{"text", part.text}});
      continue;
    }
    MM_TRY(json::object image,
           ImageBlock(part, MessageParam(i, ".content[" + std::to_string(j) + "]")));
    blocks.push_back(std::move(image));
  }
  return blocks;
}

Result<json::object> ToolUseBlock(const ToolCall& call, size_t i, size_t k) {
  json::value input = json::object{};
  if (!call.arguments.empty()) {
    auto parsed = Parse(call.arguments);
    if (!parsed || !parsed->is_object()) {
      return InvalidRequest(
          "Tool call arguments must be a JSON object.",
          MessageParam(i, ".tool_calls[" + std::to_string(k) + "].function.arguments"),
          "invalid_tool_arguments");
    }
    input = std::move(*parsed);
  }
  return json::object{
      {"toolUse",
       json::object{{"toolUseId", call.id}, {"name", call.name}, {"input", std::move(input)}}}};
}

json::object ToolResultBlock(const Message& m) {
  const std::string text = m.Text();
  json::object content{{"text", text}};
  if (auto parsed = Parse(text); parsed && parsed->is_object()) {
    content = json::object{{"json", std::move(*parsed)}};
  }
  return json::object{{"toolResult", json::object{{"toolUseId", m.tool_call_id},
                                                  {"content", json::array{std::move(content)}}}}};
}

void Append(json::array& messages, std::string_view role, json::array blocks) {
  if (blocks.empty()) return;
  if (!messages.empty()) {
    json::object& last = messages.back().get_object();
    if (Str(last, "role") == role) {
      json::array& into = last["content"].get_array();
      for (auto& b : blocks) into.push_back(std::move(b));
      return;
    }
  }
  messages.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
}

struct Encoded {
  json::array messages;
  bool has_tool_blocks = false;
};

Result<Encoded> EncodeMessages(const std::vector<Message>& messages) {
  Encoded out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) continue;
    if (m.role == Role::kTool) {
      if (m.tool_call_id.empty()) {
        return InvalidRequest("A tool message must name the tool call it answers.",
                              MessageParam(i, ".tool_call_id"), "invalid_tool_call_id");
      }
      Append(out.messages, "user", json::array{ToolResultBlock(m)});
      out.has_tool_blocks = true;
      continue;
    }
    MM_TRY(json::array blocks, ContentBlocks(m, i));
    if (m.role == Role::kAssistant) {
      for (size_t k = 0; k < m.tool_calls.size(); ++k) {
        MM_TRY(json::object block, ToolUseBlock(m.tool_calls[k], i, k));
        blocks.push_back(std::move(block));
        out.has_tool_blocks = true;
      }
    }
    Append(out.messages, m.role == Role::kAssistant ? "assistant" : "user", std::move(blocks));
  }
  return out;
}

json::array EncodeSystem(const std::vector<Message>& messages) {
  json::array system;
  for (const auto& m : messages) {
    if (m.role != Role::kSystem && m.role != Role::kDeveloper) continue;
    for (const auto& part : m.content) {
      if (part.type == PartType::kText && !part.text.empty()) {
        system.push_back(json::object{{"text", part.text}});
      }
    }
  }
  return system;
}

Result<json::array> EncodeTools(const std::string& raw) {
  auto v = Parse(raw);
  if (!v || !v->is_array()) return InvalidRequest("Invalid tools: expected an array.", "tools");
  json::array tools;
  for (const auto& t : v->get_array()) {
    if (!t.is_object()) return InvalidRequest("Invalid tools: expected objects.", "tools");
    const json::object& o = t.get_object();
    const json::object* fn = ObjectOf(o, "function");
    if (fn == nullptr) {
      if (o.contains("toolSpec")) tools.push_back(t);  // already in Bedrock's shape
      continue;
    }
    json::object spec{{"name", Str(*fn, "name")}};
    if (const json::value* d = fn->if_contains("description"); d && d->is_string()) {
      spec["description"] = *d;
    }
    json::value schema = json::object{{"type", "object"}, {"properties", json::object{}}};
    if (const json::object* params = ObjectOf(*fn, "parameters"); params && !params->empty()) {
      schema = *params;
    }
    spec["inputSchema"] = json::object{{"json", std::move(schema)}};
    tools.push_back(json::object{{"toolSpec", std::move(spec)}});
  }
  return tools;
}

// nullopt: no toolChoice (auto by default, or "none").
Result<std::optional<json::object>> EncodeToolChoice(const std::string& raw) {
  auto v = Parse(raw);
  if (v && v->is_string()) {
    const std::string_view s = v->get_string();
    if (s == "auto") return std::optional<json::object>(json::object{{"auto", json::object{}}});
    if (s == "required") return std::optional<json::object>(json::object{{"any", json::object{}}});
    if (s == "none") return std::optional<json::object>();
  } else if (v && v->is_object() && Str(v->get_object(), "type") == "function") {
    if (const json::object* fn = ObjectOf(v->get_object(), "function")) {
      return std::optional<json::object>(
          json::object{{"tool", json::object{{"name", Str(*fn, "name")}}}});
    }
  }
  return InvalidRequest("Invalid tool_choice.", "tool_choice", "invalid_value");
}

json::object InferenceConfig(const ChatRequest& req) {
  json::object config;
  if (req.max_tokens) config["maxTokens"] = *req.max_tokens;
  if (req.temperature) config["temperature"] = *req.temperature;
  if (req.top_p) config["topP"] = *req.top_p;
  if (!req.stop.empty()) {
    json::array stops;
    for (const auto& s : req.stop) stops.push_back(json::value(s));
    config["stopSequences"] = std::move(stops);
  }
  return config;
}

}  // namespace

std::string ModelPath(std::string_view model_id, std::string_view action) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out = "/model/";
  for (unsigned char c : model_id) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  out.push_back('/');
  out += action;
  return out;
}

std::string ConversePath(std::string_view model_id, bool stream) {
  return ModelPath(model_id, stream ? "converse-stream" : "converse");
}

Result<std::string> EncodeConverseRequest(const ChatRequest& req) {
  if (req.n && *req.n > 1) {
    return InvalidRequest("Bedrock Converse returns one choice; n must be 1.", "n",
                          "unsupported_value");
  }
  json::object body;
  MM_TRY(Encoded encoded, EncodeMessages(req.messages));
  body["messages"] = std::move(encoded.messages);
  if (json::array system = EncodeSystem(req.messages); !system.empty()) {
    body["system"] = std::move(system);
  }
  if (json::object config = InferenceConfig(req); !config.empty()) {
    body["inferenceConfig"] = std::move(config);
  }
  if (!req.tools.empty()) {
    MM_TRY(json::array tools, EncodeTools(req.tools));
    std::optional<json::object> choice;
    bool none = false;
    if (!req.tool_choice.empty()) {
      MM_TRY(choice, EncodeToolChoice(req.tool_choice));
      none = !choice.has_value();
    }
    if (!tools.empty() && !(none && !encoded.has_tool_blocks)) {
      json::object config{{"tools", std::move(tools)}};
      if (choice) config["toolChoice"] = std::move(*choice);
      body["toolConfig"] = std::move(config);
    }
  }

  json::object extra;
  if (!req.extra.empty()) {
    auto v = Parse(req.extra);
    if (v && v->is_object()) extra = std::move(v->get_object());
  }
  for (std::string_view key :
       {"additionalModelRequestFields", "additionalModelResponseFieldPaths", "guardrailConfig",
        "performanceConfig", "promptVariables", "requestMetadata"}) {
    if (const json::value* v = extra.if_contains(key)) body[key] = *v;
  }
  if (const json::value* top_k = extra.if_contains("top_k"); top_k && top_k->is_number()) {
    json::value& fields = body["additionalModelRequestFields"];
    if (!fields.is_object()) fields = json::object{};
    fields.get_object()["top_k"] = *top_k;
  }
  return json::serialize(body);
}

Result<std::string> EncodeTitanEmbeddingRequest(const EmbeddingRequest& req) {
  if (req.inputs.size() != 1) {
    return InvalidRequest(req.inputs.empty()
                              ? std::string("input must hold one text.")
                              : "Titan embeddings take one text per call; input holds " +
                                    std::to_string(req.inputs.size()) + ".",
                          "input", req.inputs.empty() ? "invalid_value" : "too_many_inputs");
  }
  json::object body{{"inputText", req.inputs[0]}};
  if (req.dimensions) body["dimensions"] = *req.dimensions;
  body["normalize"] = true;
  return json::serialize(body);
}

}  // namespace modelmux::dialects::bedrock
