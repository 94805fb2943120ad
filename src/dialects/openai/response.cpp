#include "dialects/openai/response.hpp"

#include "dialects/openai/json_util.hpp"

namespace modelmux::dialects::openai {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error BadResponse(std::string what) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.message = "Malformed upstream response: " + what;
  e.code = "bad_upstream_response";
  e.provider = "openai";
  return e;
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  return AsInt(*v).value_or(0);
}

// Text of a content value: a string, or an array of {type:"text", text} parts.
std::string ContentText(const json::value* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  std::string out;
  if (v->is_array()) {
    for (const auto& p : v->get_array()) {
      if (p.is_object()) out += Str(p.get_object(), "text");
    }
  }
  return out;
}

Message DecodeAssistant(const json::object& m) {
  Message msg;
  msg.role = Role::kAssistant;
  const json::value* content = m.if_contains("content");
  if (content != nullptr && !content->is_null()) {
    msg.content.push_back(ContentPart{PartType::kText, ContentText(content), "", "", ""});
  }
  msg.reasoning = Str(m, "reasoning_content");
  if (const json::value* calls = m.if_contains("tool_calls"); calls && calls->is_array()) {
    for (const auto& c : calls->get_array()) {
      if (!c.is_object()) continue;
      ToolCall call;
      call.id = Str(c.get_object(), "id");
      if (const json::value* fn = c.get_object().if_contains("function"); fn && fn->is_object()) {
        call.name = Str(fn->get_object(), "name");
        call.arguments = Str(fn->get_object(), "arguments");
      }
      msg.tool_calls.push_back(std::move(call));
    }
  }
  return msg;
}

json::value FinishReasonJson(FinishReason r) {
  if (r == FinishReason::kNone) return nullptr;
  return json::value(FinishReasonName(r));
}

json::object EncodeAssistant(const Message& m) {
  json::object o;
  o["role"] = "assistant";
  if (m.content.empty() && !m.tool_calls.empty()) {
    o["content"] = nullptr;
  } else {
    o["content"] = m.Text();
  }
  if (!m.reasoning.empty()) o["reasoning_content"] = m.reasoning;
  if (!m.tool_calls.empty()) {
    json::array calls;
    for (const auto& c : m.tool_calls) {
      calls.push_back(
          json::object{{"id", c.id},
                       {"type", "function"},
                       {"function", json::object{{"name", c.name}, {"arguments", c.arguments}}}});
    }
    o["tool_calls"] = std::move(calls);
  }
  o["refusal"] = nullptr;
  return o;
}

json::object Envelope(const ChatResponse& r, std::string_view object) {
  json::object o;
  o["id"] = r.id;
  o["object"] = object;
  o["created"] = r.created;
  o["model"] = r.model;
  return o;
}

}  // namespace

Result<ChatResponse> DecodeChatResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return BadResponse("not a JSON object");
  const json::object& o = v.get_object();
  const json::value* choices = o.if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return BadResponse("no choices array");
  ChatResponse r;
  r.id = Str(o, "id");
  r.model = Str(o, "model");
  r.created = Int(o, "created");
  r.system_fingerprint = Str(o, "system_fingerprint");
  for (const auto& c : choices->get_array()) {
    if (!c.is_object()) return BadResponse("choice is not an object");
    const json::object& co = c.get_object();
    Choice choice;
    choice.index = static_cast<int>(Int(co, "index"));
    if (const json::value* m = co.if_contains("message"); m && m->is_object()) {
      choice.message = DecodeAssistant(m->get_object());
    } else {
      choice.message.role = Role::kAssistant;
      choice.message.content.push_back(ContentPart{PartType::kText, Str(co, "text"), "", "", ""});
    }
    choice.finish_reason_raw = Str(co, "finish_reason");
    choice.finish_reason = ParseOpenAiFinishReason(choice.finish_reason_raw);
    r.choices.push_back(std::move(choice));
  }
  r.usage = UsageFromBody(o);
  return r;
}

std::string EncodeChatResponse(const ChatResponse& resp) {
  json::object o = Envelope(resp, "chat.completion");
  json::array choices;
  for (const auto& c : resp.choices) {
    choices.push_back(json::object{{"index", c.index},
                                   {"message", EncodeAssistant(c.message)},
                                   {"logprobs", nullptr},
                                   {"finish_reason", FinishReasonJson(c.finish_reason)}});
  }
  o["choices"] = std::move(choices);
  if (resp.usage) o["usage"] = UsageToJson(*resp.usage);
  if (!resp.system_fingerprint.empty()) o["system_fingerprint"] = resp.system_fingerprint;
  return json::serialize(o);
}

std::string EncodeCompletionResponse(const ChatResponse& resp) {
  json::object o = Envelope(resp, "text_completion");
  json::array choices;
  for (const auto& c : resp.choices) {
    choices.push_back(json::object{{"text", c.message.Text()},
                                   {"index", c.index},
                                   {"logprobs", nullptr},
                                   {"finish_reason", FinishReasonJson(c.finish_reason)}});
  }
  o["choices"] = std::move(choices);
  if (resp.usage) {
    const Usage& u = *resp.usage;
    o["usage"] = json::object{{"prompt_tokens", u.prompt_tokens},
                              {"completion_tokens", u.completion_tokens},
                              {"total_tokens", u.total()}};
  }
  return json::serialize(o);
}

}  // namespace modelmux::dialects::openai
