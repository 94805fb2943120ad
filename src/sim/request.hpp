#pragma once
// Parsing of the OpenAI request bodies the simulator answers, straight from Boost.JSON (an
// independent implementation: it does not share code with src/dialects/openai, so tests catch
// mistakes on either side), and the reply plan computed from a parsed request. Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace modelmux::sim {

// kMessages and kCountTokens are the Anthropic Messages API (see anthropic_request.hpp).
enum class Endpoint { kChat, kCompletions, kEmbeddings, kMessages, kCountTokens };

struct SimMessage {
  std::string role;
  std::string text;                // text parts joined with '\n'
  int64_t extra_tokens = 0;        // images, audio, tool calls
  std::vector<std::string> media;  // DescribeMedia lines (sim/media_report.hpp), in order
};

struct SimRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::string model;
  bool stream = false;
  bool include_usage = false;
  std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::vector<SimMessage> messages;   // legacy prompt: one "user" message
  std::string last_user_text;
  int64_t prompt_tokens = 0;
  std::string tool_to_call;  // empty: answer with text
  // Embeddings.
  std::vector<std::string> inputs;
  int64_t dimensions = 0;
  bool base64 = false;
};

// Parses a body for `endpoint`. `fallback_model` is used when the body names none (Azure
// deployments). Errors are kInvalidRequest with an OpenAI-style message, param and code.
[[nodiscard]] Result<SimRequest> ParseRequest(Endpoint endpoint, std::string_view body,
                                              std::string_view fallback_model = {});

// Prompt tokens of chat messages: sum of CountTokens(text) + 4 + extra_tokens per message.
[[nodiscard]] int64_t PromptTokens(const std::vector<SimMessage>& messages);

inline constexpr int64_t kDefaultChatTokens = 32;  // natural length of generated chat replies
inline constexpr int64_t kLegacyMaxTokens = 16;    // OpenAI's default max_tokens for /completions
inline constexpr int64_t kDefaultDimensions = 64;
inline constexpr int64_t kMaxDimensions = 4096;
inline constexpr int64_t kMaxOutputTokens = 4096;

struct SimToolCall {
  std::string id;
  std::string name;
  std::string arguments;               // JSON text
  std::vector<std::string> fragments;  // arguments split for streaming (3 or more)
};

struct ReplyPlan {
  std::vector<std::string> pieces;  // one per completion token
  std::optional<SimToolCall> tool_call;
  std::string finish_reason;  // "stop", "length" or "tool_calls"
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  // Set by ApplyUsageControls (options.hpp) from x-sim-* headers; 0 otherwise.
  int64_t cached_tokens = 0;       // of prompt_tokens: read from the provider's prompt cache
  int64_t cache_write_tokens = 0;  // of prompt_tokens: written to it
  int64_t reasoning_tokens = 0;    // of completion_tokens: thinking, not in `pieces`
  bool deepseek_usage = false;     // report DeepSeek's prompt_cache_hit/miss_tokens shape
};

// True for "sim/echo" and any model whose name contains "echo".
[[nodiscard]] bool IsEchoModel(std::string_view model);

// What to answer. `natural_tokens` overrides the length of generated (non-echo) text.
[[nodiscard]] ReplyPlan PlanReply(const SimRequest& request,
                                  std::optional<int64_t> natural_tokens = std::nullopt);

// The vector size an embeddings model answers with when the request sets none: the real model's
// (text-embedding-3-small and ada-002 1536, text-embedding-3-large 3072, gemini-embedding-001
// 3072, text-embedding-004 768, embedding-v1 384, bge_large_zh/en and tao_8k 1024), compared
// case-insensitively on the name after any "models/" prefix; kDefaultDimensions for any other.
[[nodiscard]] int64_t DefaultEmbeddingDimensions(std::string_view model);

// Deterministic unit vector for one embedding input (float32 values): a function of the model
// name, the text and the size only, so every dialect of the simulator gives the same vector for
// the same (model, text, dimensions).
[[nodiscard]] std::vector<float> EmbeddingVector(std::string_view model, std::string_view input,
                                                 int64_t dimensions);

}  // namespace modelmux::sim
