#include "dialects/bedrock/response.hpp"

#include "dialects/bedrock/wire.hpp"

namespace modelmux::dialects::bedrock {

namespace detail {

Error BadResponse(std::string message) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "bedrock";
  e.message = std::move(message);
  e.code = "bad_upstream_response";
  return e;
}

}  // namespace detail

using namespace detail;  // NOLINT: internal helpers of this dialect

Result<ChatResponse> DecodeConverseResponse(std::string_view body) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse("Malformed upstream response");
  const json::object& o = v->get_object();
  const json::object* output = ObjectOf(o, "output");
  const json::object* message = output != nullptr ? ObjectOf(*output, "message") : nullptr;
  if (message == nullptr) return BadResponse("The upstream response holds no output message");

  ChatResponse resp;
  Choice choice;
  Message& m = choice.message;
  m.role = Role::kAssistant;
  if (const json::array* content = ArrayOf(*message, "content")) {
    for (const auto& item : *content) {
      if (!item.is_object()) continue;
      const json::object& block = item.get_object();
      if (const json::value* text = block.if_contains("text"); text && text->is_string()) {
        if (m.content.empty()) m.content.push_back(ContentPart{});
        m.content[0].text += text->get_string();
      } else if (const json::object* use = ObjectOf(block, "toolUse")) {
        const json::value* input = use->if_contains("input");
        std::string args = input == nullptr || input->is_null() ? "{}" : json::serialize(*input);
        m.tool_calls.push_back(
            ToolCall{Str(*use, "toolUseId"), Str(*use, "name"), std::move(args)});
      } else if (const json::object* reasoning = ObjectOf(block, "reasoningContent")) {
        if (const json::object* rt = ObjectOf(*reasoning, "reasoningText")) {
          m.reasoning += Str(*rt, "text");
        }
      }
    }
  }
  choice.finish_reason_raw = Str(o, "stopReason");
  choice.finish_reason = ParseStopReason(choice.finish_reason_raw);
  resp.choices.push_back(std::move(choice));
  if (const json::object* usage = ObjectOf(o, "usage")) resp.usage = UsageFrom(*usage);
  return resp;
}

Result<EmbeddingResponse> DecodeTitanEmbeddingResponse(std::string_view body) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse("Malformed upstream response");
  const json::object& o = v->get_object();
  const json::array* values = ArrayOf(o, "embedding");
  if (values == nullptr) return BadResponse("The upstream response holds no embedding");
  Embedding e;
  e.vector.reserve(values->size());
  for (const auto& x : *values) {
    if (!x.is_number()) return BadResponse("The upstream embedding holds a non-number");
    e.vector.push_back(static_cast<float>(x.to_number<double>()));
  }
  EmbeddingResponse resp;
  resp.data.push_back(std::move(e));
  if (const json::value* n = o.if_contains("inputTextTokenCount")) {
    resp.prompt_tokens = AsInt(*n).value_or(0);
  }
  return resp;
}

}  // namespace modelmux::dialects::bedrock
