#pragma once
// The request and answer types of the SDK: plain values with no dependency beyond the standard
// library. They mirror the OpenAI chat vocabulary (roles, finish reasons) whatever provider
// answers.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace modelmux::sdk {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as the model produced it
};

struct Message {
  std::string role = "user";  // "system", "developer", "user", "assistant" or "tool"
  std::string content;        // the text; may be empty for an assistant message with tool calls
  // Images sent after the text: http(s) URLs or data: URLs ("data:image/png;base64,...").
  std::vector<std::string> image_urls;
  // Local image files, sent after image_urls. Each is read when the call is made (chat(),
  // stream(), or *_async on the calling thread), its type taken from its bytes (never its
  // extension), and sent as a data: URL; the provider's limits then apply as to any image
  // (resized or re-encoded where needed). An http(s) or data: URL given here is sent as it is.
  // Errors, before any provider call ("invalid_request", param "messages[i].image_paths[j]"):
  // code "file_unreadable" (missing or unreadable), "unsupported_image_format" (not an image:
  // jpeg, png, webp, gif, heif, avif, tiff, bmp); "payload_too_large" with code
  // "media_too_large" for a file over 512 MiB.
  std::vector<std::string> image_paths;
  // Videos, sent after the images: http(s) URLs or data: URLs ("data:video/mp4;base64,...").
  // Providers with video input (Gemini, Qwen-VL) get the video; the others get frames sampled
  // from it, each preceded by its timestamp (docs/MULTIMODAL.md).
  std::vector<std::string> video_urls;
  // Local video files, sent after video_urls; read as image_paths are. Errors as there, with
  // "unsupported_video_format" (not mp4, mov, webm, mkv, avi, ...) or "video_unreadable"
  // (a container whose contents are broken).
  std::vector<std::string> video_paths;
  std::string name;                  // optional participant name
  std::string tool_call_id;          // role "tool": the call this message answers
  std::vector<ToolCall> tool_calls;  // role "assistant": calls the model made earlier

  // Shorthands: Message::User("Hello"), Message::System("Be brief."), ...
  static Message System(std::string text) { return Of("system", std::move(text)); }
  static Message User(std::string text, std::vector<std::string> images = {}) {
    Message m = Of("user", std::move(text));
    m.image_urls = std::move(images);
    return m;
  }
  // Local files instead of URLs: Message::UserFiles("What happens here?", {}, {"clip.mp4"}).
  static Message UserFiles(std::string text, std::vector<std::string> image_paths,
                           std::vector<std::string> video_paths = {}) {
    Message m = Of("user", std::move(text));
    m.image_paths = std::move(image_paths);
    m.video_paths = std::move(video_paths);
    return m;
  }
  static Message Assistant(std::string text) { return Of("assistant", std::move(text)); }
  static Message Tool(std::string call_id, std::string text) {
    Message m = Of("tool", std::move(text));
    m.tool_call_id = std::move(call_id);
    return m;
  }

 private:
  static Message Of(std::string role, std::string text) {
    Message m;
    m.role = std::move(role);
    m.content = std::move(text);
    return m;
  }
};

struct ChatOptions {
  // "provider/model" ("openai/gpt-4o-mini", "sim/echo"), an alias from the config, or a bare
  // name resolved by its family among the configured providers ("gpt-4o-mini").
  std::string model;
  std::vector<Message> messages;
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> seed;
  std::vector<std::string> stop;
  std::string tools;            // raw JSON array of OpenAI tool definitions; empty for none
  std::string tool_choice;      // raw JSON ("\"auto\"", {"type":"function",...}); empty for none
  std::string response_format;  // raw JSON object, e.g. {"type":"json_object"}; empty for none
  std::string user;             // end-user id passed to the provider
  // Text extensions (docs/TEXT.md): send the last user message one sentence per line, and add
  // domain context (background, glossary) as a system message. Both are counted and cached.
  bool split_sentences = false;
  std::string context;
  // stream(): deliver the final usage report as the last chunk. The stream's result carries the
  // usage whenever the provider reported one, as chat()'s does. Ignored by chat().
  bool include_usage = true;
  // Request headers. Simulator controls ("x-sim-status", "x-sim-ttft-ms", ... see docs/SIM.md),
  // used only by simulator providers, and "x-modelmux-tier", the tier a conditional pipeline's
  // `tier` routes match (docs/SDK.md "Pipelines"); other headers are ignored.
  std::map<std::string, std::string> headers;
  // The whole call, retries and fallbacks included. The call fails with kind "timeout" after it.
  std::chrono::milliseconds timeout{600'000};
};

struct Usage {
  int64_t prompt_tokens = 0;      // includes cached_tokens
  int64_t completion_tokens = 0;  // includes reasoning_tokens
  int64_t cached_tokens = 0;      // prompt tokens read from the provider's prompt cache
  int64_t reasoning_tokens = 0;
  [[nodiscard]] int64_t total() const { return prompt_tokens + completion_tokens; }
  friend bool operator==(const Usage&, const Usage&) = default;
};

// One answer of a response (ChatResult::choices).
struct ChatChoice {
  std::string text;
  std::string reasoning;
  std::string finish_reason;  // as ChatResult::finish_reason
  std::vector<ToolCall> tool_calls;
};

struct ChatResult {
  std::string id;         // the provider's response id
  std::string model;      // the model that answered, as the provider names it
  std::string text;       // the answer (first choice)
  std::string reasoning;  // reasoning text, where the provider returns it
  // "stop", "length", "tool_calls", "content_filter", "error"; empty when the stream was stopped
  // by the caller or the provider gave none.
  std::string finish_reason;
  std::vector<ToolCall> tool_calls;
  std::optional<Usage> usage;  // absent when the provider reported none
  // Every answer, in index order; choices[0] repeats text, reasoning, finish_reason and
  // tool_calls above. A fan_out pipeline without a judge returns one per member model that
  // answered, in its config order (docs/SDK.md "Pipelines"); other models return one.
  std::vector<ChatChoice> choices;
};

// One increment of a streamed answer. Any field may be empty: the first chunk often carries only
// the role, the last one only finish_reason or usage.
struct StreamChunk {
  std::string text;
  std::string reasoning;
  std::string finish_reason;
  std::optional<Usage> usage;  // the final usage, in the last chunk (ChatOptions::include_usage)
};

}  // namespace modelmux::sdk

#ifndef MODELMUX_BUILDING_SDK
namespace modelmux {
using sdk::ChatChoice;
using sdk::ChatOptions;
using sdk::ChatResult;
using sdk::Message;
using sdk::StreamChunk;
using sdk::ToolCall;
using sdk::Usage;
}  // namespace modelmux
#endif
