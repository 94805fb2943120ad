#pragma once
// Multi-model pipelines (config `pipelines:`, docs/ROUTING.md "Pipelines"): the pure parts. How a
// vision_then_reason pipeline rewrites the conversation for its two models, how a fan_out judge
// is asked and how its verdict is read, which route a conditional pipeline takes, and how several
// answers become one. No I/O; the calls themselves are in routing/pipeline_run.hpp.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat.hpp"
#include "routing/config.hpp"

namespace modelmux::routing {

// The instruction a vision model gets when the pipeline sets no describe_prompt.
inline constexpr std::string_view kDefaultDescribePrompt =
    "Describe the image(s) in this message in detail for someone who cannot see them: the "
    "objects, people, any text (transcribed exactly), numbers, charts and tables, layout and "
    "colours. If there are several images, describe each in order, numbered. Describe only; do "
    "not answer any question about them.";

// A map_reduce pipeline's instructions when it sets none. {i} and {n} in a map prompt become the
// part's number and the number of parts.
inline constexpr std::string_view kDefaultMapPrompt =
    "You are reading part {i} of {n} of a text too long to read at once. Write notes on this part "
    "only: every fact, name, number, date and claim that an answer to the request may need, in "
    "the order they appear. Do not answer the request yet.";
inline constexpr std::string_view kDefaultReducePrompt =
    "The message below was too long to read at once, so it was read in {n} parts and notes were "
    "taken on each part, in order. Using the notes, respond to the request as if you had read "
    "the whole message.";

// The request header a conditional route's `tier` is matched against when the caller's virtual
// key binds no tier.
inline constexpr std::string_view kTierHeader = "x-modelmux-tier";
// A virtual key's tag "tier:<name>" binds the key to tier <name>.
inline constexpr std::string_view kTierTagPrefix = "tier:";

// The tier bound by the first "tier:<name>" tag of a key's tags; nullopt when there is none.
[[nodiscard]] std::optional<std::string_view> KeyTier(std::span<const std::string> key_tags);

// The caller's tier: the key's (KeyTier) when it binds one, whatever the header says (a caller
// cannot raise its own tier); else the x-modelmux-tier header's value (empty when absent).
[[nodiscard]] std::string_view EffectiveTier(std::span<const std::string> key_tags,
                                             std::string_view header);

// True when any message has an image part.
[[nodiscard]] bool HasImages(const ChatRequest& request);

// The vision model's request: the conversation's user messages that carry images (in order, all
// their parts), with `instruction` as the first text part of the last of them. Not streamed; no
// tools, response format, vendor fields or sampling settings of the caller's.
[[nodiscard]] ChatRequest VisionRequest(const ChatRequest& request, std::string vision_model,
                                        std::string_view instruction);

// The reasoner's request: the caller's request for `reasoner_model`, where the first image part
// becomes the text part "[image description: <description>]" and any later image part becomes
// "[image N: described above]" (one description covers every image).
[[nodiscard]] ChatRequest ReasonerRequest(const ChatRequest& request, std::string reasoner_model,
                                          std::string_view description);

// The judge's request: the question (the last user message's text) and the numbered candidate
// answers ([1], [2], ...); the judge is told to reply with the number of the best one only.
[[nodiscard]] ChatRequest JudgeRequest(const ChatRequest& request, std::string judge_model,
                                       const std::vector<std::string>& answers);

// The 0-based index named by the first integer in the judge's reply (1-based there); nullopt
// when there is none or it is out of [1, candidates].
[[nodiscard]] std::optional<size_t> ParseVerdict(std::string_view reply, size_t candidates);

// Whether a request with these facts satisfies `when` (every set field must hold). `tier` is the
// caller's EffectiveTier; `key_tags` the caller's virtual key's tags (empty without a key).
[[nodiscard]] bool Matches(const PipelineCondition& when, bool has_image, int64_t prompt_tokens,
                           std::string_view tier, std::span<const std::string> key_tags = {});

// The first route of a conditional pipeline that `request` matches (prompt tokens by
// text::EstimatePromptTokens); nullptr when none does.
[[nodiscard]] const PipelineRoute* PickRoute(const Pipeline& pipeline, const ChatRequest& request,
                                             std::string_view tier,
                                             std::span<const std::string> key_tags = {});

// The model a pipeline reports as its plan (/v1/models, the gateway's log before the call): the
// reasoner, the first fan-out model, or the last (default) route's model.
[[nodiscard]] const std::string& PrimaryModel(const Pipeline& pipeline);

// Map-reduce over a long input. The long input is the text of the last user message; the
// caller's system and developer messages carry the task to both steps.
[[nodiscard]] std::string LongInput(const ChatRequest& request);
// The chunk budget of a pipeline: chunk_tokens, else half of `map_context_window` (when known),
// else 4000.
[[nodiscard]] int64_t ChunkBudget(const Pipeline& pipeline,
                                  std::optional<int64_t> map_context_window);
// The request for part `index` (0-based) of `count`: the caller's system/developer messages, the
// map instruction as a system message, and the part as the user message. Not streamed; no tools,
// no response format; the caller's temperature is kept.
[[nodiscard]] ChatRequest MapRequest(const ChatRequest& request, const Pipeline& pipeline,
                                     std::string_view part, size_t index, size_t count);
// The reducer's request: the caller's request for pipeline.reduce, where the last user message's
// text becomes the reduce instruction followed by the notes ("[Part 1 of N]\n...").
[[nodiscard]] ChatRequest ReduceRequest(const ChatRequest& request, const Pipeline& pipeline,
                                        const std::vector<std::string>& notes);

// Several answers as one response: the first choice of each answer becomes choice k (0-based, in
// the order given); usage is the sum of the answers' usage (absent when none reported any); id
// and created are the first answer's; `model` names the response.
[[nodiscard]] ChatResponse MergeAnswers(const std::vector<ChatResponse>& answers,
                                        std::string model);

// A whole response as the events of a stream: per choice, a delta with the role, text,
// reasoning and tool calls, then one with the finish reason; then a usage event (when the
// response has usage) and kDone.
[[nodiscard]] std::vector<StreamEvent> ResponseEvents(const ChatResponse& response);

}  // namespace modelmux::routing
