#include "sim/anthropic_wire.hpp"

#include <boost/json.hpp>

namespace modelmux::sim {
namespace json = boost::json;
namespace {

// Anthropic's input_tokens leave out the cache reads and writes, which are counted apart.
json::object Usage(const ReplyPlan& plan, int64_t output_tokens) {
  return json::object{
      {"input_tokens", plan.prompt_tokens - plan.cached_tokens - plan.cache_write_tokens},
      {"cache_creation_input_tokens", plan.cache_write_tokens},
      {"cache_read_input_tokens", plan.cached_tokens},
      {"output_tokens", output_tokens}};
}

std::string Join(const std::vector<std::string>& pieces) {
  std::string s;
  for (const std::string& p : pieces) s += p;
  return s;
}

json::value ToolInput(const SimToolCall& call) {
  boost::system::error_code ec;
  json::value v = json::parse(call.arguments, ec);
  if (ec || !v.is_object()) return json::object{};
  return v;
}

json::object MessageObject(const ResponseMeta& meta, json::array content, json::value stop_reason,
                           json::object usage) {
  return json::object{{"id", meta.id},
                      {"type", "message"},
                      {"role", "assistant"},
                      {"model", meta.model},
                      {"content", std::move(content)},
                      {"stop_reason", std::move(stop_reason)},
                      {"stop_sequence", nullptr},
                      {"usage", std::move(usage)}};
}

}  // namespace

std::string AnthropicErrorJson(std::string_view type, std::string_view message) {
  return json::serialize(json::object{
      {"type", "error"}, {"error", json::object{{"type", type}, {"message", message}}}});
}

std::string_view AnthropicErrorType(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string AnthropicStatusErrorJson(int status, std::string_view model) {
  std::string_view type = AnthropicErrorType(status);
  std::string message;
  switch (status) {
    case 400:
      message = "Simulated bad request.";
      break;
    case 401:
      message = "invalid x-api-key";
      break;
    case 403:
      message = "Your API key does not have permission to use the specified resource.";
      break;
    case 404:
      message = "model: " + std::string(model);
      break;
    case 429:
      message = "Number of requests has exceeded your rate limit (simulated).";
      break;
    case 500:
      message = "Internal server error";
      break;
    case 529:
      message = "Overloaded";
      break;
    default:
      message = "Simulated error (HTTP " + std::to_string(status) + ").";
  }
  return AnthropicErrorJson(type, message);
}

std::string_view AnthropicStopReason(std::string_view finish_reason) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls") return "tool_use";
  return "end_turn";
}

std::string ToolUseId(const SimToolCall& call) {
  constexpr std::string_view kOpenAiPrefix = "call_sim_";
  std::string_view id = call.id;
  if (id.starts_with(kOpenAiPrefix)) id.remove_prefix(kOpenAiPrefix.size());
  return "toolu_sim_" + std::string(id);
}

std::string AnthropicMessageJson(const ResponseMeta& meta, const ReplyPlan& plan) {
  json::array content;
  if (plan.tool_call) {
    content.push_back(json::object{{"type", "tool_use"},
                                   {"id", ToolUseId(*plan.tool_call)},
                                   {"name", plan.tool_call->name},
                                   {"input", ToolInput(*plan.tool_call)}});
  } else {
    content.push_back(json::object{{"type", "text"}, {"text", Join(plan.pieces)}});
  }
  return json::serialize(MessageObject(meta, std::move(content),
                                       json::string(AnthropicStopReason(plan.finish_reason)),
                                       Usage(plan, plan.completion_tokens)));
}

StreamEvents AnthropicStreamEvents(const ResponseMeta& meta, const ReplyPlan& plan) {
  StreamEvents s;
  s.done_sentinel = false;
  auto add = [&s](std::string_view name, json::object data) {
    json::object event{{"type", name}};  // "type" first, as Anthropic writes it
    for (auto& kv : data) event.emplace(kv.key(), std::move(kv.value()));
    s.names.emplace_back(name);
    s.events.push_back(json::serialize(event));
  };
  add("message_start",
      json::object{{"message", MessageObject(meta, json::array{}, nullptr, Usage(plan, 1))}});
  json::object block;
  if (plan.tool_call) {
    block = json::object{{"type", "tool_use"},
                         {"id", ToolUseId(*plan.tool_call)},
                         {"name", plan.tool_call->name},
                         {"input", json::object{}}};
  } else {
    block = json::object{{"type", "text"}, {"text", ""}};
  }
  add("content_block_start", json::object{{"index", 0}, {"content_block", std::move(block)}});
  add("ping", json::object{});
  s.first_token = s.events.size();
  if (plan.tool_call) {
    for (const std::string& fragment : plan.tool_call->fragments) {
      add("content_block_delta", json::object{{"index", 0},
                                              {"delta", json::object{{"type", "input_json_delta"},
                                                                     {"partial_json", fragment}}}});
    }
  } else {
    for (const std::string& piece : plan.pieces) {
      add("content_block_delta",
          json::object{{"index", 0},
                       {"delta", json::object{{"type", "text_delta"}, {"text", piece}}}});
    }
  }
  s.token_count = s.events.size() - s.first_token;
  add("content_block_stop", json::object{{"index", 0}});
  add("message_delta",
      json::object{{"delta", json::object{{"stop_reason", AnthropicStopReason(plan.finish_reason)},
                                          {"stop_sequence", nullptr}}},
                   {"usage", json::object{{"output_tokens", plan.completion_tokens}}}});
  add("message_stop", json::object{});
  return s;
}

std::string AnthropicMidStreamErrorJson() {
  return AnthropicErrorJson("overloaded_error", "Overloaded (simulated mid-stream error)");
}

std::string CountTokensJson(int64_t input_tokens) {
  return json::serialize(json::object{{"input_tokens", input_tokens}});
}

}  // namespace modelmux::sim
