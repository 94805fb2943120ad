#include "routing/pipeline_run.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "routing/pipeline.hpp"
#include "routing/router.hpp"
#include "routing/text_stage.hpp"
#include "text/chunker.hpp"
#include "text/count.hpp"

namespace modelmux::routing {
namespace asio = boost::asio;

namespace {

// Adds a member call's log to the pipeline's (everything but the deployment).
void Absorb(AttemptLog& into, const AttemptLog& from) {
  into.attempts += from.attempts;
  into.fallbacks.insert(into.fallbacks.end(), from.fallbacks.begin(), from.fallbacks.end());
  into.waited += from.waited;
  into.queued += from.queued;
  into.upstream += from.upstream;  // concurrent members may add up to more than the wall time
  into.notes.insert(into.notes.end(), from.notes.begin(), from.notes.end());
}

void AddUsage(ChatResponse& response, const std::optional<Usage>& more) {
  if (!more) return;
  if (!response.usage) response.usage = Usage{};
  *response.usage += *more;
}

// The context of one member call: its own request id suffix, so that the attempts of different
// calls never share an idempotency key (Dispatcher: "mm-" + request_id).
RequestContext MemberContext(const RequestContext& ctx, std::string_view role) {
  RequestContext out = ctx;
  out.request_id += "-";
  out.request_id += role;
  return out;
}

std::string_view Instruction(const Pipeline& pipeline) {
  return pipeline.describe_prompt.empty() ? kDefaultDescribePrompt
                                          : std::string_view(pipeline.describe_prompt);
}

Error NoRoute(const Pipeline& pipeline) {
  return Error{.kind = ErrorKind::kNotFound,
               .message = "no route of pipeline '" + pipeline.name + "' matches this request",
               .param = "model",
               .code = "model_not_found"};
}

std::span<const std::string> KeyTags(const RequestContext& ctx) {
  if (ctx.key_tags == nullptr) return {};
  return *ctx.key_tags;
}

// The conditional route for this caller: the tier bound to its key wins over the tier header
// (noted as "tier_header_ignored" when the header asked for another one).
const PipelineRoute* Route(const Pipeline& pipeline, const ChatRequest& request,
                           const RequestContext& ctx, const net::Headers& forward,
                           AttemptLog& log) {
  const auto tags = KeyTags(ctx);
  const std::string_view header = forward.Get(kTierHeader);
  const std::string_view tier = EffectiveTier(tags, header);
  if (!header.empty() && header != tier) log.notes.push_back("tier_header_ignored");
  return PickRoute(pipeline, request, tier, tags);
}

// The vision step: the description of the request's images, or the vision call's error.
struct Described {
  std::string text;
  std::optional<Usage> usage;
};

asio::awaitable<Result<Described>> Describe(const Router& router, const Pipeline& pipeline,
                                            const ChatRequest& request, const RequestContext& ctx,
                                            const net::Headers& forward, AttemptLog& log) {
  AttemptLog vision_log;
  auto answer = co_await router.Chat(VisionRequest(request, pipeline.vision, Instruction(pipeline)),
                                     MemberContext(ctx, "vision"), forward, &vision_log);
  Absorb(log, vision_log);
  if (!answer.ok()) co_return std::move(answer).error();
  Described out;
  if (!answer->choices.empty()) out.text = answer->choices.front().message.Text();
  out.usage = answer->usage;
  co_return out;
}

// One member of a fan-out, run concurrently with the others.
struct MemberAnswer {
  Result<ChatResponse> result;
  AttemptLog log;
};

asio::awaitable<MemberAnswer> CallMember(const Router* router, ChatRequest request,
                                         RequestContext ctx, net::Headers forward) {
  MemberAnswer out;
  out.result =
      co_await router->Chat(std::move(request), std::move(ctx), std::move(forward), &out.log);
  co_return out;
}

asio::awaitable<std::vector<MemberAnswer>> CallAll(const Router& router, const Pipeline& pipeline,
                                                   const ChatRequest& request,
                                                   const RequestContext& ctx,
                                                   const net::Headers& forward) {
  auto executor = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(executor, CallMember(&router, request, ctx, forward),
                                     asio::deferred));
  std::vector<Op> ops;
  ops.reserve(pipeline.models.size());
  for (size_t i = 0; i < pipeline.models.size(); ++i) {
    ChatRequest member = request;
    member.model = pipeline.models[i];
    RequestContext member_ctx = MemberContext(ctx, "m" + std::to_string(i + 1));
    ops.push_back(asio::co_spawn(
        executor, CallMember(&router, std::move(member), std::move(member_ctx), forward),
        asio::deferred));
  }
  auto all = co_await asio::experimental::make_parallel_group(std::move(ops))
                 .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  const std::vector<std::exception_ptr>& failures = std::get<1>(all);
  std::vector<MemberAnswer> answers = std::move(std::get<2>(all));
  for (size_t i = 0; i < answers.size() && i < failures.size(); ++i) {
    if (failures[i]) answers[i].result = Internal("pipeline member call threw");
  }
  co_return answers;
}

asio::awaitable<Result<ChatResponse>> FanOut(const Router& router, const Pipeline& pipeline,
                                             const ChatRequest& request, const RequestContext& ctx,
                                             const net::Headers& forward, AttemptLog& log) {
  std::vector<MemberAnswer> members = co_await CallAll(router, pipeline, request, ctx, forward);
  std::vector<ChatResponse> answers;
  std::vector<std::string> deployments;
  std::optional<Error> first_error;
  for (auto& m : members) {
    Absorb(log, m.log);
    if (!m.result.ok()) {
      if (!first_error) first_error = std::move(m.result).error();
      continue;
    }
    if (m.result->choices.empty()) continue;
    answers.push_back(std::move(m.result).value());
    deployments.push_back(m.log.deployment);
  }
  if (answers.empty()) {
    if (first_error) co_return std::move(*first_error);
    co_return Internal("no model of pipeline '" + pipeline.name + "' gave an answer");
  }
  if (pipeline.judge.empty()) {
    log.deployment.clear();
    for (const auto& d : deployments) log.deployment += (log.deployment.empty() ? "" : ",") + d;
    co_return MergeAnswers(answers, pipeline.name);
  }

  std::vector<std::string> texts;
  for (const auto& a : answers) texts.push_back(a.choices.front().message.Text());
  AttemptLog judge_log;
  auto verdict = co_await router.Chat(JudgeRequest(request, pipeline.judge, texts),
                                      MemberContext(ctx, "judge"), forward, &judge_log);
  Absorb(log, judge_log);
  size_t chosen = 0;
  if (!verdict.ok()) {
    log.notes.push_back("judge_failed");
  } else {
    std::string reply;
    if (!verdict->choices.empty()) reply = verdict->choices.front().message.Text();
    if (auto index = ParseVerdict(reply, answers.size())) {
      chosen = *index;
    } else {
      log.notes.push_back("judge_verdict_unusable");
    }
  }
  log.deployment = deployments[chosen];
  ChatResponse out = MergeAnswers({answers[chosen]}, answers[chosen].model);
  out.usage.reset();
  for (const auto& a : answers) AddUsage(out, a.usage);
  if (verdict.ok()) AddUsage(out, verdict->usage);
  co_return out;
}

// Map-reduce: the long input in parts under the map model's budget, each part's notes by the map
// model (`concurrency` calls at a time), then one answer by the reducer from the notes. A part
// that cannot be read fails the call: an answer from some of the parts would be silently wrong.
asio::awaitable<Result<ChatResponse>> MapReduce(const Router& router, const Pipeline& pipeline,
                                                const ChatRequest& request,
                                                const RequestContext& ctx,
                                                const net::Headers& forward, AttemptLog& log) {
  const Config& config = router.config();
  auto resolved = ResolveModel(config, pipeline.map);
  const std::string count_model = resolved.ok() ? resolved->model : pipeline.map;
  const int64_t budget = ChunkBudget(pipeline, ContextWindowFor(config, pipeline.map));
  const std::string input = LongInput(request);
  text::ChunkOptions options;
  options.max_tokens = budget;
  const auto chunks = text::PackSentences(
      input, options, [&](std::string_view t) { return text::CountText(count_model, t).tokens; });

  if (chunks.size() <= 1) {
    // It fits: the reducer answers the request as it is.
    ChatRequest direct = request;
    direct.model = pipeline.reduce;
    AttemptLog member;
    auto answer = co_await router.Chat(std::move(direct), ctx, forward, &member);
    Absorb(log, member);
    log.deployment = member.deployment;
    log.notes.push_back("map_reduce_parts:1");
    co_return answer;
  }

  auto executor = co_await asio::this_coro::executor;
  const size_t wave = std::max<size_t>(1, pipeline.concurrency);
  std::vector<std::string> notes(chunks.size());
  std::optional<Usage> map_usage;
  for (size_t start = 0; start < chunks.size(); start += wave) {
    const size_t end = std::min(chunks.size(), start + wave);
    using Op = decltype(asio::co_spawn(executor, CallMember(&router, request, ctx, forward),
                                       asio::deferred));
    std::vector<Op> ops;
    for (size_t i = start; i < end; ++i) {
      ops.push_back(asio::co_spawn(
          executor,
          CallMember(&router, MapRequest(request, pipeline, chunks[i].text, i, chunks.size()),
                     MemberContext(ctx, "map" + std::to_string(i + 1)), forward),
          asio::deferred));
    }
    auto all = co_await asio::experimental::make_parallel_group(std::move(ops))
                   .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    const std::vector<std::exception_ptr>& failures = std::get<1>(all);
    std::vector<MemberAnswer> answers = std::move(std::get<2>(all));
    for (size_t k = 0; k < answers.size(); ++k) {
      Absorb(log, answers[k].log);
      if (k < failures.size() && failures[k]) co_return Internal("map call threw");
      if (!answers[k].result.ok()) co_return std::move(answers[k].result).error();
      const ChatResponse& r = *answers[k].result;
      if (!r.choices.empty()) notes[start + k] = r.choices.front().message.Text();
      if (r.usage) {
        if (!map_usage) map_usage = Usage{};
        *map_usage += *r.usage;
      }
    }
  }
  log.notes.push_back("map_reduce_parts:" + std::to_string(chunks.size()));
  AttemptLog reduce_log;
  auto answer = co_await router.Chat(ReduceRequest(request, pipeline, notes),
                                     MemberContext(ctx, "reduce"), forward, &reduce_log);
  Absorb(log, reduce_log);
  log.deployment = reduce_log.deployment;
  if (answer.ok()) AddUsage(*answer, map_usage);
  co_return answer;
}

}  // namespace

asio::awaitable<Result<ChatResponse>> PipelineChat(const Router& router, const Pipeline& pipeline,
                                                   ChatRequest request, RequestContext ctx,
                                                   net::Headers forward, AttemptLog* log_out) {
  request.stream = false;
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  switch (pipeline.kind) {
    case PipelineKind::kVisionThenReason: {
      std::optional<Usage> vision_usage;
      std::string description;
      const bool images = HasImages(request);
      if (images) {
        MM_CO_TRY(Described d, co_await Describe(router, pipeline, request, ctx, forward, log));
        description = std::move(d.text);
        vision_usage = d.usage;
      }
      ChatRequest reasoner =
          images ? ReasonerRequest(request, pipeline.reasoner, description) : std::move(request);
      reasoner.model = pipeline.reasoner;
      AttemptLog reasoner_log;
      auto answer = co_await router.Chat(std::move(reasoner), ctx, forward, &reasoner_log);
      Absorb(log, reasoner_log);
      log.deployment = reasoner_log.deployment;
      if (answer.ok()) AddUsage(*answer, vision_usage);
      co_return answer;
    }
    case PipelineKind::kFanOut:
      co_return co_await FanOut(router, pipeline, request, ctx, forward, log);
    case PipelineKind::kConditional: {
      const PipelineRoute* route = Route(pipeline, request, ctx, forward, log);
      if (route == nullptr) co_return NoRoute(pipeline);
      request.model = route->model;
      co_return co_await router.Chat(std::move(request), std::move(ctx), std::move(forward), &log);
    }
    case PipelineKind::kMapReduce:
      co_return co_await MapReduce(router, pipeline, request, ctx, forward, log);
  }
  co_return Internal("unknown pipeline kind");
}

asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> PipelineStream(
    const Router& router, const Pipeline& pipeline, ChatRequest request, RequestContext ctx,
    net::Headers forward, AttemptLog* log_out) {
  request.stream = true;
  AttemptLog local;
  AttemptLog& log = log_out ? *log_out : local;
  switch (pipeline.kind) {
    case PipelineKind::kVisionThenReason: {
      std::optional<Usage> vision_usage;
      std::string description;
      const bool images = HasImages(request);
      if (images) {
        MM_CO_TRY(Described d, co_await Describe(router, pipeline, request, ctx, forward, log));
        description = std::move(d.text);
        vision_usage = d.usage;
      }
      ChatRequest reasoner =
          images ? ReasonerRequest(request, pipeline.reasoner, description) : std::move(request);
      reasoner.model = pipeline.reasoner;
      AttemptLog reasoner_log;
      auto stream = co_await router.OpenStream(std::move(reasoner), ctx, forward, &reasoner_log);
      Absorb(log, reasoner_log);
      log.deployment = reasoner_log.deployment;
      if (stream.ok() && vision_usage) (*stream)->AddUsage(*vision_usage);
      co_return stream;
    }
    case PipelineKind::kFanOut: {
      MM_CO_TRY(ChatResponse whole, co_await FanOut(router, pipeline, request, ctx, forward, log));
      co_return std::make_unique<UpstreamStream>(ResponseEvents(whole));
    }
    case PipelineKind::kConditional: {
      const PipelineRoute* route = Route(pipeline, request, ctx, forward, log);
      if (route == nullptr) co_return NoRoute(pipeline);
      request.model = route->model;
      co_return co_await router.OpenStream(std::move(request), std::move(ctx), std::move(forward),
                                           &log);
    }
    case PipelineKind::kMapReduce: {
      MM_CO_TRY(ChatResponse whole,
                co_await MapReduce(router, pipeline, request, ctx, forward, log));
      co_return std::make_unique<UpstreamStream>(ResponseEvents(whole));
    }
  }
  co_return Internal("unknown pipeline kind");
}

}  // namespace modelmux::routing
