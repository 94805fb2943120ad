#include "dialects/dashscope/response.hpp"

#include <algorithm>

#include "dialects/dashscope/errors.hpp"
#include "dialects/dashscope/wire.hpp"

namespace modelmux::dialects::dashscope {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

std::vector<ToolCall> ToolCallsOf(const json::object& message) {
  std::vector<ToolCall> calls;
  const json::value* tc = message.if_contains("tool_calls");
  if (tc == nullptr || !tc->is_array()) return calls;
  for (const json::value& c : tc->get_array()) {
    const json::object* co = c.if_object();
    if (co == nullptr) continue;
    ToolCall call;
    call.id = Str(*co, "id");
    if (const json::object* f = Obj(*co, "function")) {
      call.name = Str(*f, "name");
      call.arguments = Str(*f, "arguments");
    }
    if (call.arguments.empty()) call.arguments = "{}";
    calls.push_back(std::move(call));
  }
  return calls;
}

}  // namespace

Error BadResponse(std::string message) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "dashscope";
  e.message = std::move(message);
  e.code = "bad_upstream_response";
  return e;
}

Result<ChatResponse> DecodeChatResponse(std::string_view body) {
  if (auto e = ErrorFromBody(body, 200)) return *e;
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse("Malformed upstream response");
  const json::object& o = v->get_object();
  const json::object* output = Obj(o, "output");
  if (output == nullptr) return BadResponse("Upstream response without output");
  ChatResponse resp;
  resp.id = Str(o, "request_id");
  resp.usage = UsageOf(o);
  auto finish = [](Choice& choice, std::string raw) {
    choice.finish_reason_raw = std::move(raw);
    choice.finish_reason = ParseFinishReason(choice.finish_reason_raw);
    if (choice.finish_reason == FinishReason::kNone) {
      choice.finish_reason =
          choice.message.tool_calls.empty() ? FinishReason::kStop : FinishReason::kToolCalls;
    }
  };
  const json::value* choices = output->if_contains("choices");
  if (choices != nullptr && choices->is_array()) {
    int index = 0;
    for (const json::value& c : choices->get_array()) {
      const json::object* co = c.if_object();
      if (co == nullptr) continue;
      Choice choice;
      choice.index = index++;
      choice.message.role = Role::kAssistant;
      if (const json::object* m = Obj(*co, "message")) {
        choice.message.content.push_back(
            ContentPart{PartType::kText, ContentText(m->if_contains("content")), "", "", ""});
        choice.message.reasoning = Str(*m, "reasoning_content");
        choice.message.tool_calls = ToolCallsOf(*m);
      }
      finish(choice, RawFinishReason(*co));
      resp.choices.push_back(std::move(choice));
    }
    return resp;
  }
  if (output->contains("text")) {  // result_format "text"
    Choice choice;
    choice.message.role = Role::kAssistant;
    choice.message.content.push_back(
        ContentPart{PartType::kText, Str(*output, "text"), "", "", ""});
    finish(choice, RawFinishReason(*output));
    resp.choices.push_back(std::move(choice));
    return resp;
  }
  return BadResponse("Upstream response without choices");
}

Result<EmbeddingResponse> DecodeEmbeddingsResponse(std::string_view body) {
  if (auto e = ErrorFromBody(body, 200)) return *e;
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse("Malformed upstream response");
  const json::object& o = v->get_object();
  const json::object* output = Obj(o, "output");
  const json::value* list = output != nullptr ? output->if_contains("embeddings") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return BadResponse("Upstream embeddings response without output.embeddings");
  }
  EmbeddingResponse resp;
  for (const json::value& item : list->get_array()) {
    const json::object* io = item.if_object();
    const json::value* vec = io != nullptr ? io->if_contains("embedding") : nullptr;
    if (vec == nullptr || !vec->is_array()) return BadResponse("Malformed upstream embedding");
    Embedding e;
    if (const json::value* idx = io->if_contains("text_index")) {
      e.index = static_cast<int>(AsInt(*idx).value_or(0));
    } else {
      e.index = static_cast<int>(resp.data.size());
    }
    e.vector.reserve(vec->get_array().size());
    for (const json::value& x : vec->get_array()) {
      if (!x.is_number()) return BadResponse("Malformed upstream embedding");
      e.vector.push_back(static_cast<float>(x.to_number<double>()));
    }
    resp.data.push_back(std::move(e));
  }
  std::stable_sort(resp.data.begin(), resp.data.end(),
                   [](const Embedding& a, const Embedding& b) { return a.index < b.index; });
  if (const json::object* u = Obj(o, "usage")) {
    if (const json::value* t = u->if_contains("total_tokens")) {
      resp.prompt_tokens = AsInt(*t).value_or(0);
    }
  }
  return resp;
}

}  // namespace modelmux::dialects::dashscope
