#include "text/count.hpp"

#include <cstdio>

#include "core/json_escape.hpp"
#include "text/tiktoken.hpp"
#include "text/token_estimator.hpp"

namespace modelmux::text {
namespace {

// OpenAI's documented chat framing (cookbook "How to count tokens with tiktoken", for gpt-4o,
// gpt-4 and gpt-3.5-turbo-0613 and later): every message is wrapped in 3 tokens, a name costs 1
// on top of its text, and every reply is primed with 3 tokens (<|start|>assistant<|message|>).
constexpr int64_t kTokensPerMessage = 3;
constexpr int64_t kTokensPerName = 1;
constexpr int64_t kReplyPriming = 3;

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  AppendJsonEscaped(out, s);
  out += '"';
}

// The assistant's tool calls as the JSON array of the Chat Completions wire format.
std::string ToolCallsJson(const std::vector<ToolCall>& calls) {
  std::string out = "[";
  for (const auto& tc : calls) {
    if (out.size() > 1) out += ',';
    out += R"({"id":)";
    AppendJsonString(out, tc.id);
    out += R"(,"type":"function","function":{"name":)";
    AppendJsonString(out, tc.name);
    out += R"(,"arguments":)";
    AppendJsonString(out, tc.arguments);
    out += "}}";
  }
  out += ']';
  return out;
}

}  // namespace

std::string_view StripProviderPrefix(std::string_view model) {
  const auto slash = model.rfind('/');
  return slash == std::string_view::npos ? model : model.substr(slash + 1);
}

TokenCount CountText(std::string_view model, std::string_view text) {
  const auto encoding = EncodingForModel(StripProviderPrefix(model));
  if (!encoding) return {EstimateTokens(text), false, std::string(kEstimateEncoding)};
  const Tokenizer& tok = GetTokenizer(*encoding);
  return {static_cast<int64_t>(tok.Count(text)), true, std::string(tok.name())};
}

TokenCount CountPrompt(std::string_view model, const modelmux::ChatRequest& req) {
  const auto encoding = EncodingForModel(StripProviderPrefix(model));
  if (!encoding) return {EstimatePromptTokens(req), false, std::string(kEstimateEncoding)};
  const Tokenizer& tok = GetTokenizer(*encoding);
  auto count = [&tok](std::string_view s) { return static_cast<int64_t>(tok.Count(s)); };

  bool exact = true;
  int64_t total = kReplyPriming;
  for (const auto& m : req.messages) {
    total += kTokensPerMessage + count(RoleName(m.role));
    if (!m.name.empty()) total += count(m.name) + kTokensPerName;
    for (const auto& p : m.content) {
      switch (p.type) {
        case PartType::kText:
          total += count(p.text);
          break;
        case PartType::kImage:
          total += p.detail == "low" ? kImageTokensLow : kImageTokensHigh;
          exact = false;
          break;
        case PartType::kAudio:
          total += kAudioTokens;
          exact = false;
          break;
        case PartType::kVideo:
          total += kVideoTokens;
          exact = false;
          break;
      }
    }
    if (!m.tool_call_id.empty()) total += count(m.tool_call_id);
    if (!m.tool_calls.empty()) {
      total += count(ToolCallsJson(m.tool_calls));
      exact = false;
    }
  }
  if (!req.tools.empty()) {
    total += count(req.tools);
    exact = false;
  }
  if (!req.response_format.empty()) {
    total += count(req.response_format);
    exact = false;
  }
  return {total, exact, std::string(tok.name())};
}

}  // namespace modelmux::text
