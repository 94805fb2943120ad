#include "dialects/anthropic/response.hpp"

#include "dialects/anthropic/errors.hpp"
#include "dialects/anthropic/wire.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error BadResponse() {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "anthropic";
  e.message = "Malformed upstream response";
  e.code = "bad_upstream_response";
  return e;
}

}  // namespace

std::string MessageId(std::string_view id) {
  if (id.substr(0, 4) == "msg_") return std::string(id);
  return "msg_" + std::string(id);
}

Result<ChatResponse> DecodeMessagesResponse(std::string_view body) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse();
  const json::object& o = v->get_object();
  if (Str(o, "type") == "error") return DecodeError(200, body);
  const json::value* content = o.if_contains("content");
  if (content == nullptr || !content->is_array()) return BadResponse();

  ChatResponse resp;
  resp.id = Str(o, "id");
  resp.model = Str(o, "model");
  Choice choice;
  choice.message.role = Role::kAssistant;
  for (const auto& b : content->get_array()) {
    if (!b.is_object()) continue;
    const json::object& block = b.get_object();
    const std::string type = Str(block, "type");
    if (type == "text") {
      choice.message.content.push_back(
          ContentPart{PartType::kText, Str(block, "text"), "", "", ""});
    } else if (type == "tool_use") {
      const json::value* input = block.if_contains("input");
      choice.message.tool_calls.push_back(
          ToolCall{Str(block, "id"), Str(block, "name"),
                   input != nullptr ? json::serialize(*input) : std::string("{}")});
    } else if (type == "thinking") {
      choice.message.reasoning += Str(block, "thinking");
    }
    // redacted_thinking, server_tool_use and server tool results are not represented.
  }
  choice.finish_reason_raw = Str(o, "stop_reason");
  choice.finish_reason = ParseStopReason(choice.finish_reason_raw);
  resp.choices.push_back(std::move(choice));
  if (const json::value* usage = o.if_contains("usage"); usage && usage->is_object()) {
    WireUsage wire;
    wire.Take(usage->get_object());
    resp.usage = wire.ToUsage();
  }
  return resp;
}

std::string EncodeMessagesResponse(const ChatResponse& resp) {
  json::array content;
  FinishReason finish = FinishReason::kStop;
  std::string raw;
  if (!resp.choices.empty()) {
    const Choice& c = resp.choices[0];
    const Message& m = c.message;
    if (!m.reasoning.empty()) {
      content.push_back(
          json::object{{"type", "thinking"}, {"thinking", m.reasoning}, {"signature", ""}});
    }
    for (const auto& part : m.content) {
      if (part.type == PartType::kText && !part.text.empty()) {
        content.push_back(json::object{{"type", "text"}, {"text", part.text}});
      }
    }
    for (const auto& call : m.tool_calls) {
      auto input = Parse(call.arguments);
      content.push_back(
          json::object{{"type", "tool_use"},
                       {"id", call.id},
                       {"name", call.name},
                       {"input", input && input->is_object() ? std::move(*input)
                                                             : json::value(json::object{})}});
    }
    finish = c.finish_reason;
    raw = c.finish_reason_raw;
  }
  json::object o;
  o["id"] = MessageId(resp.id);
  o["type"] = "message";
  o["role"] = "assistant";
  o["model"] = resp.model;
  o["content"] = std::move(content);
  o["stop_reason"] = StopReasonFor(finish, raw);
  o["stop_sequence"] = nullptr;
  o["usage"] = UsageToJson(resp.usage.value_or(Usage{}));
  return json::serialize(o);
}

}  // namespace modelmux::dialects::anthropic
