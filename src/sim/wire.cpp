#include "sim/wire.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr int64_t kModelsCreated = 1700000000;
constexpr std::string_view kFingerprint = "sim";

json::value StrOrNull(std::string_view s) {
  return s.empty() ? json::value(nullptr) : json::value(json::string(s));
}

// OpenAI's usage (cache reads in prompt_tokens_details), or DeepSeek's (prompt_cache_hit_tokens
// and prompt_cache_miss_tokens, no prompt_tokens_details). Neither reports cache writes.
json::object UsageObject(const ReplyPlan& plan) {
  json::object u{
      {"prompt_tokens", plan.prompt_tokens},
      {"completion_tokens", plan.completion_tokens},
      {"total_tokens", plan.prompt_tokens + plan.completion_tokens},
  };
  if (plan.deepseek_usage) {
    u["prompt_cache_hit_tokens"] = plan.cached_tokens;
    u["prompt_cache_miss_tokens"] = plan.prompt_tokens - plan.cached_tokens;
  } else {
    u["prompt_tokens_details"] = json::object{{"cached_tokens", plan.cached_tokens}};
  }
  u["completion_tokens_details"] = json::object{{"reasoning_tokens", plan.reasoning_tokens}};
  return u;
}

json::object Envelope(const ResponseMeta& meta, std::string_view object) {
  return json::object{{"id", meta.id},
                      {"object", object},
                      {"created", meta.created},
                      {"model", meta.model},
                      {"system_fingerprint", kFingerprint}};
}

std::string Join(const std::vector<std::string>& pieces) {
  std::string s;
  for (const std::string& p : pieces) s += p;
  return s;
}

json::object ChatChunk(const ResponseMeta& meta, json::object delta, std::string_view finish,
                       bool include_usage) {
  json::object chunk = Envelope(meta, "chat.completion.chunk");
  chunk["choices"] = json::array{json::object{{"index", 0},
                                              {"delta", std::move(delta)},
                                              {"logprobs", nullptr},
                                              {"finish_reason", StrOrNull(finish)}}};
  if (include_usage) chunk["usage"] = nullptr;
  return chunk;
}

}  // namespace

std::string ErrorJson(std::string_view message, std::string_view type, std::string_view param,
                      std::string_view code) {
  return json::serialize(json::object{{"error", json::object{{"message", message},
                                                             {"type", type},
                                                             {"param", StrOrNull(param)},
                                                             {"code", StrOrNull(code)}}}});
}

std::string StatusErrorJson(int status, std::string_view model, double retry_in_s) {
  switch (status) {
    case 400:
      return ErrorJson("Simulated bad request.", "invalid_request_error", "", "sim_bad_request");
    case 401:
      return ErrorJson(
          "Incorrect API key provided. You can find your API key at "
          "https://platform.openai.com/account/api-keys.",
          "invalid_request_error", "", "invalid_api_key");
    case 403:
      return ErrorJson("You are not allowed to make this request (simulated).", "permission_error",
                       "", "permission_denied");
    case 404:
      return ErrorJson(
          "The model `" + std::string(model) + "` does not exist or you do not have access to it.",
          "invalid_request_error", "", "model_not_found");
    case 429: {
      char buf[160];
      std::snprintf(buf, sizeof(buf),
                    "Rate limit reached for requests (simulated). Please try again in %gs.",
                    retry_in_s);
      return ErrorJson(buf, "requests", "", "rate_limit_exceeded");
    }
    case 500:
      return ErrorJson("The server had an error while processing your request. Sorry about that!",
                       "server_error");
    case 502:
      return ErrorJson("Bad gateway.", "server_error", "", "bad_gateway");
    case 503:
      return ErrorJson("The engine is currently overloaded, please try again later.",
                       "server_error", "", "service_unavailable");
    case 504:
      return ErrorJson("Gateway timeout.", "server_error", "", "timeout");
    default:
      return ErrorJson("Simulated error (HTTP " + std::to_string(status) + ").",
                       status >= 500 ? "server_error" : "invalid_request_error");
  }
}

std::string ChatCompletionJson(const ResponseMeta& meta, const ReplyPlan& plan) {
  json::object message{{"role", "assistant"}};
  if (plan.tool_call) {
    message["content"] = nullptr;
    message["tool_calls"] = json::array{json::object{
        {"id", plan.tool_call->id},
        {"type", "function"},
        {"function",
         json::object{{"name", plan.tool_call->name}, {"arguments", plan.tool_call->arguments}}}}};
  } else {
    message["content"] = Join(plan.pieces);
  }
  message["refusal"] = nullptr;
  json::object o = Envelope(meta, "chat.completion");
  o["choices"] = json::array{json::object{{"index", 0},
                                          {"message", std::move(message)},
                                          {"logprobs", nullptr},
                                          {"finish_reason", plan.finish_reason}}};
  o["usage"] = UsageObject(plan);
  return json::serialize(o);
}

std::string CompletionJson(const ResponseMeta& meta, const ReplyPlan& plan) {
  json::object o = Envelope(meta, "text_completion");
  o["choices"] = json::array{json::object{{"text", Join(plan.pieces)},
                                          {"index", 0},
                                          {"logprobs", nullptr},
                                          {"finish_reason", plan.finish_reason}}};
  o["usage"] = UsageObject(plan);
  return json::serialize(o);
}

StreamEvents ChatStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan, bool include_usage) {
  StreamEvents s;
  json::object role{{"role", "assistant"},
                    {"content", plan.tool_call ? json::value(nullptr) : json::value("")}};
  if (!plan.tool_call) role["refusal"] = nullptr;
  s.events.push_back(json::serialize(ChatChunk(meta, std::move(role), "", include_usage)));
  s.first_token = s.events.size();
  if (plan.tool_call) {
    const SimToolCall& call = *plan.tool_call;
    for (size_t i = 0; i < call.fragments.size(); ++i) {
      json::object tc{{"index", 0}};
      if (i == 0) {
        tc["id"] = call.id;
        tc["type"] = "function";
        tc["function"] = json::object{{"name", call.name}, {"arguments", call.fragments[i]}};
      } else {
        tc["function"] = json::object{{"arguments", call.fragments[i]}};
      }
      json::object delta{{"tool_calls", json::array{std::move(tc)}}};
      s.events.push_back(json::serialize(ChatChunk(meta, std::move(delta), "", include_usage)));
    }
  } else {
    for (const std::string& piece : plan.pieces) {
      json::object delta{{"content", piece}};
      s.events.push_back(json::serialize(ChatChunk(meta, std::move(delta), "", include_usage)));
    }
  }
  s.token_count = s.events.size() - s.first_token;
  s.events.push_back(
      json::serialize(ChatChunk(meta, json::object{}, plan.finish_reason, include_usage)));
  if (include_usage) {
    json::object u = Envelope(meta, "chat.completion.chunk");
    u["choices"] = json::array{};
    u["usage"] = UsageObject(plan);
    s.events.push_back(json::serialize(u));
  }
  return s;
}

StreamEvents CompletionStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan,
                                    bool include_usage) {
  StreamEvents s;
  auto chunk = [&](std::string_view text, std::string_view finish) {
    json::object o = Envelope(meta, "text_completion");
    o["choices"] = json::array{json::object{
        {"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", StrOrNull(finish)}}};
    if (include_usage) o["usage"] = nullptr;
    return json::serialize(o);
  };
  for (const std::string& piece : plan.pieces) s.events.push_back(chunk(piece, ""));
  s.token_count = s.events.size();
  s.events.push_back(chunk("", plan.finish_reason));
  if (include_usage) {
    json::object u = Envelope(meta, "text_completion");
    u["choices"] = json::array{};
    u["usage"] = UsageObject(plan);
    s.events.push_back(json::serialize(u));
  }
  return s;
}

std::string MidStreamErrorJson() {
  return ErrorJson("simulated mid-stream error", "server_error", "", "sim_error");
}

std::string EmbeddingsJson(const SimRequest& request) {
  json::array data;
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    std::vector<float> v = EmbeddingVector(request.model, request.inputs[i], request.dimensions);
    json::value embedding;
    if (request.base64) {
      std::string bytes(v.size() * sizeof(float), '\0');
      for (size_t k = 0; k < v.size(); ++k) {  // little-endian float32
        uint32_t bits;
        std::memcpy(&bits, &v[k], sizeof(bits));
        for (size_t b = 0; b < 4; ++b)
          bytes[k * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);
      }
      embedding = json::string(Base64Encode(bytes));
    } else {
      json::array a;
      a.reserve(v.size());
      for (float x : v) a.emplace_back(static_cast<double>(x));
      embedding = std::move(a);
    }
    data.emplace_back(json::object{{"object", "embedding"},
                                   {"index", static_cast<int64_t>(i)},
                                   {"embedding", std::move(embedding)}});
  }
  return json::serialize(
      json::object{{"object", "list"},
                   {"data", std::move(data)},
                   {"model", request.model},
                   {"usage", json::object{{"prompt_tokens", request.prompt_tokens},
                                          {"total_tokens", request.prompt_tokens}}}});
}

std::string ModelJson(std::string_view id) {
  return json::serialize(json::object{
      {"id", id}, {"object", "model"}, {"created", kModelsCreated}, {"owned_by", "sim"}});
}

std::string ModelsJson() {
  json::array data;
  for (std::string_view id : {"sim/echo", "sim/chat", "sim/vision", "gpt-4o-mini"}) {
    data.push_back(json::parse(ModelJson(id)));
  }
  return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

}  // namespace modelmux::sim
