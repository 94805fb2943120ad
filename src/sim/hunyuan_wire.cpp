#include "sim/hunyuan_wire.hpp"
#include "sim/media_report.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>
#include <ctime>

#include "auth/tc3.hpp"
#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr std::string_view kNote = "以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记";
constexpr int64_t kImageTokens = 85;
constexpr int64_t kEmbeddingDimensions = 1024;

Error Invalid(std::string message) {
  return InvalidRequest(std::move(message), {}, "InvalidParameter");
}

std::string UtcDate(int64_t ts) {
  std::time_t t = static_cast<std::time_t>(ts);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[11];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// The value after `key` up to the next ", " (or the end) in the Authorization header.
std::string_view Field(std::string_view auth, std::string_view key) {
  const size_t at = auth.find(key);
  if (at == std::string_view::npos) return {};
  std::string_view rest = auth.substr(at + key.size());
  return rest.substr(0, std::min(rest.find(','), rest.size()));
}

std::string_view FinishName(const ReplyPlan& plan) {
  if (plan.tool_call) return "tool_calls";
  if (plan.finish_reason == "length") return "length";
  return "stop";
}

json::object Usage(int64_t prompt, int64_t completion) {
  return json::object{{"PromptTokens", prompt},
                      {"CompletionTokens", completion},
                      {"TotalTokens", prompt + completion}};
}

json::object Chunk(const ResponseMeta& meta, json::object delta, std::string_view finish,
                   json::object usage) {
  delta["Role"] = "assistant";
  json::object c{{"Id", meta.id}, {"Created", meta.created}, {"Note", kNote}};
  c["Choices"] = json::array{json::object{{"Delta", std::move(delta)}, {"FinishReason", finish}}};
  c["Usage"] = std::move(usage);
  return c;
}

}  // namespace

bool IsHunyuanRequest(std::string_view path, const net::Headers& headers) {
  return path == "/" && headers.Has("X-TC-Action");
}

Tc3Credentials HunyuanCredentials(std::string_view require_key) {
  if (require_key.empty()) {
    return {std::string(kHunyuanSimSecretId), std::string(kHunyuanSimSecretKey), false};
  }
  const size_t colon = require_key.find(':');
  if (colon == std::string_view::npos) return {std::string(require_key), "", true};
  return {std::string(require_key.substr(0, colon)), std::string(require_key.substr(colon + 1)),
          true};
}

std::string CheckTc3(const net::Headers& headers, std::string_view body,
                     const Tc3Credentials& credentials) {
  constexpr std::string_view kPrefix = "TC3-HMAC-SHA256 ";
  const std::string_view auth = headers.Get("Authorization");
  if (auth.substr(0, kPrefix.size()) != kPrefix) return "AuthFailure.InvalidAuthorization";
  const std::string_view credential = Field(auth, "Credential=");
  const std::string_view signed_headers = Field(auth, "SignedHeaders=");
  const std::string_view signature = Field(auth, "Signature=");
  // Credential = ID/DATE/SERVICE/tc3_request
  const size_t s1 = credential.find('/');
  const std::string_view id = credential.substr(0, s1);
  const std::string_view scope = s1 == std::string_view::npos ? "" : credential.substr(s1 + 1);
  const std::string_view ts_text = headers.Get("X-TC-Timestamp");
  int64_t ts = -1;
  if (!ts_text.empty() && ts_text.size() < 12 &&
      ts_text.find_first_not_of("0123456789") == std::string_view::npos) {
    ts = std::stoll(std::string(ts_text));
  }
  if (id.empty() || signature.empty() || signed_headers != "content-type;host;x-tc-action" ||
      ts < 0 || scope != UtcDate(ts) + "/hunyuan/tc3_request") {
    return "AuthFailure.InvalidAuthorization";
  }
  if (id != credentials.secret_id) {
    return credentials.only_this_id ? "AuthFailure.SecretIdNotFound" : "";
  }
  if (credentials.secret_key.empty()) return "";
  auth::Tc3Request r;
  r.host = std::string(headers.Get("Host"));
  r.action = std::string(headers.Get("X-TC-Action"));
  r.version = std::string(headers.Get("X-TC-Version"));
  r.service = "hunyuan";
  r.body = std::string(body);
  r.content_type = std::string(headers.Get("Content-Type"));
  if (r.host.empty() || r.version.empty()) return "AuthFailure.SignatureFailure";
  auto expected = auth::SignTc3Detailed(r, credentials.secret_id, credentials.secret_key, ts);
  if (!expected.ok() || expected->signature.size() != signature.size() ||
      CRYPTO_memcmp(expected->signature.data(), signature.data(), signature.size()) != 0) {
    return "AuthFailure.SignatureFailure";
  }
  return "";
}

std::string HunyuanErrorJson(std::string_view code, std::string_view message,
                             std::string_view request_id) {
  return json::serialize(json::object{
      {"Response", json::object{{"Error", json::object{{"Code", code}, {"Message", message}}},
                                {"RequestId", request_id}}}});
}

HunyuanCode HunyuanCodeForStatus(int status) {
  switch (status) {
    case 429:
      return {"LimitExceeded", "Request limit exceeded (simulated)."};
    case 401:
      return {"AuthFailure.SignatureFailure",
              "The provided credentials could not be validated (simulated)."};
    case 403:
      return {"AuthFailure.UnauthorizedOperation", "Unauthorized operation (simulated)."};
    case 402:
      return {"ResourceUnavailable.InArrears", "The account is in arrears (simulated)."};
    case 400:
      return {"InvalidParameter", "Invalid parameter (simulated)."};
    case 404:
      return {"ResourceNotFound", "Resource not found (simulated)."};
    case 413:
      return {"RequestSizeLimitExceeded", "Request size limit exceeded (simulated)."};
    case 503:
      return {"ServiceUnavailable", "Service unavailable (simulated)."};
    case 504:
      return {"FailedOperation.EngineRequestTimeout", "Engine request timeout (simulated)."};
    default:
      break;
  }
  if (status >= 500) return {"InternalError", "Internal error (simulated)."};
  return {"InvalidParameterValue", "Invalid parameter value (simulated)."};
}

Result<SimRequest> ParseHunyuanChat(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Invalid("The request body is not a JSON object.");
  const json::object& o = v.get_object();
  SimRequest r;
  r.endpoint = Endpoint::kChat;
  const json::value* model = o.if_contains("Model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return Invalid("Model is missing or not a string.");
  }
  r.model = std::string(model->get_string());
  const json::value* messages = o.if_contains("Messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return Invalid("Messages is missing or empty.");
  }
  const json::array& arr = messages->get_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string at = "Messages[" + std::to_string(i) + "]";
    const json::object* m = arr[i].if_object();
    const json::value* role = m != nullptr ? m->if_contains("Role") : nullptr;
    if (role == nullptr || !role->is_string()) return Invalid(at + ".Role is missing.");
    const std::string rn(role->get_string());
    if (rn != "system" && rn != "user" && rn != "assistant" && rn != "tool") {
      return Invalid(at + ".Role must be system, user, assistant or tool.");
    }
    if (rn == "system" && i != 0) return Invalid(at + ": system must be the first message.");
    SimMessage sm{rn, "", 0, {}};
    if (const json::value* c = m->if_contains("Content")) {
      if (!c->is_string()) return Invalid(at + ".Content must be a string.");
      sm.text = std::string(c->get_string());
    } else if (const json::value* cs = m->if_contains("Contents")) {
      if (!cs->is_array()) return Invalid(at + ".Contents must be an array.");
      for (const json::value& part : cs->get_array()) {
        const json::object* p = part.if_object();
        const json::value* type = p != nullptr ? p->if_contains("Type") : nullptr;
        if (type == nullptr || !type->is_string()) return Invalid(at + ".Contents needs Type.");
        if (type->get_string() == "text") {
          const json::value* t = p->if_contains("Text");
          if (t == nullptr || !t->is_string()) return Invalid(at + ".Contents Text is missing.");
          if (!sm.text.empty()) sm.text += "\n";
          sm.text += std::string(t->get_string());
        } else if (type->get_string() == "image_url") {
          sm.extra_tokens += kImageTokens;
          const json::value* iu = p->if_contains("ImageUrl");
          const json::value* url =
              iu && iu->is_object() ? iu->get_object().if_contains("Url") : nullptr;
          if (url != nullptr && url->is_string()) {
            sm.media.push_back(DescribeMedia(MediaKind::kImage, url->get_string()));
          }
        } else {
          return Invalid(at + ".Contents Type must be text or image_url.");
        }
      }
    } else if (m->if_contains("ToolCalls") == nullptr) {
      return Invalid(at + ".Content is missing.");
    }
    if (rn == "user") r.last_user_text = sm.text;
    r.messages.push_back(std::move(sm));
  }
  if (const json::value* s = o.if_contains("Stream")) {
    if (!s->is_bool()) return Invalid("Stream must be a boolean.");
    r.stream = s->get_bool();
  }
  if (const json::value* t = o.if_contains("Temperature")) {
    const double d = t->is_number() ? t->to_number<double>() : -1;
    if (!(d >= 0 && d <= 2)) return Invalid("Temperature must be in [0, 2].");
  }
  if (const json::value* t = o.if_contains("TopP")) {
    const double d = t->is_number() ? t->to_number<double>() : -1;
    if (!(d >= 0 && d <= 1)) return Invalid("TopP must be in [0, 1].");
  }
  if (const json::value* tools = o.if_contains("Tools")) {
    if (!tools->is_array()) return Invalid("Tools must be an array.");
    for (const json::value& t : tools->get_array()) {
      const json::object* to = t.if_object();
      const json::value* f = to != nullptr ? to->if_contains("Function") : nullptr;
      const json::value* name =
          f != nullptr && f->is_object() ? f->get_object().if_contains("Name") : nullptr;
      if (name == nullptr || !name->is_string()) return Invalid("Tools need Function.Name.");
      const json::value* params = f->get_object().if_contains("Parameters");
      if (params != nullptr && !params->is_string()) {
        return Invalid("Tools Function.Parameters must be a JSON string.");
      }
      if (r.tool_to_call.empty() && r.last_user_text.find("call_tool") != std::string::npos) {
        r.tool_to_call = std::string(name->get_string());
      }
    }
  }
  r.prompt_tokens = PromptTokens(r.messages);
  return r;
}

Result<SimRequest> ParseHunyuanEmbedding(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Invalid("The request body is not a JSON object.");
  const json::value* input = v.get_object().if_contains("Input");
  if (input == nullptr || !input->is_string()) return Invalid("Input must be a string.");
  SimRequest r;
  r.endpoint = Endpoint::kEmbeddings;
  r.model = "hunyuan-embedding";
  r.inputs.emplace_back(input->get_string());
  r.dimensions = kEmbeddingDimensions;
  r.prompt_tokens = CountTokens(r.inputs.front());
  return r;
}

std::string HunyuanChatJson(const ResponseMeta& meta, const ReplyPlan& plan) {
  std::string text;
  for (const auto& p : plan.pieces) text += p;
  json::object message{{"Role", "assistant"}, {"Content", text}};
  if (plan.tool_call) {
    message["ToolCalls"] = json::array{json::object{
        {"Id", plan.tool_call->id},
        {"Type", "function"},
        {"Function",
         json::object{{"Name", plan.tool_call->name}, {"Arguments", plan.tool_call->arguments}}}}};
  }
  json::object resp{{"Id", meta.id}, {"Created", meta.created}, {"Note", kNote}};
  resp["Choices"] = json::array{json::object{
      {"Index", 0}, {"Message", std::move(message)}, {"FinishReason", FinishName(plan)}}};
  resp["Usage"] = Usage(plan.prompt_tokens, plan.completion_tokens);
  resp["RequestId"] = meta.id;
  return json::serialize(json::object{{"Response", std::move(resp)}});
}

StreamEvents HunyuanStreamChunks(const ResponseMeta& meta, const ReplyPlan& plan) {
  StreamEvents s;
  s.done_sentinel = false;
  s.first_token = 0;
  int64_t n = 0;
  for (const auto& piece : plan.pieces) {
    ++n;
    s.events.push_back(json::serialize(
        Chunk(meta, json::object{{"Content", piece}}, "", Usage(plan.prompt_tokens, n))));
  }
  if (plan.tool_call) {
    bool first = true;
    for (const auto& fragment : plan.tool_call->fragments) {
      json::object fn{{"Name", first ? plan.tool_call->name : ""}, {"Arguments", fragment}};
      json::object call{{"Id", plan.tool_call->id}, {"Type", "function"}, {"Function", fn}};
      s.events.push_back(json::serialize(
          Chunk(meta, json::object{{"Content", ""}, {"ToolCalls", json::array{call}}}, "",
                Usage(plan.prompt_tokens, n))));
      first = false;
    }
  }
  s.token_count = s.events.size();
  s.events.push_back(json::serialize(Chunk(meta, json::object{{"Content", ""}}, FinishName(plan),
                                           Usage(plan.prompt_tokens, plan.completion_tokens))));
  return s;
}

std::string HunyuanStreamErrorJson(const ResponseMeta& meta) {
  return json::serialize(json::object{
      {"Id", meta.id},
      {"Created", meta.created},
      {"ErrorMsg", json::object{{"Code", 4000}, {"Msg", "Internal error (simulated mid-stream)"}}},
      {"Choices", json::array{}}});
}

std::string HunyuanEmbeddingJson(const SimRequest& request, std::string_view request_id) {
  json::array data;
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    json::array vec;
    for (float f : EmbeddingVector(request.model, request.inputs[i], request.dimensions)) {
      vec.emplace_back(static_cast<double>(f));
    }
    data.push_back(json::object{{"Embedding", std::move(vec)},
                                {"Index", static_cast<int64_t>(i)},
                                {"Object", "embedding"}});
  }
  json::object resp{{"Data", std::move(data)},
                    {"Usage", json::object{{"PromptTokens", request.prompt_tokens},
                                           {"TotalTokens", request.prompt_tokens}}},
                    {"RequestId", request_id}};
  return json::serialize(json::object{{"Response", std::move(resp)}});
}

}  // namespace modelmux::sim
