#include "gateway/token_counter.hpp"

#include <boost/json.hpp>

#include "dialects/openai/request.hpp"
#include "text/count.hpp"

namespace modelmux::gateway {

namespace json = boost::json;

namespace {

// The value of `key`, or nullptr when it is absent or JSON null.
const json::value* Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::string Answer(const text::TokenCount& c) {
  return json::serialize(
      json::object{{"tokens", c.tokens}, {"exact", c.exact}, {"encoding", c.encoding}});
}

}  // namespace

TokenCounterOutcome ServeTokenCounter(std::string_view body) {
  TokenCounterOutcome out;
  auto fail = [&out](std::string message, std::string param, std::string code) {
    out.error = InvalidRequest(std::move(message), std::move(param), std::move(code));
    return std::move(out);
  };
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) {
    return fail("the body must be a JSON object", "", "invalid_json");
  }
  const json::object& o = root.get_object();

  const json::value* model = Field(o, "model");
  if (!model)
    return fail("missing required parameter: model", "model", "missing_required_parameter");
  if (!model->is_string()) return fail("model must be a string", "model", "invalid_type");
  out.model = std::string(model->get_string());

  const json::value* text = Field(o, "text");
  const json::value* messages = Field(o, "messages");
  if (text && messages) {
    return fail("give either text or messages, not both", "messages", "invalid_value");
  }
  if (!text && !messages) {
    return fail("missing required parameter: text (or messages)", "text",
                "missing_required_parameter");
  }
  if (text) {
    if (!text->is_string()) return fail("text must be a string", "text", "invalid_type");
    const std::string_view s = text->get_string();
    out.prompt_chars = s.size();
    out.body = Answer(text::CountText(out.model, s));
    return out;
  }
  if (!messages->is_array()) return fail("messages must be an array", "messages", "invalid_type");
  // The chat decoder validates the messages exactly as /v1/chat/completions does.
  json::object chat{{"model", out.model}, {"messages", *messages}};
  if (const json::value* tools = Field(o, "tools")) chat["tools"] = *tools;
  auto decoded = dialects::openai::DecodeChatRequest(json::serialize(chat));
  if (!decoded.ok()) {
    out.error = std::move(decoded).error();
    return out;
  }
  out.prompt_chars = decoded->PromptChars();
  out.body = Answer(text::CountPrompt(out.model, *decoded));
  return out;
}

}  // namespace modelmux::gateway
