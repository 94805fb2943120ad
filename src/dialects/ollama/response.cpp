#include "dialects/ollama/response.hpp"

#include "dialects/ollama/errors.hpp"
#include "dialects/ollama/wire.hpp"

namespace modelmux::dialects::ollama {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error BadResponse() {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "ollama";
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
  const json::object* m = Obj(o, "message");
  if (m == nullptr) return BadResponse();
  ChatResponse resp;
  const std::string created_at = Str(o, "created_at");
  resp.id = IdFromCreatedAt(created_at);
  resp.created = ParseCreatedAt(created_at);
  resp.model = Str(o, "model");
  Choice choice;
  choice.message.role = Role::kAssistant;
  choice.message.content.push_back(ContentPart{PartType::kText, Str(*m, "content"), "", "", ""});
  choice.message.reasoning = Str(*m, "thinking");
  choice.message.tool_calls = ToolCallsOf(*m, 0);
  choice.finish_reason_raw = Str(o, "done_reason");
  choice.finish_reason =
      ParseFinishReason(choice.finish_reason_raw, !choice.message.tool_calls.empty());
  resp.choices.push_back(std::move(choice));
  resp.usage = UsageOf(o);
  return resp;
}

Result<EmbeddingResponse> DecodeEmbeddingResponse(std::string_view body) {
  if (auto e = ErrorFromBody(body, 200)) return *e;
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse();
  const json::object& o = v->get_object();
  const json::value* embeddings = o.if_contains("embeddings");
  if (embeddings == nullptr || !embeddings->is_array()) return BadResponse();
  EmbeddingResponse resp;
  resp.model = Str(o, "model");
  int index = 0;
  for (const json::value& row : embeddings->get_array()) {
    if (!row.is_array()) return BadResponse();
    Embedding e;
    e.index = index++;
    for (const json::value& x : row.get_array()) {
      if (!x.is_number()) return BadResponse();
      e.vector.push_back(static_cast<float>(x.to_number<double>()));
    }
    resp.data.push_back(std::move(e));
  }
  if (const json::value* p = o.if_contains("prompt_eval_count")) {
    resp.prompt_tokens = AsInt(*p).value_or(0);
  }
  return resp;
}

}  // namespace modelmux::dialects::ollama
