#pragma once
// The seed's task endpoint, built on chat completions: one image or video and a task
// ("image-captioning", "ocr", "qa") become a chat request with the task's instruction.
// `POST /v1/describe` and `modelmux describe` both use it. Pure.

#include <optional>
#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/result.hpp"

namespace modelmux::routing {

enum class DescribeTask { kCaption, kOcr, kQa };

// "caption" | "image-captioning" | "video-captioning" -> kCaption; "ocr" | "text-recognition" ->
// kOcr; "qa" | "vqa" | "visual-question-answering" -> kQa. Errors name `task`.
[[nodiscard]] Result<DescribeTask> ParseDescribeTask(std::string_view name);
[[nodiscard]] std::string_view DescribeTaskName(DescribeTask task);

struct DescribeInput {
  std::string model;
  DescribeTask task = DescribeTask::kCaption;
  std::string question;  // kQa
  std::string media;     // a data: URL or an http(s) URL
  bool video = false;
  std::string detail;  // image detail hint
  std::optional<int64_t> max_tokens;
  std::string language;  // answer language hint ("zh", "en"); empty: the model's choice
};

// The chat request for a describe call. Errors: kQa without a question.
[[nodiscard]] Result<ChatRequest> BuildDescribeRequest(const DescribeInput& in);

// Parses a /v1/describe body: {"image"|"video": base64 | data: URL | http(s) URL, "task",
// "question", "model", "detail", "max_tokens", "language"}. Bare base64 (the seed's form) is
// wrapped into a data: URL (its type is sniffed later by the media stage). `default_model` is
// used when the body names none. Errors are OpenAI-style kInvalidRequest with the field as param.
[[nodiscard]] Result<DescribeInput> ParseDescribeBody(std::string_view body,
                                                      std::string_view default_model);

}  // namespace modelmux::routing
