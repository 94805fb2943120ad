#include "dialects/qianfan/response.hpp"

#include "dialects/qianfan/errors.hpp"
#include "dialects/qianfan/wire.hpp"

namespace modelmux::dialects::qianfan {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error BadResponse() {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "qianfan";
  e.message = "Malformed upstream response";
  e.code = "bad_upstream_response";
  return e;
}

}  // namespace

Result<ChatResponse> DecodeChatResponse(std::string_view body) {
  if (auto e = ErrorFromBody(body, 200)) return *e;
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse();
  const json::object& o = v->get_object();
  ChatResponse resp;
  resp.id = Str(o, "id");
  if (const json::value* c = o.if_contains("created")) resp.created = AsInt(*c).value_or(0);
  Choice choice;
  choice.message.role = Role::kAssistant;
  choice.message.content.push_back(ContentPart{PartType::kText, Str(o, "result"), "", "", ""});
  if (const json::value* fc = o.if_contains("function_call"); fc && fc->is_object()) {
    const json::object& f = fc->get_object();
    std::string args = Str(f, "arguments");
    if (args.empty()) args = "{}";
    choice.message.tool_calls.push_back(ToolCall{"call_" + resp.id, Str(f, "name"), args});
  }
  choice.finish_reason_raw = Str(o, "finish_reason");
  choice.finish_reason = ParseFinishReason(choice.finish_reason_raw, IsTrue(o, "is_truncated"));
  if (!choice.message.tool_calls.empty() && choice.finish_reason == FinishReason::kNone) {
    choice.finish_reason = FinishReason::kToolCalls;
  }
  if (choice.finish_reason == FinishReason::kNone) choice.finish_reason = FinishReason::kStop;
  resp.choices.push_back(std::move(choice));
  resp.usage = UsageOf(o);
  return resp;
}

}  // namespace modelmux::dialects::qianfan
