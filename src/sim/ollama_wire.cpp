#include "sim/ollama_wire.hpp"
#include "sim/media_report.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr int64_t kImageTokens = 85;
constexpr int64_t kNanosPerToken = 20'000'000;  // the durations the answers report

Error Invalid(std::string message) {
  return InvalidRequest(std::move(message));
}

std::string_view DoneReason(const ReplyPlan& plan) {
  return plan.finish_reason == "length" ? "length" : "stop";
}

std::string CreatedAt(const ResponseMeta& meta, int64_t step) {
  return OllamaTime(meta.created, step * 1000 + 1);
}

json::object Counts(const ReplyPlan& plan) {
  return json::object{{"total_duration", (plan.completion_tokens + 1) * kNanosPerToken},
                      {"load_duration", kNanosPerToken},
                      {"prompt_eval_count", plan.prompt_tokens},
                      {"prompt_eval_duration", kNanosPerToken / 2},
                      {"eval_count", plan.completion_tokens},
                      {"eval_duration", plan.completion_tokens * kNanosPerToken}};
}

json::array ToolCalls(const SimToolCall& call) {
  json::value args = json::parse(call.arguments);
  return json::array{
      json::object{{"function", json::object{{"name", call.name}, {"arguments", args}}}}};
}

}  // namespace

OllamaEndpoint OllamaEndpointOf(std::string_view path) {
  if (path.starts_with("/ollama/")) path.remove_prefix(7);
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/api/chat") return OllamaEndpoint::kChat;
  if (path == "/api/embed") return OllamaEndpoint::kEmbed;
  if (path == "/api/tags") return OllamaEndpoint::kTags;
  return OllamaEndpoint::kNone;
}

std::string OllamaErrorJson(std::string_view message) {
  return json::serialize(json::object{{"error", message}});
}

std::string OllamaStatusMessage(int status, std::string_view model) {
  switch (status) {
    case 404:
      return "model \"" + std::string(model.empty() ? "unknown" : model) +
             "\" not found, try pulling it first";
    case 400:
      return "invalid request (simulated)";
    case 429:
      return "server busy, please try again (simulated)";
    case 503:
      return "server overloaded, please retry shortly (simulated)";
    default:
      return "simulated error " + std::to_string(status);
  }
}

Result<SimRequest> ParseOllamaChat(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Invalid("invalid character in request body");
  const json::object& o = v.get_object();
  SimRequest r;
  r.endpoint = Endpoint::kChat;
  r.stream = true;  // Ollama's default
  const json::value* model = o.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return Invalid("model is required");
  }
  r.model = std::string(model->get_string());
  const json::value* messages = o.if_contains("messages");
  if (messages != nullptr && !messages->is_array()) return Invalid("messages must be an array");
  if (messages != nullptr) {
    for (const json::value& mv : messages->get_array()) {
      const json::object* m = mv.if_object();
      const json::value* role = m != nullptr ? m->if_contains("role") : nullptr;
      if (role == nullptr || !role->is_string()) return Invalid("message role is required");
      const std::string rn(role->get_string());
      if (rn != "system" && rn != "user" && rn != "assistant" && rn != "tool") {
        return Invalid("invalid role: " + rn);
      }
      SimMessage sm{rn, "", 0, {}};
      if (const json::value* c = m->if_contains("content")) {
        if (!c->is_string()) return Invalid("message content must be a string");
        sm.text = std::string(c->get_string());
      }
      if (const json::value* images = m->if_contains("images"); images && !images->is_null()) {
        if (!images->is_array()) return Invalid("images must be an array of base64 strings");
        for (const json::value& img : images->get_array()) {
          if (!img.is_string() || img.get_string().starts_with("data:") ||
              img.get_string().starts_with("http")) {
            return Invalid("images must be raw base64 strings");
          }
          sm.extra_tokens += kImageTokens;
          sm.media.push_back(DescribeMedia(MediaKind::kImage, img.get_string(), true));
        }
      }
      if (rn == "user") r.last_user_text = sm.text;
      r.messages.push_back(std::move(sm));
    }
  }
  if (r.messages.empty()) return Invalid("messages are required");
  if (const json::value* s = o.if_contains("stream")) {
    if (!s->is_bool()) return Invalid("stream must be a boolean");
    r.stream = s->get_bool();
  }
  if (const json::value* opts = o.if_contains("options")) {
    if (!opts->is_object()) return Invalid("options must be an object");
    if (const json::value* n = opts->get_object().if_contains("num_predict")) {
      if (!n->is_int64()) return Invalid("num_predict must be an integer");
      if (n->get_int64() > 0) r.max_tokens = n->get_int64();
    }
  }
  if (const json::value* tools = o.if_contains("tools")) {
    if (!tools->is_array()) return Invalid("tools must be an array");
    for (const json::value& t : tools->get_array()) {
      const json::object* to = t.if_object();
      const json::value* f = to != nullptr ? to->if_contains("function") : nullptr;
      const json::value* name =
          f != nullptr && f->is_object() ? f->get_object().if_contains("name") : nullptr;
      if (name == nullptr || !name->is_string()) return Invalid("tools need function.name");
      if (r.tool_to_call.empty() && r.last_user_text.find("call_tool") != std::string::npos) {
        r.tool_to_call = std::string(name->get_string());
      }
    }
  }
  r.prompt_tokens = PromptTokens(r.messages);
  return r;
}

Result<SimRequest> ParseOllamaEmbed(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return Invalid("invalid character in request body");
  const json::object& o = v.get_object();
  SimRequest r;
  r.endpoint = Endpoint::kEmbeddings;
  const json::value* model = o.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return Invalid("model is required");
  }
  r.model = std::string(model->get_string());
  const json::value* input = o.if_contains("input");
  if (input != nullptr && input->is_string()) {
    r.inputs.emplace_back(input->get_string());
  } else if (input != nullptr && input->is_array()) {
    for (const json::value& s : input->get_array()) {
      if (!s.is_string()) return Invalid("input must be a string or an array of strings");
      r.inputs.emplace_back(s.get_string());
    }
  }
  if (r.inputs.empty()) return Invalid("input is required");
  r.dimensions = kDefaultDimensions;
  if (const json::value* d = o.if_contains("dimensions")) {
    if (!d->is_int64() || d->get_int64() < 1 || d->get_int64() > kMaxDimensions) {
      return Invalid("dimensions must be an integer in [1, 4096]");
    }
    r.dimensions = d->get_int64();
  }
  for (const auto& s : r.inputs) r.prompt_tokens += CountTokens(s);
  return r;
}

std::string OllamaTime(int64_t unix_seconds, int64_t nanos) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%09lldZ", date, static_cast<long long>(nanos % 1000000000));
  return out;
}

std::string OllamaChatJson(const ResponseMeta& meta, const ReplyPlan& plan) {
  std::string text;
  for (const auto& p : plan.pieces) text += p;
  json::object message{{"role", "assistant"}, {"content", text}};
  if (plan.tool_call) message["tool_calls"] = ToolCalls(*plan.tool_call);
  json::object o{{"model", meta.model},
                 {"created_at", CreatedAt(meta, 0)},
                 {"message", std::move(message)},
                 {"done_reason", DoneReason(plan)},
                 {"done", true}};
  for (auto& [k, v] : Counts(plan)) o[k] = v;
  return json::serialize(o);
}

StreamEvents OllamaStreamLines(const ResponseMeta& meta, const ReplyPlan& plan) {
  StreamEvents s;
  s.done_sentinel = false;
  s.first_token = 0;
  int64_t step = 0;
  for (const auto& piece : plan.pieces) {
    s.events.push_back(json::serialize(
        json::object{{"model", meta.model},
                     {"created_at", CreatedAt(meta, step++)},
                     {"message", json::object{{"role", "assistant"}, {"content", piece}}},
                     {"done", false}}));
  }
  if (plan.tool_call) {
    s.events.push_back(json::serialize(json::object{
        {"model", meta.model},
        {"created_at", CreatedAt(meta, step++)},
        {"message",
         json::object{
             {"role", "assistant"}, {"content", ""}, {"tool_calls", ToolCalls(*plan.tool_call)}}},
        {"done", false}}));
  }
  s.token_count = s.events.size();
  json::object last{{"model", meta.model},
                    {"created_at", CreatedAt(meta, step)},
                    {"message", json::object{{"role", "assistant"}, {"content", ""}}},
                    {"done", true},
                    {"done_reason", DoneReason(plan)}};
  for (auto& [k, v] : Counts(plan)) last[k] = v;
  s.events.push_back(json::serialize(last));
  return s;
}

std::string OllamaEmbedJson(const SimRequest& request) {
  json::array embeddings;
  for (const auto& input : request.inputs) {
    json::array vec;
    for (float f : EmbeddingVector(request.model, input, request.dimensions)) {
      vec.emplace_back(static_cast<double>(f));
    }
    embeddings.push_back(std::move(vec));
  }
  return json::serialize(json::object{{"model", request.model},
                                      {"embeddings", std::move(embeddings)},
                                      {"total_duration", 14143917},
                                      {"load_duration", 1019500},
                                      {"prompt_eval_count", request.prompt_tokens}});
}

std::string OllamaTagsJson() {
  json::array models;
  for (std::string_view name :
       {"llama3.2:latest", "llava:latest", "all-minilm:latest", "echo:latest"}) {
    models.push_back(
        json::object{{"name", name},
                     {"model", name},
                     {"modified_at", "2024-01-01T00:00:00Z"},
                     {"size", 1000000},
                     {"digest", "sha256:" + std::string(64, '0')},
                     {"details", json::object{{"format", "gguf"}, {"family", "sim"}}}});
  }
  return json::serialize(json::object{{"models", std::move(models)}});
}

}  // namespace modelmux::sim
