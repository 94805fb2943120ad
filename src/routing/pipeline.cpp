#include "routing/pipeline.hpp"

#include <algorithm>
#include <utility>

#include "text/token_estimator.hpp"

namespace modelmux::routing {
namespace {

ContentPart TextPart(std::string text) {
  ContentPart p;
  p.type = PartType::kText;
  p.text = std::move(text);
  return p;
}

bool MessageHasImage(const Message& m) {
  for (const auto& part : m.content) {
    if (part.type == PartType::kImage) return true;
  }
  return false;
}

// The caller's request with nothing but the conversation-independent settings kept.
ChatRequest Bare(const ChatRequest& request, std::string model) {
  ChatRequest out;
  out.model = std::move(model);
  out.user = request.user;
  return out;
}

}  // namespace

bool HasImages(const ChatRequest& request) {
  for (const auto& m : request.messages) {
    if (MessageHasImage(m)) return true;
  }
  return false;
}

ChatRequest VisionRequest(const ChatRequest& request, std::string vision_model,
                          std::string_view instruction) {
  ChatRequest out = Bare(request, std::move(vision_model));
  for (const auto& m : request.messages) {
    if (m.role == Role::kUser && MessageHasImage(m)) out.messages.push_back(m);
  }
  if (!out.messages.empty()) {
    Message& last = out.messages.back();
    last.content.insert(last.content.begin(), TextPart(std::string(instruction)));
    last.content_is_string = false;
  }
  return out;
}

ChatRequest ReasonerRequest(const ChatRequest& request, std::string reasoner_model,
                            std::string_view description) {
  ChatRequest out = request;
  out.model = std::move(reasoner_model);
  int images = 0;
  for (auto& m : out.messages) {
    for (auto& part : m.content) {
      if (part.type != PartType::kImage) continue;
      ++images;
      part = TextPart(images == 1 ? "[image description: " + std::string(description) + "]"
                                  : "[image " + std::to_string(images) + ": described above]");
    }
  }
  return out;
}

ChatRequest JudgeRequest(const ChatRequest& request, std::string judge_model,
                         const std::vector<std::string>& answers) {
  ChatRequest out = Bare(request, std::move(judge_model));
  out.temperature = 0;
  std::string question;
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role == Role::kUser) {
      question = it->Text();
      break;
    }
  }
  Message system;
  system.role = Role::kSystem;
  system.content.push_back(
      TextPart("You judge answers. Read the question and the numbered candidate answers, pick "
               "the one that is most correct, complete and helpful, and reply with its number "
               "only (for example: 2)."));
  std::string prompt = "Question:\n" + question + "\n\nCandidate answers:\n";
  for (size_t i = 0; i < answers.size(); ++i) {
    prompt += "\n[" + std::to_string(i + 1) + "]\n" + answers[i] + "\n";
  }
  prompt += "\nReply with the number of the best answer only.";
  Message user;
  user.role = Role::kUser;
  user.content.push_back(TextPart(std::move(prompt)));
  out.messages.push_back(std::move(system));
  out.messages.push_back(std::move(user));
  return out;
}

std::optional<size_t> ParseVerdict(std::string_view reply, size_t candidates) {
  size_t i = 0;
  while (i < reply.size() && (reply[i] < '0' || reply[i] > '9')) ++i;
  if (i == reply.size()) return std::nullopt;
  uint64_t n = 0;
  for (; i < reply.size() && reply[i] >= '0' && reply[i] <= '9'; ++i) {
    n = n * 10 + static_cast<uint64_t>(reply[i] - '0');
    if (n > candidates) return std::nullopt;  // also stops overflow
  }
  if (n < 1) return std::nullopt;
  return static_cast<size_t>(n - 1);
}

std::optional<std::string_view> KeyTier(std::span<const std::string> key_tags) {
  for (const auto& tag : key_tags) {
    if (tag.starts_with(kTierTagPrefix)) {
      return std::string_view(tag).substr(kTierTagPrefix.size());
    }
  }
  return std::nullopt;
}

std::string_view EffectiveTier(std::span<const std::string> key_tags, std::string_view header) {
  if (auto bound = KeyTier(key_tags)) return *bound;
  return header;
}

bool Matches(const PipelineCondition& when, bool has_image, int64_t prompt_tokens,
             std::string_view tier, std::span<const std::string> key_tags) {
  if (when.modality == Modality::kImage && !has_image) return false;
  if (when.modality == Modality::kText && has_image) return false;
  const auto tokens = static_cast<uint64_t>(prompt_tokens < 0 ? 0 : prompt_tokens);
  if (when.min_prompt_tokens && tokens < *when.min_prompt_tokens) return false;
  if (when.max_prompt_tokens && tokens > *when.max_prompt_tokens) return false;
  if (!when.tier.empty() && when.tier != tier) return false;
  if (!when.key_tags_any.empty() &&
      std::none_of(when.key_tags_any.begin(), when.key_tags_any.end(), [&](const auto& want) {
        return std::find(key_tags.begin(), key_tags.end(), want) != key_tags.end();
      })) {
    return false;
  }
  return true;
}

const PipelineRoute* PickRoute(const Pipeline& pipeline, const ChatRequest& request,
                               std::string_view tier, std::span<const std::string> key_tags) {
  const bool has_image = HasImages(request);
  const int64_t tokens = text::EstimatePromptTokens(request);
  for (const auto& route : pipeline.routes) {
    if (!route.when || Matches(*route.when, has_image, tokens, tier, key_tags)) return &route;
  }
  return nullptr;
}

const std::string& PrimaryModel(const Pipeline& pipeline) {
  static const std::string kNone;
  switch (pipeline.kind) {
    case PipelineKind::kVisionThenReason:
      return pipeline.reasoner;
    case PipelineKind::kFanOut:
      return pipeline.models.empty() ? kNone : pipeline.models.front();
    case PipelineKind::kConditional:
      return pipeline.routes.empty() ? kNone : pipeline.routes.back().model;
    case PipelineKind::kMapReduce:
      return pipeline.reduce;
  }
  return kNone;
}

ChatResponse MergeAnswers(const std::vector<ChatResponse>& answers, std::string model) {
  ChatResponse out;
  out.model = std::move(model);
  if (!answers.empty()) {
    out.id = answers.front().id;
    out.created = answers.front().created;
  }
  for (const auto& a : answers) {
    if (a.usage) {
      if (!out.usage) out.usage = Usage{};
      *out.usage += *a.usage;
    }
    if (a.choices.empty()) continue;
    Choice c = a.choices.front();
    c.index = static_cast<int>(out.choices.size());
    out.choices.push_back(std::move(c));
  }
  return out;
}

std::vector<StreamEvent> ResponseEvents(const ChatResponse& response) {
  std::vector<StreamEvent> out;
  auto event = [&](StreamEvent::Kind kind) {
    StreamEvent ev;
    ev.kind = kind;
    ev.id = response.id;
    ev.model = response.model;
    ev.created = response.created;
    return ev;
  };
  for (const auto& choice : response.choices) {
    StreamEvent body = event(StreamEvent::Kind::kDelta);
    StreamDelta d;
    d.index = choice.index;
    d.role = "assistant";
    d.text = choice.message.Text();
    d.reasoning = choice.message.reasoning;
    for (size_t i = 0; i < choice.message.tool_calls.size(); ++i) {
      const ToolCall& call = choice.message.tool_calls[i];
      d.tool_calls.push_back({static_cast<int>(i), call.id, call.name, call.arguments});
    }
    body.deltas.push_back(std::move(d));
    out.push_back(std::move(body));
    StreamEvent finish = event(StreamEvent::Kind::kDelta);
    StreamDelta f;
    f.index = choice.index;
    f.finish_reason =
        choice.finish_reason == FinishReason::kNone ? FinishReason::kStop : choice.finish_reason;
    f.finish_reason_raw = choice.finish_reason_raw;
    finish.deltas.push_back(std::move(f));
    out.push_back(std::move(finish));
  }
  if (response.usage) {
    StreamEvent usage = event(StreamEvent::Kind::kUsage);
    usage.usage = response.usage;
    out.push_back(std::move(usage));
  }
  out.push_back(event(StreamEvent::Kind::kDone));
  return out;
}

namespace {

// `prompt` with every {i} and {n} replaced.
std::string Fill(std::string_view prompt, size_t index, size_t count) {
  std::string out;
  out.reserve(prompt.size() + 8);
  for (size_t k = 0; k < prompt.size(); ++k) {
    if (prompt.compare(k, 3, "{i}") == 0) {
      out += std::to_string(index + 1);
      k += 2;
    } else if (prompt.compare(k, 3, "{n}") == 0) {
      out += std::to_string(count);
      k += 2;
    } else {
      out += prompt[k];
    }
  }
  return out;
}

Message TextMessage(Role role, std::string text) {
  Message m;
  m.role = role;
  m.content.push_back(TextPart(std::move(text)));
  return m;
}

const Message* LastUser(const ChatRequest& request) {
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role == Role::kUser) return &*it;
  }
  return nullptr;
}

}  // namespace

std::string LongInput(const ChatRequest& request) {
  const Message* last = LastUser(request);
  return last == nullptr ? std::string() : last->Text();
}

int64_t ChunkBudget(const Pipeline& pipeline, std::optional<int64_t> map_context_window) {
  if (pipeline.chunk_tokens > 0) return static_cast<int64_t>(pipeline.chunk_tokens);
  if (map_context_window && *map_context_window > 1) return *map_context_window / 2;
  return 4000;
}

ChatRequest MapRequest(const ChatRequest& request, const Pipeline& pipeline, std::string_view part,
                       size_t index, size_t count) {
  ChatRequest out = Bare(request, pipeline.map);
  out.temperature = request.temperature;
  for (const auto& m : request.messages) {
    if (m.role == Role::kSystem || m.role == Role::kDeveloper) out.messages.push_back(m);
  }
  const std::string_view prompt =
      pipeline.map_prompt.empty() ? kDefaultMapPrompt : std::string_view(pipeline.map_prompt);
  out.messages.push_back(TextMessage(Role::kSystem, Fill(prompt, index, count)));
  out.messages.push_back(TextMessage(Role::kUser, std::string(part)));
  return out;
}

ChatRequest ReduceRequest(const ChatRequest& request, const Pipeline& pipeline,
                          const std::vector<std::string>& notes) {
  ChatRequest out = request;
  out.model = pipeline.reduce;
  const std::string_view prompt = pipeline.reduce_prompt.empty()
                                      ? kDefaultReducePrompt
                                      : std::string_view(pipeline.reduce_prompt);
  std::string text = Fill(prompt, 0, notes.size());
  for (size_t k = 0; k < notes.size(); ++k) {
    text += "\n\n[Part " + std::to_string(k + 1) + " of " + std::to_string(notes.size()) + "]\n";
    text += notes[k];
  }
  for (auto it = out.messages.rbegin(); it != out.messages.rend(); ++it) {
    if (it->role != Role::kUser) continue;
    // The text parts give way to the notes; any other part (an image) stays.
    std::vector<ContentPart> kept;
    kept.push_back(TextPart(std::move(text)));
    for (auto& part : it->content) {
      if (part.type != PartType::kText) kept.push_back(std::move(part));
    }
    it->content = std::move(kept);
    it->content_is_string = it->content.size() == 1;
    break;
  }
  return out;
}

}  // namespace modelmux::routing
