#include "dialects/gemini/request.hpp"

#include <map>

#include "dialects/gemini/capabilities.hpp"
#include "dialects/gemini/wire.hpp"

namespace modelmux::dialects::gemini {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

std::string MessageParam(size_t i, std::string_view rest) {
  return "messages[" + std::to_string(i) + "]" + std::string(rest);
}

bool IsHttpUrl(std::string_view url) {
  return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

Result<json::object> MediaPart(const ContentPart& part, const std::string& param) {
  if (auto split = SplitDataUrl(part.url)) {
    std::string mime = split->first.empty() ? part.mime_type : split->first;
    return json::object{{"inline_data", json::object{{"mime_type", std::move(mime)},
                                                     {"data", std::move(split->second)}}}};
  }
  if (IsHttpUrl(part.url)) {
    json::object file{{"file_uri", part.url}};
    std::string mime = part.mime_type.empty() ? GuessMimeType(part.url) : part.mime_type;
    if (!mime.empty()) file["mime_type"] = std::move(mime);
    return json::object{{"file_data", std::move(file)}};
  }
  return InvalidRequest("Media URLs must be http(s) URLs or base64 data URLs.", param,
                        "invalid_image_url");
}

Result<json::array> ContentParts(const Message& m, size_t i) {
  json::array parts;
  for (size_t j = 0; j < m.content.size(); ++j) {
    const ContentPart& part = m.content[j];
    if (part.type == PartType::kText) {
      if (!part.text.empty()) parts.push_back(json::object{{"text", part.text}});
      continue;
    }
    MM_TRY(json::object media,
           MediaPart(part, MessageParam(i, ".content[" + std::to_string(j) + "]")));
    parts.push_back(std::move(media));
  }
  return parts;
}

Result<json::object> FunctionCallPart(const ToolCall& call, size_t i, size_t k) {
  json::value args = json::object{};
  if (!call.arguments.empty()) {
    auto parsed = Parse(call.arguments);
    if (!parsed || !parsed->is_object()) {
      return InvalidRequest(
          "Tool call arguments must be a JSON object.",
          MessageParam(i, ".tool_calls[" + std::to_string(k) + "].function.arguments"),
          "invalid_tool_arguments");
    }
    args = std::move(*parsed);
  }
  auto [id, signature] = SplitToolCallId(call.id);
  json::object part{{"functionCall", json::object{{"name", call.name}, {"args", std::move(args)}}}};
  if (!signature.empty()) part["thoughtSignature"] = std::move(signature);
  return part;
}

json::object FunctionResponsePart(const Message& m, std::string name) {
  const std::string text = m.Text();
  json::value response = json::object{{"result", text}};
  if (auto parsed = Parse(text); parsed && parsed->is_object()) response = std::move(*parsed);
  return json::object{
      {"functionResponse", json::object{{"name", std::move(name)}, {"response", response}}}};
}

void Append(json::array& contents, std::string_view role, json::array parts) {
  if (parts.empty()) return;
  if (!contents.empty()) {
    json::object& last = contents.back().get_object();
    if (Str(last, "role") == role) {
      json::array& into = last["parts"].get_array();
      for (auto& p : parts) into.push_back(std::move(p));
      return;
    }
  }
  contents.push_back(json::object{{"role", role}, {"parts", std::move(parts)}});
}

Result<json::array> EncodeContents(const std::vector<Message>& messages) {
  json::array contents;
  std::map<std::string, std::string, std::less<>> call_names;  // tool call id -> function name
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) continue;
    if (m.role == Role::kTool) {
      std::string name = m.name;
      if (auto it = call_names.find(m.tool_call_id); it != call_names.end()) name = it->second;
      if (name.empty()) {
        return InvalidRequest("A tool message must answer an earlier tool call of the assistant.",
                              MessageParam(i, ".tool_call_id"), "invalid_tool_call_id");
      }
      Append(contents, "user", json::array{FunctionResponsePart(m, std::move(name))});
      continue;
    }
    MM_TRY(json::array parts, ContentParts(m, i));
    if (m.role == Role::kAssistant) {
      for (size_t k = 0; k < m.tool_calls.size(); ++k) {
        const ToolCall& call = m.tool_calls[k];
        MM_TRY(json::object part, FunctionCallPart(call, i, k));
        parts.push_back(std::move(part));
        call_names[call.id] = call.name;
        call_names[SplitToolCallId(call.id).first] = call.name;
      }
    }
    Append(contents, m.role == Role::kAssistant ? "model" : "user", std::move(parts));
  }
  return contents;
}

std::optional<json::object> EncodeSystem(const std::vector<Message>& messages) {
  json::array parts;
  for (const auto& m : messages) {
    if (m.role != Role::kSystem && m.role != Role::kDeveloper) continue;
    for (const auto& part : m.content) {
      if (part.type == PartType::kText && !part.text.empty()) {
        parts.push_back(json::object{{"text", part.text}});
      }
    }
  }
  if (parts.empty()) return std::nullopt;
  return json::object{{"parts", std::move(parts)}};
}

// JSON Schema keys Gemini's OpenAPI-subset `parameters` rejects, removed at every schema level.
json::value CleanSchema(const json::value& schema) {
  if (!schema.is_object()) return schema;
  json::object out;
  for (const auto& [key, value] : schema.get_object()) {
    if (key == "$schema" || key == "additionalProperties" || key == "strict") continue;
    if (key == "properties" && value.is_object()) {
      json::object props;
      for (const auto& [name, sub] : value.get_object()) props[name] = CleanSchema(sub);
      out[key] = std::move(props);
    } else if ((key == "items" || key == "not") && value.is_object()) {
      out[key] = CleanSchema(value);
    } else if ((key == "anyOf" || key == "oneOf" || key == "allOf" || key == "prefixItems") &&
               value.is_array()) {
      json::array subs;
      for (const auto& sub : value.get_array()) subs.push_back(CleanSchema(sub));
      out[key] = std::move(subs);
    } else {
      out[key] = value;
    }
  }
  return out;
}

Result<json::array> EncodeTools(const std::string& raw) {
  auto v = Parse(raw);
  if (!v || !v->is_array()) return InvalidRequest("Invalid tools: expected an array.", "tools");
  json::array declarations;
  json::array native;
  for (const auto& t : v->get_array()) {
    if (!t.is_object()) return InvalidRequest("Invalid tools: expected objects.", "tools");
    const json::object& o = t.get_object();
    const json::object* fn = ObjectOf(o, "function");
    if (Str(o, "type") != "function" || fn == nullptr) {
      native.push_back(t);  // a Gemini tool (googleSearch, codeExecution, ...) as it came
      continue;
    }
    json::object decl{{"name", Str(*fn, "name")}};
    if (const json::value* d = fn->if_contains("description"); d && d->is_string()) {
      decl["description"] = *d;
    }
    if (const json::object* params = ObjectOf(*fn, "parameters"); params && !params->empty()) {
      decl["parameters"] = CleanSchema(*params);
    }
    declarations.push_back(std::move(decl));
  }
  json::array out;
  if (!declarations.empty()) {
    out.push_back(json::object{{"functionDeclarations", std::move(declarations)}});
  }
  for (auto& t : native) out.push_back(std::move(t));
  return out;
}

Result<json::object> EncodeToolChoice(const std::string& raw) {
  auto v = Parse(raw);
  json::object config;
  if (v && v->is_string()) {
    const std::string_view s = v->get_string();
    if (s == "auto") config["mode"] = "AUTO";
    if (s == "none") config["mode"] = "NONE";
    if (s == "required") config["mode"] = "ANY";
  } else if (v && v->is_object() && Str(v->get_object(), "type") == "function") {
    if (const json::object* fn = ObjectOf(v->get_object(), "function")) {
      config["mode"] = "ANY";
      config["allowedFunctionNames"] = json::array{json::value(Str(*fn, "name"))};
    }
  }
  if (config.empty()) return InvalidRequest("Invalid tool_choice.", "tool_choice", "invalid_value");
  return json::object{{"functionCallingConfig", std::move(config)}};
}

std::optional<int64_t> ThinkingBudget(std::string_view effort) {
  if (effort == "none" || effort == "minimal") return 0;
  if (effort == "low") return Capabilities::kThinkingBudgetLow;
  if (effort == "medium") return Capabilities::kThinkingBudgetMedium;
  if (effort == "high") return Capabilities::kThinkingBudgetHigh;
  return std::nullopt;
}

void EncodeResponseFormat(const std::string& raw, json::object& config) {
  auto v = Parse(raw);
  if (!v || !v->is_object()) return;
  const std::string type = Str(v->get_object(), "type");
  if (type == "json_object") {
    config["responseMimeType"] = "application/json";
  } else if (type == "json_schema") {
    config["responseMimeType"] = "application/json";
    const json::object* js = ObjectOf(v->get_object(), "json_schema");
    if (const json::object* schema = js != nullptr ? ObjectOf(*js, "schema") : nullptr) {
      config["responseJsonSchema"] = *schema;
    }
  }
}

json::object GenerationConfig(const ChatRequest& req) {
  json::object config;
  if (req.temperature) config["temperature"] = *req.temperature;
  if (req.top_p) config["topP"] = *req.top_p;
  if (req.max_tokens) config["maxOutputTokens"] = *req.max_tokens;
  if (!req.stop.empty()) {
    json::array stops;
    for (const auto& s : req.stop) stops.push_back(json::value(s));
    config["stopSequences"] = std::move(stops);
  }
  if (req.n && *req.n > 1) config["candidateCount"] = *req.n;
  if (req.seed) config["seed"] = *req.seed;
  if (!req.response_format.empty()) EncodeResponseFormat(req.response_format, config);
  if (auto budget = ThinkingBudget(req.reasoning_effort)) {
    config["thinkingConfig"] = json::object{{"thinkingBudget", *budget}};
  }
  return config;
}

}  // namespace

Result<std::string> EncodeGenerateContentRequest(const ChatRequest& req) {
  json::object body;
  MM_TRY(json::array contents, EncodeContents(req.messages));
  body["contents"] = std::move(contents);
  if (auto system = EncodeSystem(req.messages)) body["system_instruction"] = std::move(*system);
  if (!req.tools.empty()) {
    MM_TRY(json::array tools, EncodeTools(req.tools));
    if (!tools.empty()) body["tools"] = std::move(tools);
  }
  if (!req.tool_choice.empty()) {
    MM_TRY(body["toolConfig"], EncodeToolChoice(req.tool_choice));
  }
  json::object config = GenerationConfig(req);

  json::object extra;
  if (!req.extra.empty()) {
    auto v = Parse(req.extra);
    if (v && v->is_object()) extra = std::move(v->get_object());
  }
  if (const json::value* top_k = extra.if_contains("top_k"); top_k && top_k->is_number()) {
    config["topK"] = *top_k;
  }
  if (const json::object* more = ObjectOf(extra, "generationConfig")) {
    for (const auto& [k, v] : *more) config[k] = v;
  }
  for (std::string_view key : {"safetySettings", "cachedContent", "labels", "toolConfig"}) {
    if (const json::value* v = extra.if_contains(key)) body[key] = *v;
  }
  if (!config.empty()) body["generationConfig"] = std::move(config);
  return json::serialize(body);
}

std::string GenerateContentPath(std::string_view model, bool stream) {
  std::string path = "/";
  if (model.find('/') == std::string_view::npos) path += "models/";
  path += model;
  path += stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  return path;
}

}  // namespace modelmux::dialects::gemini
