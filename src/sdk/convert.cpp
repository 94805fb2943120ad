#include "sdk/convert.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "media/local_file.hpp"

namespace modelmux::sdk {
namespace {

// Largest local file a message may name (image_paths, video_paths).
constexpr uint64_t kMaxFileBytes = 512ull << 20;

::modelmux::Error BadRequest(std::string message, std::string param) {
  return ::modelmux::InvalidRequest(std::move(message), std::move(param), "invalid_request");
}

::modelmux::Status AddUrls(::modelmux::Message& m, const std::vector<std::string>& urls,
                           PartType type, const std::string& field) {
  for (const auto& url : urls) {
    if (url.empty()) {
      return BadRequest(type == PartType::kImage ? "empty image URL" : "empty video URL", field);
    }
    ContentPart part;
    part.type = type;
    part.url = url;
    m.content.push_back(std::move(part));
  }
  return ::modelmux::OkStatus();
}

// Local files become data: URLs here, so that the router (like the gateway) never reads files.
::modelmux::Status AddFiles(::modelmux::Message& m, const std::vector<std::string>& paths,
                            media::MediaArgKind kind, const std::string& field) {
  for (size_t j = 0; j < paths.size(); ++j) {
    const std::string param = field + "[" + std::to_string(j) + "]";
    if (paths[j].empty()) return BadRequest("empty file path", param);
    MM_TRY(std::string url, media::MediaArgToUrl(paths[j], kind, kMaxFileBytes, param));
    ContentPart part;
    part.type = kind == media::MediaArgKind::kImage ? PartType::kImage : PartType::kVideo;
    part.url = std::move(url);
    m.content.push_back(std::move(part));
  }
  return ::modelmux::OkStatus();
}

}  // namespace

::modelmux::Result<ChatRequest> ToCoreRequest(const ChatOptions& options, bool stream) {
  if (options.model.empty()) return BadRequest("model is required", "model");
  if (options.messages.empty()) return BadRequest("messages must not be empty", "messages");
  ChatRequest req;
  req.model = options.model;
  req.messages.reserve(options.messages.size());
  for (size_t i = 0; i < options.messages.size(); ++i) {
    const auto& in = options.messages[i];
    std::string at = "messages[" + std::to_string(i) + "]";
    auto role = ParseRole(in.role);
    if (!role) return BadRequest("unknown role '" + in.role + "'", at + ".role");
    ::modelmux::Message m;
    m.role = *role;
    m.name = in.name;
    m.tool_call_id = in.tool_call_id;
    const bool has_media = !in.image_urls.empty() || !in.image_paths.empty() ||
                           !in.video_urls.empty() || !in.video_paths.empty();
    if (!in.content.empty() || (in.tool_calls.empty() && !has_media)) {
      ContentPart text;
      text.type = PartType::kText;
      text.text = in.content;
      m.content.push_back(std::move(text));
    }
    MM_RETURN_IF_ERROR(AddUrls(m, in.image_urls, PartType::kImage, at + ".image_urls"));
    MM_RETURN_IF_ERROR(
        AddFiles(m, in.image_paths, media::MediaArgKind::kImage, at + ".image_paths"));
    MM_RETURN_IF_ERROR(AddUrls(m, in.video_urls, PartType::kVideo, at + ".video_urls"));
    MM_RETURN_IF_ERROR(
        AddFiles(m, in.video_paths, media::MediaArgKind::kVideo, at + ".video_paths"));
    m.content_is_string = !has_media;
    for (const auto& tc : in.tool_calls) {
      m.tool_calls.push_back(::modelmux::ToolCall{tc.id, tc.name, tc.arguments});
    }
    req.messages.push_back(std::move(m));
  }
  if (options.max_tokens) req.max_tokens = *options.max_tokens;
  req.temperature = options.temperature;
  req.top_p = options.top_p;
  req.seed = options.seed;
  req.stop = options.stop;
  req.tools = options.tools;
  req.tool_choice = options.tool_choice;
  req.response_format = options.response_format;
  req.user = options.user;
  if (options.split_sentences || !options.context.empty()) {
    boost::json::object extensions;
    if (options.split_sentences) extensions["split_sentences"] = true;
    if (!options.context.empty()) extensions["context"] = options.context;
    req.extra = boost::json::serialize(extensions);
  }
  req.stream = stream;
  req.include_usage = stream && options.include_usage;
  return req;
}

net::Headers ToForwardHeaders(const std::map<std::string, std::string>& headers) {
  net::Headers out;
  for (const auto& [name, value] : headers) out.Add(name, value);
  return out;
}

Usage FromCoreUsage(const ::modelmux::Usage& usage) {
  Usage out;
  out.prompt_tokens = usage.prompt_tokens;
  out.completion_tokens = usage.completion_tokens;
  out.cached_tokens = usage.cache_read_tokens;
  out.reasoning_tokens = usage.reasoning_tokens;
  return out;
}

Error FromCoreError(const ::modelmux::Error& error) {
  Error out;
  out.kind = std::string(ErrorKindName(error.kind));
  out.http_status = error.HttpStatus();
  out.message = error.message;
  out.code = error.code;
  out.param = error.param;
  out.provider = error.provider;
  out.provider_code = error.provider_code;
  out.upstream_status = error.upstream_status;
  out.retryable = error.Retry() == RetryClass::kRetry;
  out.retry_after = error.retry_after;
  return out;
}

ChatResult FromCoreResponse(const ChatResponse& response) {
  ChatResult out;
  out.id = response.id;
  out.model = response.model;
  std::vector<const ::modelmux::Choice*> ordered;
  for (const auto& choice : response.choices) ordered.push_back(&choice);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto* a, const auto* b) { return a->index < b->index; });
  for (const ::modelmux::Choice* choice : ordered) {
    ChatChoice c;
    c.text = choice->message.Text();
    c.reasoning = choice->message.reasoning;
    c.finish_reason = std::string(FinishReasonName(choice->finish_reason));
    for (const auto& tc : choice->message.tool_calls) {
      c.tool_calls.push_back(ToolCall{tc.id, tc.name, tc.arguments});
    }
    out.choices.push_back(std::move(c));
  }
  if (!out.choices.empty()) {
    // The first choice as the response's own fields (the API before choices existed).
    const ChatChoice& first = out.choices.front();
    out.text = first.text;
    out.reasoning = first.reasoning;
    out.finish_reason = first.finish_reason;
    out.tool_calls = first.tool_calls;
  }
  if (response.usage) out.usage = FromCoreUsage(*response.usage);
  return out;
}

std::optional<StreamChunk> StreamAssembler::OnEvent(const StreamEvent& event) {
  accumulator_.Add(event);
  StreamChunk chunk;
  bool any = false;
  for (const auto& delta : event.deltas) {
    if (delta.index != 0) continue;
    chunk.text += delta.text;
    chunk.reasoning += delta.reasoning;
    if (delta.finish_reason != FinishReason::kNone) {
      chunk.finish_reason = std::string(FinishReasonName(delta.finish_reason));
    }
    any = any || !delta.text.empty() || !delta.reasoning.empty() ||
          delta.finish_reason != FinishReason::kNone;
  }
  if (event.usage) {
    chunk.usage = FromCoreUsage(*event.usage);
    any = true;
  }
  if (!any) return std::nullopt;
  return chunk;
}

ChatResult StreamAssembler::Result(const std::optional<::modelmux::Usage>& final_usage) const {
  ChatResult out = FromCoreResponse(accumulator_.Response());
  if (final_usage) out.usage = FromCoreUsage(*final_usage);
  return out;
}

}  // namespace modelmux::sdk
