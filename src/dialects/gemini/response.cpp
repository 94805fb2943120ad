#include "dialects/gemini/response.hpp"

#include "dialects/gemini/errors.hpp"
#include "dialects/gemini/wire.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::gemini {

namespace detail {

Error PromptBlocked(std::string_view reason) {
  Error e;
  e.kind = ErrorKind::kContentFilter;
  e.provider = "gemini";
  e.code = "content_filter";
  e.provider_code = text::MaskSecrets(reason);
  e.upstream_status = 200;
  e.message = "The prompt was blocked by the provider's safety filters (" + e.provider_code + ")";
  return e;
}

Error BadResponse(std::string message) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "gemini";
  e.message = std::move(message);
  e.code = "bad_upstream_response";
  return e;
}

}  // namespace detail

namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Choice DecodeCandidate(const json::object& cand, int position) {
  Choice choice;
  choice.index = position;
  if (const json::value* index = cand.if_contains("index")) {
    choice.index = static_cast<int>(AsInt(*index).value_or(position));
  }
  Message& m = choice.message;
  m.role = Role::kAssistant;
  const json::object* content = ObjectOf(cand, "content");
  const json::array* parts = content != nullptr ? ArrayOf(*content, "parts") : nullptr;
  for (size_t i = 0; parts != nullptr && i < parts->size(); ++i) {
    if (!(*parts)[i].is_object()) continue;
    const json::object& part = (*parts)[i].get_object();
    const json::value* thought = part.if_contains("thought");
    const bool is_thought = thought != nullptr && thought->is_bool() && thought->get_bool();
    if (const json::value* text = part.if_contains("text"); text && text->is_string()) {
      if (is_thought) {
        m.reasoning += text->get_string();
      } else {
        if (m.content.empty()) m.content.push_back(ContentPart{});
        m.content[0].text += text->get_string();
      }
    } else if (const json::object* call = ObjectOf(part, "functionCall")) {
      std::string name = Str(*call, "name");
      std::string args = ArgsText(*call);
      std::string id =
          ToolCallId(Str(*call, "id"), name, args, static_cast<int>(m.tool_calls.size()),
                     Str(part, "thoughtSignature"));
      m.tool_calls.push_back(ToolCall{std::move(id), std::move(name), std::move(args)});
    }
  }
  choice.finish_reason_raw = Str(cand, "finishReason");
  choice.finish_reason = ParseFinishReason(choice.finish_reason_raw, !m.tool_calls.empty());
  return choice;
}

}  // namespace

Result<ChatResponse> DecodeGenerateContentResponse(std::string_view body) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse("Malformed upstream response");
  const json::object& o = v->get_object();
  if (o.contains("error")) return DecodeError(200, body);
  const json::array* candidates = ArrayOf(o, "candidates");
  if (candidates == nullptr || candidates->empty()) {
    const json::object* feedback = ObjectOf(o, "promptFeedback");
    std::string reason = feedback != nullptr ? Str(*feedback, "blockReason") : "";
    if (!reason.empty()) return PromptBlocked(reason);
    return BadResponse("The upstream response holds no candidates");
  }
  ChatResponse resp;
  resp.id = Str(o, "responseId");
  resp.model = Str(o, "modelVersion");
  for (size_t i = 0; i < candidates->size(); ++i) {
    if (!(*candidates)[i].is_object()) continue;
    resp.choices.push_back(DecodeCandidate((*candidates)[i].get_object(), static_cast<int>(i)));
  }
  if (const json::object* usage = ObjectOf(o, "usageMetadata")) resp.usage = UsageFrom(*usage);
  return resp;
}

}  // namespace modelmux::dialects::gemini
