#pragma once
// The provider-neutral model of a chat call. Dialects translate their wire format to and from these
// types; everything in between (routing, cache, telemetry) sees only these. Fields that modelmux
// does not interpret but must pass on (tools, response_format, unknown vendor fields) are kept as
// raw JSON text so nothing is lost on the way through.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/usage.hpp"

namespace modelmux {

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };

[[nodiscard]] std::string_view RoleName(Role role);
[[nodiscard]] std::optional<Role> ParseRole(std::string_view name);

enum class PartType { kText, kImage, kVideo, kAudio };

// One piece of message content. For media, `url` is an http(s) URL or a data: URL.
struct ContentPart {
  PartType type = PartType::kText;
  std::string text;       // kText
  std::string url;        // kImage / kVideo / kAudio
  std::string detail;     // image detail hint: "low" | "high" | "auto" | ""
  std::string mime_type;  // when known
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as the model produced it
};

struct Message {
  Role role = Role::kUser;
  std::vector<ContentPart> content;
  bool content_is_string = true;  // the caller sent `content` as a plain string
  std::string name;
  std::string tool_call_id;          // role == kTool
  std::vector<ToolCall> tool_calls;  // role == kAssistant
  std::string reasoning;             // reasoning text, where a provider returns it

  // Concatenation of the text parts.
  [[nodiscard]] std::string Text() const;
};

struct ChatRequest {
  std::string model;  // as the caller named it
  std::vector<Message> messages;
  std::optional<int64_t> max_tokens;         // max_tokens or max_completion_tokens
  bool max_completion_tokens_field = false;  // which field name the caller used
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> n;
  std::optional<int64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;    // stream_options.include_usage
  std::string tools;             // raw JSON array, empty if absent
  std::string tool_choice;       // raw JSON, empty if absent
  std::string response_format;   // raw JSON, empty if absent
  std::string reasoning_effort;  // empty if absent
  std::string user;
  std::string extra;  // raw JSON object of fields not named above; "" if none

  // Total characters of text across messages (the log's prompt_len).
  [[nodiscard]] size_t PromptChars() const;
};

enum class FinishReason { kNone, kStop, kLength, kToolCalls, kContentFilter, kError, kOther };

[[nodiscard]] std::string_view FinishReasonName(FinishReason reason);  // OpenAI vocabulary
[[nodiscard]] FinishReason ParseOpenAiFinishReason(std::string_view raw);

struct Choice {
  int index = 0;
  Message message;  // role kAssistant
  FinishReason finish_reason = FinishReason::kNone;
  std::string finish_reason_raw;  // the provider's own value
};

struct ChatResponse {
  std::string id;
  std::string model;  // the model that answered, as the provider named it
  int64_t created = 0;
  std::vector<Choice> choices;
  std::optional<Usage> usage;
  std::string system_fingerprint;
};

// One increment of a streamed answer, in the neutral form.
struct StreamDelta {
  int index = 0;
  std::string role;  // set on the first delta of a choice, else empty
  std::string text;
  std::string reasoning;
  struct ToolCallFragment {
    int index = 0;
    std::string id;         // first fragment only
    std::string name;       // first fragment only
    std::string arguments;  // a piece of the JSON text
  };
  std::vector<ToolCallFragment> tool_calls;
  FinishReason finish_reason = FinishReason::kNone;
  std::string finish_reason_raw;
};

struct StreamEvent {
  enum class Kind { kDelta, kUsage, kDone, kError };
  Kind kind = Kind::kDelta;
  std::string id;
  std::string model;
  int64_t created = 0;
  std::vector<StreamDelta> deltas;  // kDelta
  std::optional<Usage> usage;       // kUsage (may also ride on a kDelta)
  std::string error_message;        // kError
};

}  // namespace modelmux
