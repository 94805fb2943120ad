#include "sim/bedrock_wire.hpp"
#include "sim/media_report.hpp"

#include <openssl/crypto.h>

#include <boost/json.hpp>
#include <ctime>

#include "auth/sigv4.hpp"
#include "dialects/bedrock/eventstream.hpp"
#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr int64_t kMediaTokens = 85;  // as an OpenAI image_url part
constexpr std::string_view kPadding = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0";

Error Bad(std::string message) {
  return InvalidRequest(std::move(message), {}, "ValidationException");
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
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string_view Field(std::string_view auth, std::string_view name) {
  const size_t at = auth.find(name);
  if (at == std::string_view::npos) return {};
  std::string_view rest = auth.substr(at + name.size());
  return rest.substr(0, std::min(rest.find(','), rest.size()));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

std::optional<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view d) {
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return std::nullopt;
  std::tm tm{};
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (d[i] < '0' || d[i] > '9') return -1;
      v = v * 10 + (d[i] - '0');
    }
    return v;
  };
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
      tm.tm_sec < 0) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

BedrockError Denied(std::string type, std::string message) {
  return BedrockError{403, std::move(type), std::move(message)};
}

std::string StopReason(const ReplyPlan& plan) {
  if (plan.tool_call) return "tool_use";
  if (plan.finish_reason == "length") return "max_tokens";
  return "end_turn";
}

// inputTokens leave out prompt-cache reads and writes, which are counted apart when there are any.
json::object UsageJson(const ReplyPlan& plan) {
  json::object u{{"inputTokens", plan.prompt_tokens - plan.cached_tokens - plan.cache_write_tokens},
                 {"outputTokens", plan.completion_tokens},
                 {"totalTokens", plan.prompt_tokens + plan.completion_tokens}};
  if (plan.cached_tokens > 0) u["cacheReadInputTokens"] = plan.cached_tokens;
  if (plan.cache_write_tokens > 0) u["cacheWriteInputTokens"] = plan.cache_write_tokens;
  return u;
}

std::string ToolUseId(const SimToolCall& call) {
  return "tooluse_" + call.id;
}

std::string EventFrame(std::string_view type, json::object payload) {
  payload["p"] = kPadding.substr(0, 1 + (type.size() * 7) % kPadding.size());
  return dialects::bedrock::EncodeEventStreamMessage({{":event-type", std::string(type)},
                                                      {":content-type", "application/json"},
                                                      {":message-type", "event"}},
                                                     json::serialize(payload));
}

}  // namespace

BedrockRoute MatchBedrockRoute(std::string_view path) {
  BedrockRoute r;
  constexpr std::string_view kPrefix = "/model/";
  if (!path.starts_with(kPrefix)) return r;
  r.action = BedrockAction::kOther;
  std::string_view rest = path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return r;
  r.model = PercentDecode(rest.substr(0, slash));
  const std::string_view action = rest.substr(slash + 1);
  if (action == "converse") r.action = BedrockAction::kConverse;
  if (action == "converse-stream") r.action = BedrockAction::kConverseStream;
  if (action == "invoke") r.action = BedrockAction::kInvoke;
  return r;
}

std::optional<BedrockError> CheckBedrockSignature(const net::ServerRequest& request) {
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256 ";
  const std::string_view auth = request.headers.Get("authorization");
  if (!auth.starts_with(kAlgorithm)) {
    return Denied("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  const std::string_view credential = Field(auth, "Credential=");
  const std::string_view signed_list = Field(auth, "SignedHeaders=");
  const std::string_view signature = Field(auth, "Signature=");
  const std::vector<std::string_view> scope = Split(credential, '/');
  const std::string_view amz_date = request.headers.Get("x-amz-date");
  const auto when = ParseAmzDate(amz_date);
  if (scope.size() != 5 || signed_list.empty() || signature.empty() || !when ||
      scope[4] != "aws4_request") {
    return Denied("IncompleteSignatureException",
                  "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
                  "parameters, and an X-Amz-Date header.");
  }
  if (scope[0] != kBedrockSimAccessKeyId) {
    return Denied("UnrecognizedClientException",
                  "The security token included in the request is invalid.");
  }
  if (scope[3] != "bedrock") {
    return Denied("InvalidSignatureException",
                  "Credential should be scoped to correct service: 'bedrock'.");
  }
  if (scope[1] != amz_date.substr(0, 8)) {
    return Denied("InvalidSignatureException",
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP.");
  }
  auth::SigV4Request r;
  r.method = request.method;
  r.host = std::string(request.headers.Get("host"));
  r.path = std::string(request.path());
  r.query = std::string(request.query());
  r.body = request.body;
  auth::AwsCredentials creds{std::string(kBedrockSimAccessKeyId), std::string(kBedrockSimSecretKey),
                             ""};
  auth::SigV4Options options;
  options.add_content_sha256 = false;
  for (std::string_view name : Split(signed_list, ';')) {
    if (name == "x-amz-content-sha256") {
      options.add_content_sha256 = true;
    } else if (name == "x-amz-security-token") {
      creds.session_token = std::string(request.headers.Get(name));
    } else if (name != "x-amz-date" && name != "authorization") {
      r.headers.emplace_back(std::string(name), std::string(request.headers.Get(name)));
    }
  }
  auto expected = auth::SignV4Detailed(r, creds, scope[2], scope[3], *when, options);
  const bool same =
      expected.ok() && expected->signature.size() == signature.size() &&
      CRYPTO_memcmp(expected->signature.data(), signature.data(), signature.size()) == 0 &&
      expected->headers.back().second.find("SignedHeaders=" + std::string(signed_list) + ",") !=
          std::string::npos;
  if (same) return std::nullopt;
  return Denied("InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
}

std::string BedrockErrorJson(std::string_view message) {
  return json::serialize(json::object{{"message", message}});
}

BedrockError BedrockErrorForStatus(int status) {
  switch (status) {
    case 400:
      return {status, "ValidationException", "Malformed input request (simulated)."};
    case 403:
      return {status, "AccessDeniedException",
              "You don't have access to the model with the specified model ID."};
    case 404:
      return {status, "ResourceNotFoundException", "The specified model was not found."};
    case 408:
      return {status, "ModelTimeoutException", "Model has timed out in processing the request."};
    case 424:
      return {status, "ModelErrorException", "The model failed to process the request."};
    case 429:
      return {status, "ThrottlingException", "Too many requests, please wait before trying again."};
    case 503:
      return {status, "ServiceUnavailableException", "Service is unavailable (simulated)."};
    default:
      break;
  }
  if (status >= 500) return {status, "InternalServerException", "Internal server error."};
  return {status, "ValidationException", "Invalid request (simulated)."};
}

Result<SimRequest> ParseConverseRequest(std::string_view model, bool stream,
                                        std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return Bad("Malformed input request, please reformat your input.");
  const json::object& o = root.get_object();
  SimRequest r;
  r.endpoint = Endpoint::kChat;
  r.model = std::string(model);
  r.stream = stream;
  if (const json::value* system = o.if_contains("system")) {
    if (!system->is_array()) return Bad("system must be a list of system content blocks.");
    std::string text;
    for (const json::value& b : system->get_array()) {
      const json::value* t = b.is_object() ? b.get_object().if_contains("text") : nullptr;
      if (t == nullptr || !t->is_string()) continue;
      if (!text.empty()) text.push_back('\n');
      text.append(t->get_string());
    }
    if (!text.empty()) r.messages.push_back(SimMessage{"system", std::move(text), 0, {}});
  }
  const json::value* messages = o.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return Bad("A conversation must start with a user message.");
  }
  size_t i = 0;
  for (const json::value& mv : messages->get_array()) {
    const std::string where = "messages." + std::to_string(i++);
    const json::object* m = mv.if_object();
    const json::value* role = m != nullptr ? m->if_contains("role") : nullptr;
    const json::value* content = m != nullptr ? m->if_contains("content") : nullptr;
    if (role == nullptr || !role->is_string() ||
        (role->get_string() != "user" && role->get_string() != "assistant")) {
      return Bad("1 validation error detected: Value at '" + where +
                 ".role' failed to satisfy constraint: Member must satisfy enum value set: "
                 "[user, assistant]");
    }
    if (content == nullptr || !content->is_array() || content->get_array().empty()) {
      return Bad("The content field in the Message object at " + where + " is empty.");
    }
    SimMessage sm{std::string(role->get_string()), "", 0, {}};
    bool has_text = false, only_results = true;
    auto append = [&sm](std::string_view text) {
      if (!sm.text.empty()) sm.text.push_back('\n');
      sm.text.append(text);
    };
    for (const json::value& bv : content->get_array()) {
      const json::object* b = bv.if_object();
      if (b == nullptr) return Bad("Content blocks in " + where + " must be objects.");
      if (const json::value* t = b->if_contains("text"); t && t->is_string()) {
        append(t->get_string());
        has_text = true;
        only_results = false;
      } else if (b->contains("image")) {
        sm.extra_tokens += kMediaTokens;
        const json::object* img = b->at("image").if_object();
        const json::object* src =
            img ? img->if_contains("source") ? img->at("source").if_object() : nullptr : nullptr;
        if (src != nullptr) {
          if (const json::value* bytes = src->if_contains("bytes"); bytes && bytes->is_string()) {
            sm.media.push_back(DescribeMedia(MediaKind::kImage, bytes->get_string(), true));
          }
        }
        only_results = false;
      } else if (const json::value* use = b->if_contains("toolUse"); use && use->is_object()) {
        const json::value* name = use->get_object().if_contains("name");
        if (name == nullptr || !name->is_string()) {
          return Bad("toolUse blocks in " + where + " need a name.");
        }
        sm.extra_tokens += CountTokens(name->get_string());
        if (const json::value* input = use->get_object().if_contains("input")) {
          sm.extra_tokens += CountTokens(json::serialize(*input));
        }
        only_results = false;
      } else if (const json::value* res = b->if_contains("toolResult"); res && res->is_object()) {
        const json::value* parts = res->get_object().if_contains("content");
        for (size_t k = 0; parts != nullptr && parts->is_array() && k < parts->get_array().size();
             ++k) {
          const json::value& p = parts->get_array()[k];
          if (!p.is_object()) continue;
          if (const json::value* pt = p.get_object().if_contains("text"); pt && pt->is_string()) {
            append(pt->get_string());
          } else if (const json::value* j = p.get_object().if_contains("json")) {
            append(json::serialize(*j));
          }
        }
      } else {
        only_results = false;
      }
    }
    if (sm.role == "user") {
      if (only_results) sm.role = "tool";
      if (has_text) r.last_user_text = sm.text;
    }
    r.messages.push_back(std::move(sm));
  }
  if (const json::value* config = o.if_contains("inferenceConfig"); config && config->is_object()) {
    if (const json::value* max = config->get_object().if_contains("maxTokens")) {
      if (!max->is_int64() || max->get_int64() < 1) {
        return Bad("The maximum tokens you requested must be a positive integer.");
      }
      r.max_tokens = max->get_int64();
    }
  }
  r.prompt_tokens = PromptTokens(r.messages);
  const json::value* tc = o.if_contains("toolConfig");
  if (tc != nullptr && tc->is_object()) {
    std::vector<std::string> names;
    if (const json::value* tools = tc->get_object().if_contains("tools");
        tools && tools->is_array()) {
      r.prompt_tokens += CountTokens(json::serialize(*tools));
      for (const json::value& t : tools->get_array()) {
        const json::value* spec = t.is_object() ? t.get_object().if_contains("toolSpec") : nullptr;
        const json::value* name =
            spec != nullptr && spec->is_object() ? spec->get_object().if_contains("name") : nullptr;
        if (name == nullptr || !name->is_string() || name->get_string().empty()) {
          return Bad("The toolSpec of every tool needs a name.");
        }
        names.emplace_back(name->get_string());
      }
    }
    const json::value* choice = tc->get_object().if_contains("toolChoice");
    const json::object* co = choice != nullptr ? choice->if_object() : nullptr;
    if (names.empty()) {
    } else if (co != nullptr && co->contains("tool") && co->at("tool").is_object()) {
      const json::value* name = co->at("tool").get_object().if_contains("name");
      r.tool_to_call =
          name != nullptr && name->is_string() ? std::string(name->get_string()) : names.front();
    } else if (co != nullptr && co->contains("any")) {
      r.tool_to_call = names.front();
    } else if (r.last_user_text.find("call_tool") != std::string::npos) {
      r.tool_to_call = names.front();
    }
  }
  return r;
}

std::string ConverseJson(const ReplyPlan& plan) {
  json::array content;
  std::string text;
  for (const auto& p : plan.pieces) text += p;
  if (!text.empty()) content.push_back(json::object{{"text", text}});
  if (plan.tool_call) {
    json::value input = json::object{};
    boost::system::error_code ec;
    json::value parsed = json::parse(plan.tool_call->arguments, ec);
    if (!ec) input = std::move(parsed);
    content.push_back(
        json::object{{"toolUse", json::object{{"toolUseId", ToolUseId(*plan.tool_call)},
                                              {"name", plan.tool_call->name},
                                              {"input", std::move(input)}}}});
  }
  return json::serialize(json::object{
      {"output", json::object{{"message", json::object{{"role", "assistant"},
                                                       {"content", std::move(content)}}}}},
      {"stopReason", StopReason(plan)},
      {"usage", UsageJson(plan)},
      {"metrics", json::object{{"latencyMs", 0}}}});
}

StreamEvents ConverseStreamFrames(const ReplyPlan& plan) {
  StreamEvents s;
  s.done_sentinel = false;
  s.events.push_back(EventFrame("messageStart", json::object{{"role", "assistant"}}));
  s.first_token = s.events.size();
  int64_t block = 0;
  if (!plan.pieces.empty()) {
    for (const auto& piece : plan.pieces) {
      s.events.push_back(EventFrame(
          "contentBlockDelta",
          json::object{{"contentBlockIndex", block}, {"delta", json::object{{"text", piece}}}}));
    }
    s.events.push_back(EventFrame("contentBlockStop", json::object{{"contentBlockIndex", block}}));
    ++block;
  }
  if (plan.tool_call) {
    const SimToolCall& call = *plan.tool_call;
    s.events.push_back(EventFrame(
        "contentBlockStart",
        json::object{{"contentBlockIndex", block},
                     {"start", json::object{{"toolUse", json::object{{"toolUseId", ToolUseId(call)},
                                                                     {"name", call.name}}}}}}));
    std::vector<std::string> fragments = call.fragments;
    if (fragments.empty()) fragments.push_back(call.arguments);
    for (const auto& f : fragments) {
      s.events.push_back(EventFrame(
          "contentBlockDelta",
          json::object{{"contentBlockIndex", block},
                       {"delta", json::object{{"toolUse", json::object{{"input", f}}}}}}));
    }
    s.events.push_back(EventFrame("contentBlockStop", json::object{{"contentBlockIndex", block}}));
  }
  s.token_count = s.events.size() - s.first_token;
  s.events.push_back(EventFrame("messageStop", json::object{{"stopReason", StopReason(plan)}}));
  s.events.push_back(EventFrame(
      "metadata",
      json::object{{"usage", UsageJson(plan)}, {"metrics", json::object{{"latencyMs", 0}}}}));
  return s;
}

std::string BedrockExceptionFrame(std::string_view type, std::string_view message) {
  return dialects::bedrock::EncodeEventStreamMessage({{":exception-type", std::string(type)},
                                                      {":content-type", "application/json"},
                                                      {":message-type", "exception"}},
                                                     BedrockErrorJson(message));
}

Result<SimRequest> ParseTitanRequest(std::string_view model, std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return Bad("Malformed input request, please reformat your input.");
  const json::object& o = root.get_object();
  const json::value* text = o.if_contains("inputText");
  if (text == nullptr || !text->is_string() || text->get_string().empty()) {
    return Bad("Malformed input request: required key [inputText] not found");
  }
  SimRequest r;
  r.endpoint = Endpoint::kEmbeddings;
  r.model = std::string(model);
  r.inputs.emplace_back(text->get_string());
  r.dimensions = 1024;
  if (const json::value* d = o.if_contains("dimensions")) {
    const int64_t n = d->is_int64() ? d->get_int64() : 0;
    if (n != 256 && n != 512 && n != 1024) {
      return Bad("Malformed input request: dimensions must be one of 256, 512, 1024");
    }
    r.dimensions = n;
  }
  r.prompt_tokens = CountTokens(r.inputs[0]);
  return r;
}

std::string TitanEmbeddingJson(const SimRequest& request) {
  json::array values;
  const std::string& input = request.inputs.empty() ? std::string() : request.inputs[0];
  for (float f : EmbeddingVector(request.model, input, request.dimensions)) {
    values.push_back(static_cast<double>(f));
  }
  return json::serialize(json::object{{"embedding", std::move(values)},
                                      {"inputTextTokenCount", request.prompt_tokens}});
}

}  // namespace modelmux::sim
