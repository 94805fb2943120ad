#include "sim/dashscope_wire.hpp"
#include "sim/media_report.hpp"

#include <boost/json.hpp>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr int64_t kImageTokens = 85;   // as the OpenAI side counts an image
constexpr int64_t kMediaTokens = 200;  // video and audio
constexpr size_t kMaxTexts = 25;

Error Reject(std::string message) {
  return InvalidRequest(std::move(message), {}, "InvalidParameter");
}

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

Result<SimMessage> ParseMessage(const json::value& v, size_t i, bool multimodal) {
  const std::string where = "input.messages[" + std::to_string(i) + "]";
  const json::object* o = v.if_object();
  const json::value* role = o != nullptr ? o->if_contains("role") : nullptr;
  if (role == nullptr || !role->is_string()) return Reject(where + ".role is required");
  SimMessage m;
  m.role = std::string(role->get_string());
  if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool") {
    return Reject(where + ".role must be system, user, assistant or tool");
  }
  const json::value* content = o->if_contains("content");
  if (content == nullptr || content->is_null()) {
    if (m.role != "assistant") return Reject(where + ".content is required");
  } else if (content->is_string()) {
    m.text = std::string(content->get_string());
  } else if (content->is_array()) {
    if (!multimodal) {
      return Reject(where + ".content must be a string for text-generation models");
    }
    bool first = true;
    for (const json::value& part : content->get_array()) {
      const json::object* p = part.if_object();
      if (p == nullptr || p->size() != 1) return Reject(where + ".content has a malformed part");
      const auto& [key, value] = *p->begin();
      if (!value.is_string())
        return Reject(where + ".content." + std::string(key) + " must be a string");
      if (key == "text") {
        if (!first) m.text.push_back('\n');
        m.text.append(value.get_string());
        first = false;
      } else if (key == "image") {
        m.extra_tokens += kImageTokens;
        m.media.push_back(DescribeMedia(MediaKind::kImage, value.get_string()));
      } else if (key == "video" || key == "audio") {
        m.extra_tokens += kMediaTokens;
        if (key == "video") m.media.push_back(DescribeMedia(MediaKind::kVideo, value.get_string()));
      } else {
        return Reject(where + ".content has an unknown part '" + std::string(key) + "'");
      }
    }
  } else {
    return Reject(where + ".content must be a string or an array");
  }
  if (const json::value* calls = o->if_contains("tool_calls"); calls && calls->is_array()) {
    for (const json::value& call : calls->get_array()) {
      const json::object* co = call.if_object();
      const json::object* fn = co != nullptr ? ObjectAt(*co, "function") : nullptr;
      if (fn == nullptr) return Reject(where + ".tool_calls need a function");
      for (std::string_view key : {"name", "arguments"}) {
        const json::value* s = fn->if_contains(key);
        if (s != nullptr && s->is_string()) m.extra_tokens += CountTokens(s->get_string());
      }
    }
  }
  return m;
}

Status ParseParameters(const json::object& p, DashScopeCall& call) {
  SimRequest& r = call.request;
  if (const json::value* f = p.if_contains("result_format")) {
    if (!f->is_string() || (f->get_string() != "text" && f->get_string() != "message")) {
      return Reject("parameters.result_format must be text or message");
    }
    call.message_format = call.message_format || f->get_string() == "message";
  }
  if (const json::value* inc = p.if_contains("incremental_output")) {
    if (!inc->is_bool()) return Reject("parameters.incremental_output must be a boolean");
    call.incremental = inc->get_bool();
  }
  if (const json::value* m = p.if_contains("max_tokens")) {
    if (!m->is_int64() || m->get_int64() < 1) {
      return Reject("parameters.max_tokens must be an integer >= 1");
    }
    r.max_tokens = m->get_int64();
  }
  if (const json::value* t = p.if_contains("temperature")) {
    const double d = t->is_number() ? t->to_number<double>() : -1;
    if (!(d >= 0 && d < 2)) return Reject("temperature should be in [0.0, 2.0)");
  }
  if (const json::value* t = p.if_contains("top_p")) {
    const double d = t->is_number() ? t->to_number<double>() : -1;
    if (!(d > 0 && d <= 1)) return Reject("top_p should be in (0.0, 1.0]");
  }
  if (const json::value* s = p.if_contains("seed")) {
    if (!s->is_int64() && !s->is_uint64()) return Reject("parameters.seed must be an integer");
  }
  if (const json::value* tools = p.if_contains("tools")) {
    if (!tools->is_array()) return Reject("parameters.tools must be an array");
    for (const json::value& t : tools->get_array()) {
      const json::object* to = t.if_object();
      const json::object* fn = to != nullptr ? ObjectAt(*to, "function") : nullptr;
      const json::value* name = fn != nullptr ? fn->if_contains("name") : nullptr;
      if (name == nullptr || !name->is_string()) {
        return Reject("parameters.tools need function.name");
      }
      if (r.tool_to_call.empty() && r.last_user_text.find("call_tool") != std::string::npos) {
        r.tool_to_call = std::string(name->get_string());
      }
    }
  }
  return OkStatus();
}

// output_tokens include the reasoning tokens; cache reads and reasoning are detailed when present.
json::object UsageJson(const ReplyPlan& plan, int64_t output) {
  const int64_t input = plan.prompt_tokens;
  json::object u{
      {"input_tokens", input}, {"output_tokens", output}, {"total_tokens", input + output}};
  if (plan.cached_tokens > 0) {
    u["prompt_tokens_details"] = json::object{{"cached_tokens", plan.cached_tokens}};
  }
  if (plan.reasoning_tokens > 0) {
    u["output_tokens_details"] = json::object{{"reasoning_tokens", plan.reasoning_tokens}};
  }
  return u;
}

json::value ContentJson(const DashScopeCall& call, std::string text) {
  if (call.multimodal) return json::array{json::object{{"text", std::move(text)}}};
  return json::value(std::move(text));
}

json::object ToolCallJson(const SimToolCall& tc, bool with_names, std::string arguments) {
  return json::object{
      {"index", 0},
      {"id", with_names ? tc.id : ""},
      {"type", "function"},
      {"function", json::object{{"name", with_names ? tc.name : ""}, {"arguments", arguments}}}};
}

// One output object: the message form (choices) or the text form.
json::object Output(const DashScopeCall& call, std::string text, const json::array* tool_calls,
                    std::string_view finish) {
  if (!call.message_format) {
    return json::object{{"text", std::move(text)}, {"finish_reason", finish}};
  }
  json::object message{{"role", "assistant"}, {"content", ContentJson(call, std::move(text))}};
  if (tool_calls != nullptr) message["tool_calls"] = *tool_calls;
  return json::object{
      {"choices", json::array{json::object{{"finish_reason", finish}, {"message", message}}}}};
}

std::string Frame(const ResponseMeta& meta, json::object output, const ReplyPlan& plan,
                  int64_t out) {
  return json::serialize(json::object{
      {"output", std::move(output)}, {"usage", UsageJson(plan, out)}, {"request_id", meta.id}});
}

}  // namespace

bool IsDashScopePath(std::string_view path) {
  return path.starts_with(kDashScopePrefix);
}

std::string DashScopeErrorJson(std::string_view code, std::string_view message,
                               std::string_view request_id) {
  return json::serialize(
      json::object{{"code", code}, {"message", message}, {"request_id", request_id}});
}

DashScopeCode DashScopeCodeForStatus(int status) {
  switch (status) {
    case 400:
      return {"InvalidParameter", "Invalid parameter (simulated)."};
    case 401:
      return {"InvalidApiKey", "Invalid API-key provided."};
    case 402:
      return {"Arrearage", "Access denied, please make sure your account is in good standing."};
    case 403:
      return {"AccessDenied", "Access denied."};
    case 404:
      return {"ModelNotFound", "Model not found (simulated)."};
    case 413:
      return {"RequestTooLarge", "Request body too large."};
    case 429:
      return {"Throttling.RateQuota", "Requests rate limit exceeded, please try again later."};
    case 503:
      return {"ModelUnavailable", "Model is unavailable, please try again later."};
    case 504:
      return {"RequestTimeOut", "Request timed out, please try again later."};
    default:
      break;
  }
  if (status >= 500)
    return {"InternalError", "An internal error has occured, please try again later."};
  return {"InvalidParameter", "Invalid parameter (simulated)."};
}

Result<DashScopeCall> ParseDashScopeCall(std::string_view body, bool multimodal) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Reject("The request body is not valid JSON");
  const json::object& o = v.get_object();
  DashScopeCall call;
  call.multimodal = multimodal;
  call.message_format = multimodal;
  SimRequest& r = call.request;
  r.endpoint = Endpoint::kChat;
  const json::value* model = o.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return Reject("Model not specified");
  }
  r.model = std::string(model->get_string());
  const json::object* input = ObjectAt(o, "input");
  if (input == nullptr) return Reject("input is required");
  const json::value* messages = input->if_contains("messages");
  if (messages != nullptr) {
    if (!messages->is_array() || messages->get_array().empty()) {
      return Reject("input.messages must be a non-empty array");
    }
    const json::array& arr = messages->get_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      MM_TRY(SimMessage m, ParseMessage(arr[i], i, multimodal));
      if (m.role == "user") r.last_user_text = m.text;
      r.messages.push_back(std::move(m));
    }
  } else if (const json::value* prompt = input->if_contains("prompt");
             prompt != nullptr && prompt->is_string() && !multimodal) {
    r.messages.push_back(SimMessage{"user", std::string(prompt->get_string()), 0, {}});
    r.last_user_text = r.messages.back().text;
  } else {
    return Reject("input.messages is required");
  }
  if (const json::object* p = ObjectAt(o, "parameters")) {
    MM_RETURN_IF_ERROR(ParseParameters(*p, call));
  } else if (o.contains("parameters")) {
    return Reject("parameters must be an object");
  }
  r.prompt_tokens = PromptTokens(r.messages);
  return call;
}

Result<SimRequest> ParseDashScopeEmbeddings(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Reject("The request body is not valid JSON");
  const json::object& o = v.get_object();
  SimRequest r;
  r.endpoint = Endpoint::kEmbeddings;
  const json::value* model = o.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return Reject("Model not specified");
  }
  r.model = std::string(model->get_string());
  const json::object* input = ObjectAt(o, "input");
  const json::value* texts = input != nullptr ? input->if_contains("texts") : nullptr;
  if (texts == nullptr || !texts->is_array() || texts->get_array().empty()) {
    return Reject("input.texts must be a non-empty array");
  }
  if (texts->get_array().size() > kMaxTexts) {
    return Reject("batch size is invalid, it should not be larger than 25");
  }
  for (const json::value& t : texts->get_array()) {
    if (!t.is_string() || t.get_string().empty()) {
      return Reject("input.texts must hold non-empty strings");
    }
    r.inputs.emplace_back(t.get_string());
  }
  r.dimensions = kDashScopeDefaultDimension;
  if (const json::object* p = ObjectAt(o, "parameters")) {
    if (const json::value* d = p->if_contains("dimension")) {
      if (!d->is_int64() || d->get_int64() < 1 || d->get_int64() > kMaxDimensions) {
        return Reject("parameters.dimension is invalid");
      }
      r.dimensions = d->get_int64();
    }
    if (const json::value* t = p->if_contains("text_type")) {
      if (!t->is_string() || (t->get_string() != "query" && t->get_string() != "document")) {
        return Reject("parameters.text_type must be query or document");
      }
    }
  }
  for (const auto& t : r.inputs) r.prompt_tokens += CountTokens(t);
  return r;
}

std::string DashScopeChatJson(const ResponseMeta& meta, const ReplyPlan& plan,
                              const DashScopeCall& call) {
  std::string text;
  for (const auto& p : plan.pieces) text += p;
  json::array calls;
  if (plan.tool_call)
    calls.push_back(ToolCallJson(*plan.tool_call, true, plan.tool_call->arguments));
  json::object o{{"status_code", 200}, {"request_id", meta.id}, {"code", ""}, {"message", ""}};
  o["output"] =
      Output(call, std::move(text), plan.tool_call ? &calls : nullptr, plan.finish_reason);
  o["usage"] = UsageJson(plan, plan.completion_tokens);
  return json::serialize(o);
}

StreamEvents DashScopeStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan,
                                   const DashScopeCall& call) {
  StreamEvents s;
  s.done_sentinel = false;
  s.first_token = 0;
  std::string text;
  int64_t produced = 0;
  for (const auto& piece : plan.pieces) {
    text += piece;
    ++produced;
    s.events.push_back(Frame(meta, Output(call, call.incremental ? piece : text, nullptr, "null"),
                             plan, produced));
  }
  std::string args;
  if (plan.tool_call) {
    const SimToolCall& tc = *plan.tool_call;
    for (size_t i = 0; i < tc.fragments.size(); ++i) {
      args += tc.fragments[i];
      const bool first = i == 0;
      json::array calls{
          ToolCallJson(tc, first || !call.incremental, call.incremental ? tc.fragments[i] : args)};
      const int64_t so_far = plan.completion_tokens * static_cast<int64_t>(i + 1) /
                             static_cast<int64_t>(tc.fragments.size());
      s.events.push_back(
          Frame(meta, Output(call, "", &calls, "null"), plan, std::max<int64_t>(so_far, 1)));
    }
  }
  s.token_count = s.events.size();
  json::array final_calls;
  if (plan.tool_call && !call.incremental) {
    final_calls.push_back(ToolCallJson(*plan.tool_call, true, args));
  }
  s.events.push_back(Frame(meta,
                           Output(call, call.incremental ? std::string() : text,
                                  final_calls.empty() ? nullptr : &final_calls, plan.finish_reason),
                           plan, plan.completion_tokens));
  return s;
}

std::string DashScopeEmbeddingsJson(const SimRequest& request, std::string_view request_id) {
  json::array list;
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    json::array vec;
    for (float x : EmbeddingVector(request.model, request.inputs[i], request.dimensions)) {
      vec.emplace_back(static_cast<double>(x));
    }
    list.push_back(json::object{{"text_index", static_cast<int64_t>(i)}, {"embedding", vec}});
  }
  return json::serialize(
      json::object{{"output", json::object{{"embeddings", list}}},
                   {"usage", json::object{{"total_tokens", request.prompt_tokens}}},
                   {"request_id", request_id}});
}

}  // namespace modelmux::sim
