#include "dialects/qianfan/request.hpp"

#include <algorithm>

#include "dialects/qianfan/capabilities.hpp"
#include "dialects/qianfan/wire.hpp"

namespace modelmux::dialects::qianfan {
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

// Text of a message; errors for media parts.
Result<std::string> TextOf(const Message& m, size_t i) {
  std::string text;
  for (const auto& part : m.content) {
    if (part.type != PartType::kText) {
      const char* kind = part.type == PartType::kImage   ? "an image"
                         : part.type == PartType::kVideo ? "a video"
                                                         : "an audio";
      return Bad(
          std::string("Qianfan's ERNIE chat models accept text only, and this message has ") +
              kind + " part; route it to a vision model",
          Param(i, "content"), "unsupported_content");
    }
    text += part.text;
  }
  return text;
}

struct Turn {
  std::string role;  // user | assistant | function
  std::string content;
  std::string name;              // function
  std::optional<ToolCall> call;  // assistant
};

Result<json::array> Functions(const std::string& tools) {
  json::array out;
  if (tools.empty()) return out;
  auto v = Parse(tools);
  if (!v || !v->is_array()) return Bad("tools must be a JSON array", "tools", "invalid_type");
  for (const auto& t : v->get_array()) {
    if (!t.is_object()) continue;
    const json::object& to = t.get_object();
    const json::value* fn = to.if_contains("function");
    if (fn == nullptr || !fn->is_object()) continue;  // not a function tool: ERNIE has none
    const json::object& f = fn->get_object();
    json::object o;
    o["name"] = Str(f, "name");
    if (f.contains("description")) o["description"] = f.at("description");
    o["parameters"] = f.contains("parameters") ? f.at("parameters")
                                               : json::value(json::object{{"type", "object"}});
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

Result<std::string> EncodeChatRequest(const ChatRequest& req, bool stream) {
  if (req.n && *req.n > 1) return Bad("Qianfan returns one choice only", "n");
  std::string system;
  std::vector<Turn> turns;
  for (size_t i = 0; i < req.messages.size(); ++i) {
    const Message& m = req.messages[i];
    MM_TRY(std::string text, TextOf(m, i));
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) {
      if (!system.empty() && !text.empty()) system += "\n";
      system += text;
      continue;
    }
    Turn t;
    t.content = std::move(text);
    if (m.role == Role::kUser) {
      t.role = "user";
    } else if (m.role == Role::kAssistant) {
      t.role = "assistant";
      if (m.tool_calls.size() > 1) {
        return Bad("Qianfan accepts one function call per assistant turn", Param(i, "tool_calls"));
      }
      if (!m.tool_calls.empty()) t.call = m.tool_calls.front();
    } else {  // kTool
      t.role = "function";
      t.name = m.name;
      for (const Message& prev : req.messages) {
        for (const ToolCall& c : prev.tool_calls) {
          if (!m.tool_call_id.empty() && c.id == m.tool_call_id) t.name = c.name;
        }
      }
    }
    // Merge a run of plain user (or plain assistant) messages into one turn.
    if (!turns.empty() && turns.back().role == t.role && t.role != "function" &&
        !turns.back().call && !t.call) {
      if (!turns.back().content.empty() && !t.content.empty()) turns.back().content += "\n";
      turns.back().content += t.content;
      continue;
    }
    turns.push_back(std::move(t));
  }
  if (turns.empty()) return Bad("Qianfan needs at least one user message", "messages");
  for (size_t i = 0; i < turns.size(); ++i) {
    const bool user_slot = i % 2 == 0;
    const bool is_user = turns[i].role != "assistant";
    if (user_slot != is_user) {
      return Bad(i == 0 ? "Qianfan conversations must start with a user message"
                        : "Qianfan conversations must alternate user and assistant turns",
                 "messages");
    }
  }
  if (turns.size() % 2 == 0) {
    return Bad("Qianfan conversations must end with a user message", "messages");
  }

  json::object body;
  json::array messages;
  for (auto& t : turns) {
    json::object o{{"role", t.role}, {"content", t.content}};
    if (!t.name.empty()) o["name"] = t.name;
    if (t.call)
      o["function_call"] = json::object{{"name", t.call->name}, {"arguments", t.call->arguments}};
    messages.push_back(std::move(o));
  }
  body["messages"] = std::move(messages);
  if (!system.empty()) body["system"] = system;
  if (stream) body["stream"] = true;
  if (req.temperature) {
    body["temperature"] =
        std::clamp(*req.temperature, Capabilities::kMinTemperature, Capabilities::kMaxTemperature);
  }
  if (req.top_p) body["top_p"] = std::clamp(*req.top_p, 0.0, 1.0);
  if (req.max_tokens) {
    body["max_output_tokens"] = std::max(*req.max_tokens, Capabilities::kMinOutputTokens);
  }
  if (!req.stop.empty()) {
    json::array stop;
    for (const auto& s : req.stop) stop.emplace_back(s);
    body["stop"] = std::move(stop);
  }
  if (!req.user.empty()) body["user_id"] = req.user;
  MM_TRY(json::array functions, Functions(req.tools));
  if (!functions.empty()) body["functions"] = std::move(functions);
  if (!req.extra.empty()) {
    auto extra = Parse(req.extra);
    if (extra && extra->is_object()) {
      for (std::string_view key :
           {"penalty_score", "disable_search", "enable_citation", "enable_trace"}) {
        if (const json::value* v = extra->get_object().if_contains(key)) body[key] = *v;
      }
    }
  }
  return json::serialize(body);
}

}  // namespace modelmux::dialects::qianfan
