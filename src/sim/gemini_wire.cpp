#include "sim/gemini_wire.hpp"

#include <boost/json.hpp>
#include <cstdio>

namespace modelmux::sim {
namespace json = boost::json;
namespace {

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%gs", s);
  return buf;
}

// promptTokenCount includes cached content; candidatesTokenCount leaves out the thoughts.
json::object Usage(const ReplyPlan& plan, int64_t candidates) {
  const int64_t prompt = plan.prompt_tokens;
  json::object u{{"promptTokenCount", prompt},
                 {"candidatesTokenCount", candidates},
                 {"totalTokenCount", prompt + candidates + plan.reasoning_tokens},
                 {"promptTokensDetails",
                  json::array{json::object{{"modality", "TEXT"}, {"tokenCount", prompt}}}}};
  if (plan.cached_tokens > 0) u["cachedContentTokenCount"] = plan.cached_tokens;
  if (plan.reasoning_tokens > 0) u["thoughtsTokenCount"] = plan.reasoning_tokens;
  return u;
}

// The visible completion tokens of the whole answer.
int64_t Candidates(const ReplyPlan& plan) {
  return plan.completion_tokens - plan.reasoning_tokens;
}

json::object Chunk(const ResponseMeta& meta, json::array parts, std::string_view finish,
                   const ReplyPlan& plan, int64_t candidates) {
  json::object cand{{"content", json::object{{"parts", std::move(parts)}, {"role", "model"}}},
                    {"index", 0}};
  if (!finish.empty()) cand["finishReason"] = finish;
  return json::object{{"candidates", json::array{std::move(cand)}},
                      {"usageMetadata", Usage(plan, candidates)},
                      {"modelVersion", meta.model},
                      {"responseId", meta.id}};
}

json::object FunctionCallPart(const SimToolCall& call) {
  boost::system::error_code ec;
  json::value args = json::parse(call.arguments, ec);
  if (ec) args = json::object{};
  return json::object{
      {"functionCall", json::object{{"name", call.name}, {"args", std::move(args)}}}};
}

}  // namespace

std::string_view GeminiStatusName(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 500:
      return "INTERNAL";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return status < 500 ? "FAILED_PRECONDITION" : "INTERNAL";
  }
}

std::string GeminiErrorJson(int status, std::string_view message) {
  return json::serialize(
      json::object{{"error", json::object{{"code", status},
                                          {"message", message},
                                          {"status", GeminiStatusName(status)}}}});
}

std::string GeminiStatusErrorJson(int status, std::string_view model,
                                  std::optional<double> retry_delay_s, bool bad_key) {
  std::string message;
  json::array details;
  switch (status) {
    case 400:
      message = bad_key ? "API key not valid. Please pass a valid API key."
                        : "Request contains an invalid argument. (simulated)";
      if (bad_key) {
        details.push_back(json::object{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                       {"reason", "API_KEY_INVALID"},
                                       {"domain", "googleapis.com"}});
      }
      break;
    case 403:
      message = "Method doesn't allow unregistered callers. (simulated)";
      break;
    case 404:
      message = "models/" + std::string(model) + " is not found for API version v1beta, or is " +
                "not supported for generateContent. (simulated)";
      break;
    case 429:
      message =
          "You exceeded your current quota, please check your plan and billing details. "
          "(simulated)";
      details.push_back(json::object{
          {"@type", "type.googleapis.com/google.rpc.QuotaFailure"},
          {"violations",
           json::array{json::object{
               {"quotaMetric", "generativelanguage.googleapis.com/generate_content_requests"},
               {"quotaId", "GenerateRequestsPerMinutePerProjectPerModel"}}}}});
      break;
    case 503:
      message = "The model is overloaded. Please try again later. (simulated)";
      break;
    default:
      message = status >= 500 ? "An internal error has occurred. (simulated)"
                              : "Request failed. (simulated)";
  }
  if (retry_delay_s) {
    details.push_back(json::object{{"@type", "type.googleapis.com/google.rpc.RetryInfo"},
                                   {"retryDelay", Seconds(*retry_delay_s)}});
  }
  json::object err{{"code", status}, {"message", message}, {"status", GeminiStatusName(status)}};
  if (!details.empty()) err["details"] = std::move(details);
  return json::serialize(json::object{{"error", std::move(err)}});
}

std::string_view GeminiFinishReason(std::string_view finish_reason) {
  return finish_reason == "length" ? "MAX_TOKENS" : "STOP";
}

std::string GeminiResponseJson(const ResponseMeta& meta, const ReplyPlan& plan) {
  json::array parts;
  if (plan.tool_call) {
    parts.push_back(FunctionCallPart(*plan.tool_call));
  } else {
    std::string text;
    for (const auto& p : plan.pieces) text += p;
    parts.push_back(json::object{{"text", std::move(text)}});
  }
  return json::serialize(Chunk(meta, std::move(parts), GeminiFinishReason(plan.finish_reason), plan,
                               Candidates(plan)));
}

StreamEvents GeminiStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan) {
  StreamEvents s;
  s.done_sentinel = false;
  const std::string_view finish = GeminiFinishReason(plan.finish_reason);
  if (plan.tool_call) {
    s.events.push_back(json::serialize(Chunk(meta, json::array{FunctionCallPart(*plan.tool_call)},
                                             finish, plan, Candidates(plan))));
    s.token_count = 1;
    return s;
  }
  if (plan.pieces.empty()) {
    s.events.push_back(json::serialize(
        Chunk(meta, json::array{json::object{{"text", ""}}}, finish, plan, Candidates(plan))));
    return s;
  }
  for (size_t i = 0; i < plan.pieces.size(); ++i) {
    const bool last = i + 1 == plan.pieces.size();
    s.events.push_back(json::serialize(
        Chunk(meta, json::array{json::object{{"text", plan.pieces[i]}}}, last ? finish : "", plan,
              last ? Candidates(plan) : static_cast<int64_t>(i + 1))));
  }
  s.token_count = plan.pieces.size();
  return s;
}

std::string GeminiMidStreamErrorJson() {
  return GeminiErrorJson(503,
                         "The model is overloaded. Please try again later. (simulated "
                         "mid-stream error)");
}

}  // namespace modelmux::sim
