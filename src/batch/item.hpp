#pragma once
// One line of a batch input, parsed: the OpenAI Batch API form
//   {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}
// (url /v1/chat/completions or /v1/embeddings), or the simple form
//   {"id": 1, "prompt": "...", "image": "cat.jpg" | ["a.png", "https://..."], "model": "...",
//    "system": "...", "max_tokens": 100, "temperature": 0.2}
// Defaults (the command's flags) fill what a line leaves out. Pure, except CheckImages, which
// reads the local image files a line names (header only is interpreted, never decoded).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::batch {

enum class LineFormat { kBatchApi, kSimple };
enum class Endpoint { kChat, kEmbeddings };

struct Defaults {
  std::string model;  // used when a line names none
  std::string system;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
};

struct WorkItem {
  uint64_t line = 0;    // 1-based input line (the SDK: the request's index + 1)
  std::string key;      // the id as a string: what resume and duplicate checks compare
  std::string id_json;  // the id as the line wrote it (JSON text), echoed in the output
  LineFormat format = LineFormat::kSimple;
  Endpoint endpoint = Endpoint::kChat;
  ChatRequest chat;
  EmbeddingRequest embed;
  // Local image files of a simple line, in order; read into data: URLs only when sent.
  std::vector<std::string> image_files;
  [[nodiscard]] const std::string& model() const {
    return endpoint == Endpoint::kChat ? chat.model : embed.model;
  }
};

// Parses one line. Errors: kInvalidRequest with the message starting "line N: " and a code:
// "malformed_line" (not JSON, not an object, missing or wrong fields), "unsupported_url" (a Batch
// API url other than the two), "missing_model" (no model and no default), or the dialect's
// own validation error of the body.
[[nodiscard]] Result<WorkItem> ParseLine(std::string_view text, uint64_t line,
                                         const Defaults& defaults);

// Limits a local image must meet before any spend.
struct ImageCheck {
  uint64_t max_bytes = 20ull << 20;
};

// Checks every local image of `item`: the file exists, is at most max_bytes, is an image and its
// header's dimensions are decodable. Errors (message "line N: ..."): "image_not_found",
// "image_too_large", "unsupported_image_format", "image_unreadable".
[[nodiscard]] Status CheckImages(const WorkItem& item, const ImageCheck& check);

// Turns the item's local image files into data: URL parts of its last user message (done just
// before sending, so that a huge batch does not hold its images in memory).
[[nodiscard]] Status AttachImages(WorkItem& item);

// Prompt tokens of the item for its model (text/count.hpp: exact for OpenAI text, an estimate
// otherwise; a local image counts as one high-detail image).
[[nodiscard]] int64_t EstimatePromptTokens(const WorkItem& item);

}  // namespace modelmux::batch
