#include "dialects/hunyuan/request.hpp"

#include <algorithm>

#include "dialects/hunyuan/capabilities.hpp"
#include "dialects/hunyuan/wire.hpp"

namespace modelmux::dialects::hunyuan {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error Bad(std::string message, std::string param, std::string code = "invalid_value") {
  return InvalidRequest(std::move(message), std::move(param), std::move(code));
}

std::string Param(size_t i, std::string_view field = {}) {
  std::string p = "messages[" + std::to_string(i) + "]";
  if (!field.empty()) p += "." + std::string(field);
  return p;
}

bool TextOnly(const Message& m) {
  return std::all_of(m.content.begin(), m.content.end(),
                     [](const ContentPart& p) { return p.type == PartType::kText; });
}

// {Role, Content} or {Role, Contents} for a user message.
Result<json::object> UserMessage(const Message& m, size_t i) {
  json::object o{{"Role", "user"}};
  if (TextOnly(m)) {
    o["Content"] = m.Text();
    return o;
  }
  json::array contents;
  for (const ContentPart& part : m.content) {
    if (part.type == PartType::kText) {
      contents.push_back(json::object{{"Type", "text"}, {"Text", part.text}});
    } else if (part.type == PartType::kImage) {
      contents.push_back(
          json::object{{"Type", "image_url"}, {"ImageUrl", json::object{{"Url", part.url}}}});
    } else {
      return Bad("Hunyuan accepts text and images only", Param(i, "content"),
                 "unsupported_content");
    }
  }
  o["Contents"] = std::move(contents);
  return o;
}

// One Hunyuan Tool from an OpenAI tool object; nullopt for non-function tools.
std::optional<json::object> ToolOf(const json::object& t) {
  const json::object* f = Obj(t, "function");
  if (f == nullptr) return std::nullopt;
  json::object fn{{"Name", Str(*f, "name")}};
  const json::value* params = f->if_contains("parameters");
  fn["Parameters"] = params != nullptr ? json::serialize(*params) : R"({"type":"object"})";
  if (std::string d = Str(*f, "description"); !d.empty()) fn["Description"] = d;
  return json::object{{"Type", "function"}, {"Function", std::move(fn)}};
}

Status AddTools(const ChatRequest& req, json::object& body) {
  json::array tools;
  if (!req.tools.empty()) {
    auto v = Parse(req.tools);
    if (!v || !v->is_array()) return Bad("tools must be a JSON array", "tools", "invalid_type");
    for (const json::value& t : v->get_array()) {
      if (!t.is_object()) continue;
      if (auto tool = ToolOf(t.get_object())) tools.push_back(std::move(*tool));
    }
  }
  if (req.tool_choice.empty()) {
    if (!tools.empty()) body["Tools"] = std::move(tools);
    return OkStatus();
  }
  auto choice = Parse(req.tool_choice);
  if (!choice) return Bad("tool_choice must be JSON", "tool_choice", "invalid_type");
  if (choice->is_string()) {
    const std::string_view c = choice->get_string();
    body["ToolChoice"] = c == "none" ? "none" : "auto";  // Hunyuan has no "required"
  } else if (choice->is_object()) {
    const json::object* f = Obj(choice->get_object(), "function");
    const std::string name = f != nullptr ? Str(*f, "name") : std::string();
    const json::value* custom = nullptr;
    for (const json::value& t : tools) {
      if (t.at("Function").at("Name").as_string() == name) custom = &t;
    }
    if (custom == nullptr) {
      return Bad("tool_choice names a function that is not in tools", "tool_choice");
    }
    body["ToolChoice"] = "custom";
    body["CustomTool"] = *custom;
  }
  if (!tools.empty()) body["Tools"] = std::move(tools);
  return OkStatus();
}

void AddExtra(const std::string& extra, json::object& body) {
  if (extra.empty()) return;
  auto v = Parse(extra);
  if (!v || !v->is_object()) return;
  for (const auto& [key, value] : v->get_object()) {
    if (key == "enable_enhancement") {
      body["EnableEnhancement"] = value;
      continue;
    }
    const bool pascal = !key.empty() && key[0] >= 'A' && key[0] <= 'Z';
    if (!pascal || key == "Model" || key == "Messages" || key == "Stream") continue;
    body[key] = value;
  }
}

}  // namespace

Result<std::string> EncodeChatRequest(const ChatRequest& req, std::string_view model, bool stream) {
  if (req.n && *req.n > 1) return Bad("Hunyuan returns one choice only", "n");
  if (req.messages.empty()) return Bad("Hunyuan needs at least one message", "messages");
  std::string system;
  bool has_system = false;
  json::array messages;
  bool last_plain_user = false;  // the previous wire message is a plain-text user message
  for (size_t i = 0; i < req.messages.size(); ++i) {
    const Message& m = req.messages[i];
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) {
      if (!TextOnly(m)) return Bad("system messages take text only", Param(i, "content"));
      if (has_system && !system.empty()) system += "\n";
      system += m.Text();
      has_system = true;
      continue;
    }
    if (m.role == Role::kUser) {
      const bool plain = TextOnly(m);
      if (plain && last_plain_user) {
        json::string& prev = messages.back().as_object()["Content"].as_string();
        std::string joined(prev);
        joined += "\n" + m.Text();
        prev = joined;
        continue;
      }
      MM_TRY(json::object o, UserMessage(m, i));
      messages.push_back(std::move(o));
      last_plain_user = plain;
      continue;
    }
    last_plain_user = false;
    if (!TextOnly(m)) return Bad("Hunyuan accepts images from users only", Param(i, "content"));
    if (m.role == Role::kAssistant) {
      json::object o{{"Role", "assistant"}, {"Content", m.Text()}};
      if (!m.tool_calls.empty()) {
        json::array calls;
        for (const ToolCall& c : m.tool_calls) {
          calls.push_back(json::object{
              {"Id", c.id},
              {"Type", "function"},
              {"Function", json::object{{"Name", c.name}, {"Arguments", c.arguments}}}});
        }
        o["ToolCalls"] = std::move(calls);
      }
      messages.push_back(std::move(o));
    } else {  // kTool
      messages.push_back(
          json::object{{"Role", "tool"}, {"Content", m.Text()}, {"ToolCallId", m.tool_call_id}});
    }
  }
  if (has_system) {
    messages.insert(messages.begin(), json::object{{"Role", "system"}, {"Content", system}});
  }

  json::object body;
  body["Model"] = model;
  body["Messages"] = std::move(messages);
  if (stream) body["Stream"] = true;
  if (req.temperature) {
    body["Temperature"] = std::clamp(*req.temperature, 0.0, Capabilities::kMaxTemperature);
  }
  if (req.top_p) body["TopP"] = std::clamp(*req.top_p, 0.0, 1.0);
  if (!req.stop.empty()) {
    json::array stop;
    for (const auto& s : req.stop) stop.emplace_back(s);
    body["StopWords"] = std::move(stop);
  }
  MM_RETURN_IF_ERROR(AddTools(req, body));
  AddExtra(req.extra, body);
  return json::serialize(body);
}

Result<std::string> EncodeEmbeddingRequest(const EmbeddingRequest& req) {
  if (req.inputs.size() != 1) {
    return Bad("Hunyuan's GetEmbedding takes exactly one input per call", "input");
  }
  return json::serialize(json::object{{"Input", req.inputs.front()}});
}

}  // namespace modelmux::dialects::hunyuan
