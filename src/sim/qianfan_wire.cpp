#include "sim/qianfan_wire.hpp"

#include <boost/json.hpp>

namespace modelmux::sim {
namespace json = boost::json;
namespace {

Error Rejected(QianfanReject* reject, int64_t code, std::string message) {
  if (reject != nullptr) *reject = QianfanReject{code, message};
  return InvalidRequest(std::move(message), {}, std::to_string(code));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

std::string_view FinishName(const ReplyPlan& plan) {
  if (plan.tool_call) return "function_call";
  if (plan.finish_reason == "length") return "length";
  return "normal";
}

json::object Usage(int64_t prompt, int64_t completion) {
  return json::object{{"prompt_tokens", prompt},
                      {"completion_tokens", completion},
                      {"total_tokens", prompt + completion}};
}

json::object Envelope(const ResponseMeta& meta) {
  return json::object{{"id", meta.id}, {"object", "chat.completion"}, {"created", meta.created}};
}

json::object FunctionCall(const SimToolCall& call) {
  return json::object{{"name", call.name},
                      {"thoughts", "The user asked for " + call.name + "."},
                      {"arguments", call.arguments}};
}

}  // namespace

bool IsQianfanPath(std::string_view path) {
  return path == kQianfanTokenPath || path.starts_with(kQianfanApiPrefix);
}

std::string QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
  }
  return {};
}

std::string QianfanErrorJson(int64_t code, std::string_view message) {
  return json::serialize(json::object{{"error_code", code}, {"error_msg", message}});
}

QianfanCode QianfanCodeForStatus(int status) {
  switch (status) {
    case 429:
      return {18, "Open api qps request limit reached"};
    case 401:
      return {110, "Access token invalid or no longer valid"};
    case 403:
      return {6, "No permission to access data"};
    case 402:
      return {17, "Open api daily request limit reached"};
    case 400:
      return {336003, "Invalid parameter"};
    case 404:
      return {336005, "API name not exist"};
    case 503:
      return {2, "Service temporarily unavailable"};
    case 529:
      return {336100, "Server high load, please try again later"};
    default:
      break;
  }
  if (status >= 500) return {336000, "Internal error"};
  return {336001, "Invalid Argument"};
}

std::string QianfanTokenJson(std::string_view token, int64_t expires_in) {
  return json::serialize(json::object{{"refresh_token", "sim-refresh"},
                                      {"expires_in", expires_in},
                                      {"session_key", "sim-session"},
                                      {"access_token", token},
                                      {"scope", "public wise_adapt"},
                                      {"session_secret", "sim-session-secret"}});
}

std::string QianfanTokenErrorJson(std::string_view error, std::string_view description) {
  return json::serialize(json::object{{"error", error}, {"error_description", description}});
}

Result<SimRequest> ParseQianfanRequest(std::string_view endpoint, std::string_view body,
                                       QianfanReject* reject) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Rejected(reject, 336002, "Invalid JSON");
  const json::object& o = v.get_object();
  SimRequest r;
  r.endpoint = Endpoint::kChat;
  r.model = std::string(endpoint);
  const json::value* messages = o.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return Rejected(reject, 336003, "messages is empty or not an array");
  }
  const json::array& arr = messages->get_array();
  if (arr.size() % 2 == 0) {
    return Rejected(reject, 336003, "the length of messages must be an odd number");
  }
  if (const json::value* system = o.if_contains("system")) {
    if (!system->is_string()) return Rejected(reject, 336003, "system must be a string");
    if (!system->get_string().empty()) {
      r.messages.push_back(SimMessage{"system", std::string(system->get_string()), 0, {}});
    }
  }
  for (size_t i = 0; i < arr.size(); ++i) {
    const json::object* m = arr[i].if_object();
    const json::value* role = m != nullptr ? m->if_contains("role") : nullptr;
    const json::value* content = m != nullptr ? m->if_contains("content") : nullptr;
    if (role == nullptr || !role->is_string() || content == nullptr || !content->is_string()) {
      return Rejected(reject, 336003,
                      "messages[" + std::to_string(i) + "] needs a string role and content");
    }
    const std::string_view rn = role->get_string();
    const bool user_slot = i % 2 == 0;
    const bool ok = user_slot ? (rn == "user" || rn == "function") : rn == "assistant";
    if (!ok) {
      return Rejected(reject, 336003,
                      "messages[" + std::to_string(i) + "].role must be " +
                          (user_slot ? "user" : "assistant") + " (messages alternate)");
    }
    r.messages.push_back(SimMessage{std::string(rn), std::string(content->get_string()), 0, {}});
    if (rn == "user") r.last_user_text = std::string(content->get_string());
  }
  if (const json::value* s = o.if_contains("stream")) {
    if (!s->is_bool()) return Rejected(reject, 336003, "stream must be a boolean");
    r.stream = s->get_bool();
  }
  if (const json::value* t = o.if_contains("temperature")) {
    const double d = t->is_number() ? t->to_number<double>() : -1;
    if (!(d > 0 && d <= 1)) return Rejected(reject, 336003, "temperature must be in (0, 1]");
  }
  if (const json::value* t = o.if_contains("top_p")) {
    const double d = t->is_number() ? t->to_number<double>() : -1;
    if (!(d >= 0 && d <= 1)) return Rejected(reject, 336003, "top_p must be in [0, 1]");
  }
  if (const json::value* m = o.if_contains("max_output_tokens")) {
    if (!m->is_int64() || m->get_int64() < 2) {
      return Rejected(reject, 336003, "max_output_tokens must be an integer >= 2");
    }
    r.max_tokens = m->get_int64();
  }
  if (const json::value* f = o.if_contains("functions")) {
    if (!f->is_array()) return Rejected(reject, 336003, "functions must be an array");
    for (const json::value& fn : f->get_array()) {
      const json::object* fo = fn.if_object();
      const json::value* name = fo != nullptr ? fo->if_contains("name") : nullptr;
      if (name == nullptr || !name->is_string()) {
        return Rejected(reject, 336003, "functions need a name");
      }
      if (r.tool_to_call.empty() && r.last_user_text.find("call_tool") != std::string::npos) {
        r.tool_to_call = std::string(name->get_string());
      }
    }
  }
  r.prompt_tokens = PromptTokens(r.messages);
  return r;
}

std::string QianfanChatJson(const ResponseMeta& meta, const ReplyPlan& plan) {
  json::object o = Envelope(meta);
  std::string text;
  for (const auto& p : plan.pieces) text += p;
  o["result"] = text;
  o["is_truncated"] = plan.finish_reason == "length";
  o["need_clear_history"] = false;
  o["finish_reason"] = FinishName(plan);
  if (plan.tool_call) o["function_call"] = FunctionCall(*plan.tool_call);
  o["usage"] = Usage(plan.prompt_tokens, plan.completion_tokens);
  return json::serialize(o);
}

StreamEvents QianfanStreamChunks(const ResponseMeta& meta, const ReplyPlan& plan) {
  StreamEvents s;
  s.done_sentinel = false;
  s.first_token = 0;
  int64_t sentence = 0;
  for (const auto& piece : plan.pieces) {
    json::object c = Envelope(meta);
    c["sentence_id"] = sentence;
    c["is_end"] = false;
    c["is_truncated"] = false;
    c["result"] = piece;
    c["need_clear_history"] = false;
    c["usage"] = Usage(plan.prompt_tokens, sentence + 1);
    s.events.push_back(json::serialize(c));
    ++sentence;
  }
  if (plan.tool_call) {
    json::object c = Envelope(meta);
    c["sentence_id"] = sentence++;
    c["is_end"] = false;
    c["result"] = "";
    c["function_call"] = FunctionCall(*plan.tool_call);
    s.events.push_back(json::serialize(c));
  }
  s.token_count = s.events.size();
  json::object last = Envelope(meta);
  last["sentence_id"] = sentence;
  last["is_end"] = true;
  last["is_truncated"] = plan.finish_reason == "length";
  last["result"] = "";
  last["finish_reason"] = FinishName(plan);
  last["need_clear_history"] = false;
  last["usage"] = Usage(plan.prompt_tokens, plan.completion_tokens);
  s.events.push_back(json::serialize(last));
  return s;
}

}  // namespace modelmux::sim
