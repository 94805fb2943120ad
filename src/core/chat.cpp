#include "core/chat.hpp"

namespace modelmux {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSystem:
      return "system";
    case Role::kDeveloper:
      return "developer";
    case Role::kUser:
      return "user";
    case Role::kAssistant:
      return "assistant";
    case Role::kTool:
      return "tool";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "system") return Role::kSystem;
  if (name == "developer") return Role::kDeveloper;
  if (name == "user") return Role::kUser;
  if (name == "assistant") return Role::kAssistant;
  if (name == "tool") return Role::kTool;
  return std::nullopt;
}

std::string Message::Text() const {
  std::string out;
  for (const auto& p : content) {
    if (p.type == PartType::kText) out += p.text;
  }
  return out;
}

size_t ChatRequest::PromptChars() const {
  size_t n = 0;
  for (const auto& m : messages) {
    for (const auto& p : m.content) {
      if (p.type != PartType::kText) continue;
      // Count code points, not bytes: prompt_len is in characters.
      for (unsigned char c : p.text) n += (c & 0xC0) != 0x80;
    }
  }
  return n;
}

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone:
      return "";
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kToolCalls:
      return "tool_calls";
    case FinishReason::kContentFilter:
      return "content_filter";
    case FinishReason::kError:
      return "error";
    case FinishReason::kOther:
      return "stop";
  }
  return "stop";
}

FinishReason ParseOpenAiFinishReason(std::string_view raw) {
  if (raw.empty()) return FinishReason::kNone;
  if (raw == "stop") return FinishReason::kStop;
  if (raw == "length") return FinishReason::kLength;
  if (raw == "tool_calls" || raw == "function_call") return FinishReason::kToolCalls;
  if (raw == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kOther;
}

}  // namespace modelmux
