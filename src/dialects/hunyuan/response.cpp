#include "dialects/hunyuan/response.hpp"

#include "dialects/hunyuan/errors.hpp"
#include "dialects/hunyuan/wire.hpp"

namespace modelmux::dialects::hunyuan {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error BadResponse() {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "hunyuan";
  e.message = "Malformed upstream response";
  e.code = "bad_upstream_response";
  return e;
}

// The Response object (or the body itself when it has no wrapper).
const json::object& Inner(const json::object& o) {
  const json::object* inner = Obj(o, "Response");
  return inner != nullptr ? *inner : o;
}

std::vector<ToolCall> ToolCallsOf(const json::object& m) {
  std::vector<ToolCall> out;
  const json::value* calls = m.if_contains("ToolCalls");
  if (calls == nullptr || !calls->is_array()) return out;
  for (const json::value& c : calls->get_array()) {
    if (!c.is_object()) continue;
    const json::object* f = Obj(c.get_object(), "Function");
    ToolCall call;
    call.id = Str(c.get_object(), "Id");
    if (f != nullptr) {
      call.name = Str(*f, "Name");
      call.arguments = Str(*f, "Arguments");
    }
    if (call.arguments.empty()) call.arguments = "{}";
    out.push_back(std::move(call));
  }
  return out;
}

}  // namespace

Result<ChatResponse> DecodeChatResponse(std::string_view body) {
  if (auto e = ErrorFromBody(body, 200)) return *e;
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse();
  const json::object& o = Inner(v->get_object());
  const json::value* choices = o.if_contains("Choices");
  if (choices == nullptr || !choices->is_array()) return BadResponse();
  ChatResponse resp;
  resp.id = Str(o, "Id");
  if (const json::value* c = o.if_contains("Created")) resp.created = AsInt(*c).value_or(0);
  int index = 0;
  for (const json::value& c : choices->get_array()) {
    if (!c.is_object()) continue;
    const json::object& co = c.get_object();
    Choice choice;
    choice.index = index++;
    if (const json::value* i = co.if_contains("Index")) {
      choice.index = static_cast<int>(AsInt(*i).value_or(choice.index));
    }
    choice.message.role = Role::kAssistant;
    if (const json::object* m = Obj(co, "Message")) {
      choice.message.content.push_back(
          ContentPart{PartType::kText, Str(*m, "Content"), "", "", ""});
      choice.message.reasoning = Str(*m, "ReasoningContent");
      choice.message.tool_calls = ToolCallsOf(*m);
    }
    choice.finish_reason_raw = Str(co, "FinishReason");
    choice.finish_reason = ParseFinishReason(choice.finish_reason_raw);
    if (choice.finish_reason == FinishReason::kNone) {
      choice.finish_reason =
          choice.message.tool_calls.empty() ? FinishReason::kStop : FinishReason::kToolCalls;
    }
    resp.choices.push_back(std::move(choice));
  }
  if (resp.choices.empty()) return BadResponse();
  resp.usage = UsageOf(o);
  return resp;
}

Result<EmbeddingResponse> DecodeEmbeddingResponse(std::string_view body) {
  if (auto e = ErrorFromBody(body, 200)) return *e;
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse();
  const json::object& o = Inner(v->get_object());
  const json::value* data = o.if_contains("Data");
  if (data == nullptr || !data->is_array()) return BadResponse();
  EmbeddingResponse resp;
  int index = 0;
  for (const json::value& d : data->get_array()) {
    const json::object* item = d.if_object();
    const json::value* vec = item != nullptr ? item->if_contains("Embedding") : nullptr;
    if (vec == nullptr || !vec->is_array()) return BadResponse();
    Embedding e;
    e.index = index++;
    if (const json::value* i = item->if_contains("Index")) {
      e.index = static_cast<int>(AsInt(*i).value_or(e.index));
    }
    for (const json::value& x : vec->get_array()) {
      if (!x.is_number()) return BadResponse();
      e.vector.push_back(static_cast<float>(x.to_number<double>()));
    }
    resp.data.push_back(std::move(e));
  }
  if (const json::object* u = Obj(o, "Usage")) {
    if (const json::value* p = u->if_contains("PromptTokens")) {
      resp.prompt_tokens = AsInt(*p).value_or(0);
    }
  }
  return resp;
}

}  // namespace modelmux::dialects::hunyuan
