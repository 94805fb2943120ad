#include "dialects/anthropic/request.hpp"

#include <algorithm>

#include "dialects/anthropic/capabilities.hpp"
#include "dialects/anthropic/wire.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

// Keys of ChatRequest::extra that Anthropic knows (metadata is handled apart: only its user_id).
constexpr std::string_view kPassThrough[] = {"top_k",     "thinking",    "service_tier",
                                             "container", "mcp_servers", "context_management"};

std::string MessageParam(size_t i, std::string_view rest) {
  return "messages[" + std::to_string(i) + "]" + std::string(rest);
}

bool IsHttpUrl(std::string_view url) {
  return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

Result<json::object> ImageBlock(const ContentPart& part, const std::string& param) {
  if (auto split = SplitDataUrl(part.url)) {
    std::string media = split->first.empty() ? part.mime_type : split->first;
    json::object source{
        {"type", "base64"}, {"media_type", std::move(media)}, {"data", std::move(split->second)}};
    return json::object{{"type", "image"}, {"source", std::move(source)}};
  }
  if (IsHttpUrl(part.url)) {
    return json::object{{"type", "image"},
                        {"source", json::object{{"type", "url"}, {"url", part.url}}}};
  }
  // A file uploaded through the Files API by the gateway's media stage (upstream/file_upload.hpp).
  if (part.url.starts_with(kFileIdScheme) && part.url.size() > kFileIdScheme.size()) {
    json::object source{{"type", "file"}, {"file_id", part.url.substr(kFileIdScheme.size())}};
    return json::object{{"type", "image"}, {"source", std::move(source)}};
  }
  return InvalidRequest("Image URLs must be http(s) URLs or base64 data URLs.", param,
                        "invalid_image_url");
}

// Content blocks of a message's parts (empty text parts skipped).
Result<json::array> PartBlocks(const Message& m, size_t i) {
  json::array blocks;
  for (size_t j = 0; j < m.content.size(); ++j) {
    const ContentPart& part = m.content[j];
    const std::string param = MessageParam(i, ".content[" + std::to_string(j) + "]");
    switch (part.type) {
      case PartType::kText:
        if (!part.text.empty())
          blocks.push_back(json::object{{"type", "text"}, {"text", part.text}});
        break;
      case PartType::kImage: {
        MM_TRY(json::object block, ImageBlock(part, param));
        blocks.push_back(std::move(block));
        break;
      }
      case PartType::kVideo:
      case PartType::kAudio:
        return InvalidRequest("Anthropic models accept text and image input only.", param,
                              "unsupported_content");
    }
  }
  return blocks;
}

bool SendAsString(const Message& m) {
  return m.content_is_string && m.content.size() == 1 && m.content[0].type == PartType::kText &&
         m.tool_calls.empty();
}

struct Turn {
  std::string role;
  std::optional<std::string> text;  // the whole content as a string, while that is possible
  json::array blocks;
};

void Append(std::vector<Turn>& turns, std::string_view role, const Message* as_string,
            json::array blocks) {
  if (turns.empty() || turns.back().role != role) {
    Turn t{std::string(role), std::nullopt, std::move(blocks)};
    if (as_string != nullptr) t.text = as_string->content[0].text;
    turns.push_back(std::move(t));
    return;
  }
  Turn& t = turns.back();
  if (t.text) {
    t.blocks.clear();
    if (!t.text->empty()) t.blocks.push_back(json::object{{"type", "text"}, {"text", *t.text}});
    t.text.reset();
  }
  for (auto& b : blocks) t.blocks.push_back(std::move(b));
}

Result<json::array> EncodeMessages(const std::vector<Message>& messages) {
  std::vector<Turn> turns;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) continue;
    MM_TRY(json::array blocks, PartBlocks(m, i));
    if (m.role == Role::kTool) {
      json::object result{{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}};
      if (SendAsString(m)) {
        result["content"] = m.content[0].text;
      } else if (!blocks.empty()) {
        result["content"] = std::move(blocks);
      }
      Append(turns, "user", nullptr, json::array{std::move(result)});
      continue;
    }
    const std::string_view role = m.role == Role::kAssistant ? "assistant" : "user";
    for (size_t k = 0; k < m.tool_calls.size() && m.role == Role::kAssistant; ++k) {
      const ToolCall& call = m.tool_calls[k];
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
      blocks.push_back(json::object{
          {"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}});
    }
    const bool as_string = SendAsString(m);
    if (!as_string && blocks.empty()) continue;  // nothing Anthropic would accept
    Append(turns, role, as_string ? &m : nullptr, std::move(blocks));
  }
  json::array out;
  for (auto& t : turns) {
    json::value content = t.text ? json::value(*t.text) : json::value(std::move(t.blocks));
    out.push_back(json::object{{"role", t.role}, {"content", std::move(content)}});
  }
  return out;
}

std::optional<json::value> EncodeSystem(const std::vector<Message>& messages) {
  std::vector<const Message*> system;
  for (const auto& m : messages) {
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) system.push_back(&m);
  }
  if (system.empty()) return std::nullopt;
  if (system.size() == 1 && SendAsString(*system[0]))
    return json::value(system[0]->content[0].text);
  json::array blocks;
  for (const Message* m : system) {
    for (const auto& part : m->content) {
      if (part.type == PartType::kText && !part.text.empty()) {
        blocks.push_back(json::object{{"type", "text"}, {"text", part.text}});
      }
    }
  }
  return json::value(std::move(blocks));
}

Result<json::array> EncodeTools(const std::string& raw) {
  auto v = Parse(raw);
  if (!v || !v->is_array()) return InvalidRequest("Invalid tools: expected an array.", "tools");
  json::array out;
  for (const auto& t : v->get_array()) {
    if (!t.is_object()) return InvalidRequest("Invalid tools: expected objects.", "tools");
    const json::object& o = t.get_object();
    const json::value* fn = o.if_contains("function");
    if (Str(o, "type") != "function" || fn == nullptr || !fn->is_object()) {
      out.push_back(t);  // an Anthropic tool (custom or server tool) as it came
      continue;
    }
    const json::object& f = fn->get_object();
    json::object tool{{"name", Str(f, "name")}};
    if (const json::value* d = f.if_contains("description"); d && d->is_string()) {
      tool["description"] = *d;
    }
    const json::value* params = f.if_contains("parameters");
    tool["input_schema"] =
        params != nullptr && params->is_object()
            ? *params
            : json::value(json::object{{"type", "object"}, {"properties", json::object{}}});
    out.push_back(std::move(tool));
  }
  return out;
}

Result<json::object> EncodeToolChoice(const std::string& raw) {
  auto v = Parse(raw);
  if (v && v->is_string()) {
    const std::string_view s = v->get_string();
    if (s == "auto") return json::object{{"type", "auto"}};
    if (s == "required") return json::object{{"type", "any"}};
    if (s == "none") return json::object{{"type", "none"}};
  } else if (v && v->is_object()) {
    const json::object& o = v->get_object();
    const std::string type = Str(o, "type");
    if (type == "function") {
      const json::value* fn = o.if_contains("function");
      if (fn != nullptr && fn->is_object()) {
        return json::object{{"type", "tool"}, {"name", Str(fn->get_object(), "name")}};
      }
    } else if (type == "auto" || type == "any" || type == "tool" || type == "none") {
      return o;
    }
  }
  return InvalidRequest("Invalid tool_choice.", "tool_choice", "invalid_value");
}

}  // namespace

bool ReferencesFiles(const ChatRequest& request) {
  for (const auto& m : request.messages) {
    for (const auto& p : m.content) {
      if (p.type == PartType::kImage && p.url.starts_with(kFileIdScheme)) return true;
    }
  }
  return false;
}

Result<std::string> EncodeMessagesRequest(const ChatRequest& req, std::string_view upstream_model,
                                          bool stream) {
  if (req.n && *req.n > 1) {
    return InvalidRequest("Anthropic models return one choice per request (n must be 1).", "n",
                          "unsupported_parameter");
  }
  json::object body;
  body["model"] = upstream_model.empty() ? std::string_view(req.model) : upstream_model;
  body["max_tokens"] = req.max_tokens.value_or(Capabilities::kDefaultMaxTokens);
  if (auto system = EncodeSystem(req.messages)) body["system"] = std::move(*system);
  MM_TRY(body["messages"], EncodeMessages(req.messages));
  if (req.temperature) {
    body["temperature"] = std::clamp(*req.temperature, 0.0, Capabilities::kMaxTemperature);
  }
  if (req.top_p) body["top_p"] = *req.top_p;
  if (!req.stop.empty()) {
    json::array stops;
    for (const auto& s : req.stop) stops.push_back(json::value(s));
    body["stop_sequences"] = std::move(stops);
  }
  if (stream) body["stream"] = true;
  if (!req.tools.empty()) {
    MM_TRY(body["tools"], EncodeTools(req.tools));
  }
  if (!req.tool_choice.empty()) {
    MM_TRY(body["tool_choice"], EncodeToolChoice(req.tool_choice));
  }

  json::object extra;
  if (!req.extra.empty()) {
    auto v = Parse(req.extra);
    if (v && v->is_object()) extra = std::move(v->get_object());
  }
  for (const auto& key : kPassThrough) {
    if (const json::value* v = extra.if_contains(key)) body[key] = *v;
  }
  std::string user_id = req.user;
  if (const json::value* meta = extra.if_contains("metadata"); meta && meta->is_object()) {
    if (user_id.empty()) user_id = Str(meta->get_object(), "user_id");
  }
  if (!user_id.empty()) body["metadata"] = json::object{{"user_id", std::move(user_id)}};
  const json::value* parallel = extra.if_contains("parallel_tool_calls");
  if (parallel != nullptr && parallel->is_bool() && !parallel->get_bool() &&
      body.contains("tools")) {
    json::value& choice = body["tool_choice"];
    if (!choice.is_object()) choice = json::object{{"type", "auto"}};
    if (Str(choice.get_object(), "type") != "none") {
      choice.get_object()["disable_parallel_tool_use"] = true;
    }
  }
  return json::serialize(body);
}

}  // namespace modelmux::dialects::anthropic
