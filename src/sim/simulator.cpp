#include "sim/simulator.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "auth/zhipu_signer.hpp"
#include "sim/anthropic_request.hpp"
#include "sim/anthropic_wire.hpp"
#include "sim/bedrock_wire.hpp"
#include "sim/context_window.hpp"
#include "sim/dashscope_wire.hpp"
#include "sim/family.hpp"
#include "sim/files.hpp"
#include "sim/gemini_request.hpp"
#include "sim/hunyuan_wire.hpp"
#include "sim/ollama_wire.hpp"
#include "sim/qianfan_wire.hpp"
#include "sim/request.hpp"
#include "sim/routes.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr int64_t kCreatedEpoch = 1700000000;

template <class Rep, class Period>
asio::awaitable<bool> Sleep(std::chrono::duration<Rep, Period> d) {
  if (d.count() <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

// content-type and the request id (`x-request-id`, and Anthropic's `request-id` too).
net::Headers JsonHeaders(int64_t request_number, bool anthropic = false) {
  net::Headers h;
  h.Add("content-type", "application/json");
  if (request_number > 0) {
    h.Add("x-request-id", "sim-req-" + std::to_string(request_number));
    if (anthropic) h.Add("request-id", "req_sim_" + std::to_string(request_number));
  }
  return h;
}

bool IsAnthropic(Endpoint e) {
  return e == Endpoint::kMessages || e == Endpoint::kCountTokens;
}

// An RFC 3339 UTC timestamp `in` from now (Anthropic's rate-limit reset headers).
std::string Rfc3339In(std::chrono::milliseconds in) {
  auto t = std::chrono::system_clock::to_time_t(
      std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::seconds>(in));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", s);
  return buf;
}

// retry-after / retry-after-ms from the controls; `fallback_s` when none is set and a hint is due.
void AddRetryAfter(net::Headers& h, const Controls& c, std::optional<double> fallback_s) {
  if (c.retry_after_s) {
    h.Add("retry-after", FormatSeconds(*c.retry_after_s));
  } else if (!c.retry_after_ms && fallback_s) {
    h.Add("retry-after", FormatSeconds(*fallback_s));
  }
  if (c.retry_after_ms) h.Add("retry-after-ms", std::to_string(*c.retry_after_ms));
  if (c.should_retry) h.Add("x-should-retry", *c.should_retry ? "true" : "false");
}

void AddRateHeaders(net::Headers& h, const RateDecision& d, bool anthropic) {
  if (anthropic) {
    std::string reset = Rfc3339In(d.reset_in);
    if (d.limit_requests > 0) {
      h.Add("anthropic-ratelimit-requests-limit", std::to_string(d.limit_requests));
      h.Add("anthropic-ratelimit-requests-remaining", std::to_string(d.remaining_requests));
      h.Add("anthropic-ratelimit-requests-reset", reset);
    }
    if (d.limit_tokens > 0) {
      h.Add("anthropic-ratelimit-tokens-limit", std::to_string(d.limit_tokens));
      h.Add("anthropic-ratelimit-tokens-remaining", std::to_string(d.remaining_tokens));
      h.Add("anthropic-ratelimit-tokens-reset", reset);
    }
    return;
  }
  std::string reset = FormatGoDuration(d.reset_in);
  if (d.limit_requests > 0) {
    h.Add("x-ratelimit-limit-requests", std::to_string(d.limit_requests));
    h.Add("x-ratelimit-remaining-requests", std::to_string(d.remaining_requests));
    h.Add("x-ratelimit-reset-requests", reset);
  }
  if (d.limit_tokens > 0) {
    h.Add("x-ratelimit-limit-tokens", std::to_string(d.limit_tokens));
    h.Add("x-ratelimit-remaining-tokens", std::to_string(d.remaining_tokens));
    h.Add("x-ratelimit-reset-tokens", reset);
  }
}

std::string RateLimitMessage(const RateDecision& d) {
  double wait_s = static_cast<double>(d.reset_in.count()) / 1000.0;
  std::string m = "Rate limit reached for requests (simulated) on ";
  if (d.by_tokens) {
    m += "tokens per min (TPM): Limit " + std::to_string(d.limit_tokens) + ", Used " +
         std::to_string(d.limit_tokens - d.remaining_tokens) + ", Requested " +
         std::to_string(d.requested_tokens);
  } else {
    m += "requests per min (RPM): Limit " + std::to_string(d.limit_requests) + ", Used " +
         std::to_string(d.limit_requests - d.remaining_requests) + ", Requested 1";
  }
  return m + ". Please try again in " + FormatSeconds(wait_s) + "s.";
}

std::string_view PathOf(std::string_view target) {
  return target.substr(0, std::min(target.find('?'), target.size()));
}

bool KeyMatches(const net::Headers& h, std::string_view key, bool anthropic) {
  if (anthropic) return h.Get("x-api-key") == key;
  std::string_view auth = h.Get("authorization");
  if (auth.size() > 7 && net::IEquals(auth.substr(0, 7), "bearer ") && auth.substr(7) == key) {
    return true;
  }
  return h.Get("api-key") == key;
}

}  // namespace

struct Simulator::Call {
  SimRequest request;
  Controls controls;
  ReplyPlan plan;
  ResponseMeta meta;
  int64_t number = 0;
  net::Headers headers;  // rate-limit headers for a success
};

struct Simulator::Immediate {
  int status = 200;
  net::Headers headers;
  std::string body;
};

struct Simulator::Prepared {
  std::optional<Immediate> immediate;  // answer this at once (errors, models)
  bool reset = false;                  // close without a response
  milliseconds stall{0};               // wait before anything is written
  Call call;                           // otherwise: answer this call
};

namespace {

StreamEvents StreamEventsFor(const SimRequest& request, const ResponseMeta& meta,
                             const ReplyPlan& plan) {
  if (request.endpoint == Endpoint::kMessages) return AnthropicStreamEvents(meta, plan);
  if (request.endpoint == Endpoint::kChat) {
    return ChatStreamEvents(meta, plan, request.include_usage);
  }
  return CompletionStreamEvents(meta, plan, request.include_usage);
}

}  // namespace

Simulator::Simulator(SimOptions options, Clock clock)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      rate_(options_.rpm, options_.tpm, options_.window),
      fail_(options_.seed) {}

std::string Simulator::StatsJson() const {
  return stats_.Json();
}

void Simulator::Reset() {
  stats_.Reset();
  rate_.Reset();
  fail_.Reset();
  counter_.store(0);
}

asio::awaitable<void> Simulator::SendJson(net::ResponseWriter& writer, int status,
                                          net::Headers headers, std::string body) {
  stats_.CountStatus(status);
  Status st = co_await writer.Send(status, std::move(headers), std::move(body));
  (void)st;  // a failed write means the client is gone; nothing left to do
}

asio::awaitable<void> Simulator::Handle(net::ServerRequest& request, net::ResponseWriter& writer) {
  bool failed = false;
  try {
    std::string_view path = PathOf(request.target);
    if (path == "/sim/stats" && request.method == "GET") {
      Status st = co_await writer.Send(200, JsonHeaders(0), StatsJson());
      (void)st;
    } else if (path == "/sim/reset" && request.method == "POST") {
      Reset();
      Status st = co_await writer.Send(200, JsonHeaders(0), R"({"status":"ok"})");
      (void)st;
    } else {
      stats_.CountPath(path);
      if (IsFilesRequest(path, request.headers)) {
        co_await HandleFiles(request, writer, path, stats_);
      } else if (IsGeminiPath(path)) {
        co_await HandleGemini(request, writer, path);
      } else if (IsQianfanPath(path)) {
        co_await qianfan_.Handle(request, writer, path, options_, stats_);
      } else if (IsDashScopePath(path)) {
        co_await dashscope_.Handle(request, writer, path, options_, stats_);
      } else if (IsBedrockPath(path)) {
        co_await bedrock_.Handle(request, writer, path, options_, stats_);
      } else if (IsHunyuanRequest(path, request.headers)) {
        co_await hunyuan_.Handle(request, writer, options_, stats_);
      } else if (IsOllamaPath(path)) {
        co_await ollama_.Handle(request, writer, path, options_, stats_);
      } else {
        co_await HandleApi(request, writer, path);
      }
    }
  } catch (const std::exception&) {
    failed = true;
  }
  if (failed && !writer.started()) {
    co_await SendJson(writer, 500, JsonHeaders(0), StatusErrorJson(500, ""));
  }
}

// Everything that can be decided without waiting: the route, errors, limits, failures and the
// reply plan. A plain function (no coroutine), so the coroutines below stay simple.
Simulator::Prepared Simulator::Prepare(const net::ServerRequest& request, std::string_view path) {
  Prepared p;
  auto immediate = [&p](int status, net::Headers headers, std::string body) -> Prepared& {
    p.immediate = Immediate{status, std::move(headers), std::move(body)};
    return p;
  };
  Route route = MatchRoute(path);
  const bool anthropic = route.anthropic;
  const SimFamily family = FamilyOfPath(path);  // Azure, Zhipu, DeepSeek, Moonshot (family.hpp)
  // The body of an error with `status` in the route's dialect.
  auto status_body = [anthropic, family](int status, std::string_view model) {
    if (auto body = FamilyStatusErrorJson(family, status, model)) return std::move(*body);
    return anthropic ? AnthropicStatusErrorJson(status, model) : StatusErrorJson(status, model);
  };
  auto invalid_body = [anthropic](const Error& e) {
    return anthropic ? AnthropicErrorJson("invalid_request_error", e.message)
                     : ErrorJson(e.message, "invalid_request_error", e.param, e.code);
  };
  if (route.kind == RouteKind::kUnknown && anthropic) {
    return immediate(404, JsonHeaders(0), AnthropicErrorJson("not_found_error", "Not Found"));
  }
  if (route.kind == RouteKind::kUnknown) {
    return immediate(404, JsonHeaders(0),
                     ErrorJson("Invalid URL (" + request.method + " " + std::string(path) + ")",
                               "invalid_request_error"));
  }
  bool is_get = route.kind == RouteKind::kModels || route.kind == RouteKind::kModel;
  if (request.method != (is_get ? "GET" : "POST") && anthropic) {
    return immediate(405, JsonHeaders(0),
                     AnthropicErrorJson("invalid_request_error", "Method Not Allowed"));
  }
  if (request.method != (is_get ? "GET" : "POST")) {
    return immediate(
        405, JsonHeaders(0),
        ErrorJson("Invalid method for URL (" + request.method + " " + std::string(path) + ")",
                  "invalid_request_error", "", "method_not_allowed"));
  }
  if (auto refused = CheckFamilyRequest(family, request.target, request.headers,
                                        options_.require_key, auth::SystemUnixMs())) {
    return immediate(refused->status, JsonHeaders(0), std::move(refused->body));
  }
  if (!options_.require_key.empty() && !FamilyChecksOwnKey(family) &&
      !KeyMatches(request.headers, options_.require_key, anthropic)) {
    return immediate(401, JsonHeaders(0), status_body(401, ""));
  }
  auto controls = ReadControls(options_, request.headers);
  if (!controls.ok()) return immediate(400, JsonHeaders(0), invalid_body(controls.error()));
  const Controls& c = *controls;
  auto status_error = [&](int64_t number, std::string_view model) -> Prepared& {
    net::Headers h = JsonHeaders(number, anthropic);
    AddRetryAfter(h, c, *c.status == 429 ? std::optional<double>(1.0) : std::nullopt);
    return immediate(*c.status, std::move(h), status_body(*c.status, model));
  };
  if (is_get) {
    if (c.status && *c.status >= 400) return status_error(0, route.id);
    return immediate(200, JsonHeaders(0),
                     route.kind == RouteKind::kModels ? ModelsJson() : ModelJson(route.id));
  }

  Endpoint endpoint = route.kind == RouteKind::kChat          ? Endpoint::kChat
                      : route.kind == RouteKind::kCompletions ? Endpoint::kCompletions
                      : route.kind == RouteKind::kMessages    ? Endpoint::kMessages
                      : route.kind == RouteKind::kCountTokens ? Endpoint::kCountTokens
                                                              : Endpoint::kEmbeddings;
  auto parsed = anthropic ? ParseAnthropicRequest(endpoint, request.body)
                          : ParseRequest(endpoint, request.body, route.deployment);
  if (!parsed.ok() && parsed.error().kind == ErrorKind::kNotFound) {  // an unknown file id
    return immediate(404, JsonHeaders(0),
                     anthropic ? AnthropicErrorJson("not_found_error", parsed.error().message)
                               : ErrorJson(parsed.error().message, "invalid_request_error", "",
                                           parsed.error().code));
  }
  if (!parsed.ok()) return immediate(400, JsonHeaders(0), invalid_body(parsed.error()));
  Call& call = p.call;
  call.request = std::move(*parsed);
  call.controls = c;
  call.number = counter_.fetch_add(1) + 1;
  stats_.CountParsed(call.request.model);
  std::string_view id_prefix = endpoint == Endpoint::kChat       ? "chatcmpl-sim-"
                               : endpoint == Endpoint::kMessages ? "msg_sim_"
                                                                 : "cmpl-sim-";
  call.meta.id = std::string(id_prefix) + std::to_string(call.number);
  call.meta.created = kCreatedEpoch + call.number;
  call.meta.model = call.request.model;
  const bool answers_text = endpoint == Endpoint::kChat || endpoint == Endpoint::kCompletions ||
                            endpoint == Endpoint::kMessages;
  if (answers_text) {
    call.plan = PlanReply(call.request, c.output_tokens);
    ApplyUsageControls(c, call.plan);
    call.plan.deepseek_usage = family == SimFamily::kDeepSeek;
  }
  if (c.stall_at == StallAt::kHeaders) p.stall = c.stall;
  if (c.reset) {
    p.reset = true;
    return p;
  }
  if (c.status && *c.status >= 400) return status_error(call.number, call.request.model);
  if (auto window = SimContextWindow(call.request.model); window && answers_text) {
    const int64_t need = call.request.prompt_tokens + call.request.max_tokens.value_or(0);
    if (call.request.prompt_tokens > *window || need > *window) {
      return immediate(400, JsonHeaders(call.number, anthropic),
                       ContextLengthErrorJson(anthropic, need, *window));
    }
  }
  if (rate_.enabled()) {
    int64_t completion =
        answers_text ? call.request.max_tokens.value_or(call.plan.completion_tokens) : 0;
    RateDecision d = rate_.Admit(clock_(), call.request.prompt_tokens + completion);
    AddRateHeaders(call.headers, d, anthropic);
    if (!d.allowed) {
      net::Headers h = JsonHeaders(call.number, anthropic);
      auto secs = std::max<int64_t>(1, (d.reset_in.count() + 999) / 1000);
      h.Add("retry-after", std::to_string(secs));
      AddRateHeaders(h, d, anthropic);
      return immediate(429, std::move(h),
                       anthropic
                           ? AnthropicErrorJson("rate_limit_error", RateLimitMessage(d))
                           : ErrorJson(RateLimitMessage(d), d.by_tokens ? "tokens" : "requests", "",
                                       "rate_limit_exceeded"));
    }
  }
  if (fail_.Next(c.fail_rate)) {
    net::Headers h = JsonHeaders(call.number, anthropic);
    AddRetryAfter(h, c, std::nullopt);
    return immediate(c.fail_status, std::move(h), status_body(c.fail_status, call.request.model));
  }
  return p;
}

asio::awaitable<void> Simulator::HandleApi(net::ServerRequest& request, net::ResponseWriter& writer,
                                           std::string_view path) {
  Prepared p = Prepare(request, path);
  if (p.stall.count() > 0 && !co_await Sleep(p.stall)) co_return;
  if (p.reset) {
    stats_.CountReset();
    writer.Abort();
    co_return;
  }
  if (p.immediate) {
    Immediate& r = *p.immediate;
    co_await SendJson(writer, r.status, std::move(r.headers), std::move(r.body));
    co_return;
  }
  Endpoint endpoint = p.call.request.endpoint;
  bool stream =
      p.call.request.stream && (endpoint == Endpoint::kChat || endpoint == Endpoint::kCompletions ||
                                endpoint == Endpoint::kMessages);
  if (stream) {
    co_await AnswerStream(p.call, writer);
  } else {
    co_await Answer(p.call, writer);
  }
}

asio::awaitable<void> Simulator::Answer(Call& call, net::ResponseWriter& writer) {
  const Controls& c = call.controls;
  if (!co_await Sleep(c.NonStreamDelay(call.plan.completion_tokens))) co_return;
  std::string body;
  switch (call.request.endpoint) {
    case Endpoint::kChat:
      body = ChatCompletionJson(call.meta, call.plan);
      break;
    case Endpoint::kCompletions:
      body = CompletionJson(call.meta, call.plan);
      break;
    case Endpoint::kEmbeddings:
      body = EmbeddingsJson(call.request);
      break;
    case Endpoint::kMessages:
      body = AnthropicMessageJson(call.meta, call.plan);
      break;
    case Endpoint::kCountTokens:
      body = CountTokensJson(call.request.prompt_tokens);
      break;
  }
  net::Headers h = JsonHeaders(call.number, IsAnthropic(call.request.endpoint));
  for (const auto& [k, v] : call.headers) h.Add(k, v);
  bool stall_body = c.stall.count() > 0 && c.stall_at == StallAt::kBody;
  if (!c.cut_after && !stall_body) {
    co_await SendJson(writer, 200, std::move(h), std::move(body));
    co_return;
  }
  // Headers first, then (after a stall) the body, or only its first cut_after bytes and a close.
  stats_.CountStatus(200);
  if (!(co_await writer.StartStream(200, std::move(h))).ok()) co_return;
  if (stall_body && !co_await Sleep(c.stall)) co_return;
  if (c.cut_after) {
    auto n = std::min<size_t>(static_cast<size_t>(*c.cut_after), body.size() / 2);
    if (n > 0 && !(co_await writer.Write(std::string_view(body).substr(0, n))).ok()) co_return;
    writer.Abort();
    co_return;
  }
  if (!(co_await writer.Write(body)).ok()) co_return;
  Status st = co_await writer.Finish();
  (void)st;
}

asio::awaitable<void> Simulator::AnswerStream(Call& call, net::ResponseWriter& writer) {
  const Controls& c = call.controls;
  StreamEvents s = StreamEventsFor(call.request, call.meta, call.plan);
  net::Headers h;
  h.Add("content-type", "text/event-stream; charset=utf-8");
  h.Add("cache-control", "no-cache");
  h.Add("x-request-id", "sim-req-" + std::to_string(call.number));
  if (IsAnthropic(call.request.endpoint)) {
    h.Add("request-id", "req_sim_" + std::to_string(call.number));
  }
  for (const auto& [k, v] : call.headers) h.Add(k, v);
  stats_.CountStatus(200);
  if (!(co_await writer.StartStream(200, std::move(h))).ok()) co_return;
  if (!co_await Sleep(c.ttft)) co_return;
  auto interval = c.TokenInterval();
  int64_t written = 0;
  std::string frame;
  for (size_t i = 0; i < s.events.size(); ++i) {
    if (i > s.first_token && i < s.first_token + s.token_count) {
      if (!co_await Sleep(interval)) co_return;
    }
    if (c.cut_after && written == *c.cut_after) {
      writer.Abort();
      co_return;
    }
    if (c.error_after && written == *c.error_after) {
      frame = s.names.empty() ? "data: " + MidStreamErrorJson() + "\n\n"
                              : "event: error\ndata: " + AnthropicMidStreamErrorJson() + "\n\n";
      if (!(co_await writer.Write(frame)).ok()) co_return;
      Status st = co_await writer.Finish();
      (void)st;
      co_return;
    }
    frame.clear();
    if (!s.names.empty()) frame = "event: " + s.names[i] + "\n";
    frame += "data: " + s.events[i] + "\n\n";
    if (!(co_await writer.Write(frame)).ok()) co_return;
    ++written;
    if (written == 1 && c.stall.count() > 0 && c.stall_at == StallAt::kBody) {
      if (!co_await Sleep(c.stall)) co_return;
    }
  }
  if (s.done_sentinel && !(co_await writer.Write("data: [DONE]\n\n")).ok()) co_return;
  Status st = co_await writer.Finish();
  (void)st;
}

}  // namespace modelmux::sim
