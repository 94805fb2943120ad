#include "dialects/openai/stream.hpp"

#include "dialects/openai/json_util.hpp"
#include "text/redact.hpp"

namespace modelmux::dialects::openai {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr ? 0 : AsInt(*v).value_or(0);
}

bool HasContent(const StreamDelta& d) {
  return !d.role.empty() || !d.text.empty() || !d.reasoning.empty() || !d.tool_calls.empty() ||
         d.finish_reason != FinishReason::kNone;
}

StreamDelta DecodeDelta(const json::object& choice) {
  StreamDelta d;
  d.index = static_cast<int>(Int(choice, "index"));
  d.finish_reason_raw = Str(choice, "finish_reason");
  d.finish_reason = ParseOpenAiFinishReason(d.finish_reason_raw);
  const json::value* delta = choice.if_contains("delta");
  if (delta == nullptr || !delta->is_object()) return d;
  const json::object& o = delta->get_object();
  d.role = Str(o, "role");
  d.text = Str(o, "content");
  d.reasoning = Str(o, "reasoning_content");
  if (const json::value* calls = o.if_contains("tool_calls"); calls && calls->is_array()) {
    for (const auto& c : calls->get_array()) {
      if (!c.is_object()) continue;
      StreamDelta::ToolCallFragment f;
      f.index = static_cast<int>(Int(c.get_object(), "index"));
      f.id = Str(c.get_object(), "id");
      if (const json::value* fn = c.get_object().if_contains("function"); fn && fn->is_object()) {
        f.name = Str(fn->get_object(), "name");
        f.arguments = Str(fn->get_object(), "arguments");
      }
      d.tool_calls.push_back(std::move(f));
    }
  }
  return d;
}

std::string ErrorMessageOf(const json::value& err) {
  if (err.is_object()) {
    const json::value* m = err.get_object().if_contains("message");
    if (m != nullptr && m->is_string()) return std::string(m->get_string());
  }
  if (err.is_string()) return std::string(err.get_string());
  return "upstream stream error";
}

}  // namespace

Result<std::optional<StreamEvent>> StreamDecoder::OnEvent(const SseEvent& ev) {
  if (!ev.has_data) return std::optional<StreamEvent>();
  if (ev.data == "[DONE]") {
    done_ = true;
    StreamEvent out;
    out.kind = StreamEvent::Kind::kDone;
    return std::optional<StreamEvent>(std::move(out));
  }
  boost::system::error_code ec;
  json::value v = json::parse(ev.data, ec);
  if (ec || !v.is_object()) {
    Error e;
    e.kind = ErrorKind::kUpstreamError;
    e.message = "Malformed upstream stream chunk";
    e.code = "bad_upstream_response";
    return e;
  }
  const json::object& o = v.get_object();
  StreamEvent out;
  out.id = Str(o, "id");
  out.model = Str(o, "model");
  out.created = Int(o, "created");
  if (const json::value* err = o.if_contains("error"); err && !err->is_null()) {
    out.kind = StreamEvent::Kind::kError;
    out.error_message = text::MaskSecrets(ErrorMessageOf(*err));
    return std::optional<StreamEvent>(std::move(out));
  }
  out.usage = UsageFromBody(o);
  const json::value* choices = o.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
    if (!out.usage) return std::optional<StreamEvent>();
    out.kind = StreamEvent::Kind::kUsage;
    return std::optional<StreamEvent>(std::move(out));
  }
  for (const auto& c : choices->get_array()) {
    if (!c.is_object()) continue;
    StreamDelta d = DecodeDelta(c.get_object());
    if (HasContent(d)) out.deltas.push_back(std::move(d));
  }
  if (out.deltas.empty() && !out.usage) return std::optional<StreamEvent>();
  if (out.deltas.empty()) out.kind = StreamEvent::Kind::kUsage;
  return std::optional<StreamEvent>(std::move(out));
}

std::string EncodeStreamChunk(const StreamEvent& ev) {
  std::string out;
  switch (ev.kind) {
    case StreamEvent::Kind::kDone:
      return "data: [DONE]\n\n";
    case StreamEvent::Kind::kError: {
      json::object err{{"message", ev.error_message},
                       {"type", "server_error"},
                       {"param", nullptr},
                       {"code", nullptr}};
      AppendSseEvent(out, json::serialize(json::object{{"error", std::move(err)}}));
      return out;
    }
    case StreamEvent::Kind::kDelta:
    case StreamEvent::Kind::kUsage:
      break;
  }
  json::object o;
  o["id"] = ev.id;
  o["object"] = "chat.completion.chunk";
  o["created"] = ev.created;
  o["model"] = ev.model;
  json::array choices;
  if (ev.kind == StreamEvent::Kind::kDelta) {
    for (const auto& d : ev.deltas) {
      json::object delta;
      if (!d.role.empty()) delta["role"] = d.role;
      if (!d.text.empty() || !d.role.empty()) delta["content"] = d.text;
      if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
      if (!d.tool_calls.empty()) {
        json::array calls;
        for (const auto& f : d.tool_calls) {
          json::object call{{"index", f.index}};
          if (!f.id.empty()) {
            call["id"] = f.id;
            call["type"] = "function";
          }
          json::object fn;
          if (!f.name.empty()) fn["name"] = f.name;
          fn["arguments"] = f.arguments;
          call["function"] = std::move(fn);
          calls.push_back(std::move(call));
        }
        delta["tool_calls"] = std::move(calls);
      }
      json::value finish = nullptr;
      if (d.finish_reason != FinishReason::kNone) finish = FinishReasonName(d.finish_reason);
      choices.push_back(json::object{{"index", d.index},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", std::move(finish)}});
    }
  }
  o["choices"] = std::move(choices);
  if (ev.usage) o["usage"] = UsageToJson(*ev.usage);
  AppendSseEvent(out, json::serialize(o));
  return out;
}

void StreamAccumulator::Add(const StreamEvent& ev) {
  if (ev.kind == StreamEvent::Kind::kError) {
    error_message_ = ev.error_message;
    return;
  }
  if (ev.kind == StreamEvent::Kind::kDone) return;
  if (!ev.id.empty()) resp_.id = ev.id;
  if (!ev.model.empty()) resp_.model = ev.model;
  if (ev.created != 0) resp_.created = ev.created;
  if (ev.usage) resp_.usage = ev.usage;
  for (const auto& d : ev.deltas) {
    ChoiceState& st = choices_[d.index];
    Choice& c = st.choice;
    c.index = d.index;
    c.message.role = Role::kAssistant;
    if (!d.text.empty()) {
      if (c.message.content.empty()) c.message.content.push_back(ContentPart{});
      c.message.content[0].text += d.text;
    }
    c.message.reasoning += d.reasoning;
    for (const auto& f : d.tool_calls) {
      ToolCall& call = st.tool_calls[f.index];
      if (!f.id.empty()) call.id = f.id;
      call.name += f.name;
      call.arguments += f.arguments;
    }
    if (d.finish_reason != FinishReason::kNone) {
      c.finish_reason = d.finish_reason;
      c.finish_reason_raw = d.finish_reason_raw;
    }
  }
}

ChatResponse StreamAccumulator::Response() const {
  ChatResponse r = resp_;
  for (const auto& [index, st] : choices_) {
    Choice c = st.choice;
    for (const auto& [i, call] : st.tool_calls) c.message.tool_calls.push_back(call);
    r.choices.push_back(std::move(c));
  }
  return r;
}

}  // namespace modelmux::dialects::openai
