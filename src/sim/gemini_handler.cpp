// Simulator::HandleGemini: the Gemini generateContent dialect of the simulator, with the same
// controls as the other dialects (see simulator.hpp and docs/SIM.md).
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sim/gemini_embed.hpp"
#include "sim/gemini_request.hpp"
#include "sim/gemini_wire.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace asio = boost::asio;

namespace {

constexpr int64_t kCreatedEpoch = 1700000000;

template <class Rep, class Period>
asio::awaitable<bool> Sleep(std::chrono::duration<Rep, Period> d) {
  if (d.count() <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

net::Headers JsonHeaders(int64_t number) {
  net::Headers h;
  h.Add("content-type", "application/json; charset=UTF-8");
  if (number > 0) h.Add("x-request-id", "sim-req-" + std::to_string(number));
  return h;
}

// The key from x-goog-api-key, else from the `key` query parameter.
bool KeyMatches(const net::ServerRequest& request, std::string_view key) {
  if (request.headers.Get("x-goog-api-key") == key) return true;
  std::string_view target = request.target;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = std::min(query.find('&'), query.size());
    if (query.substr(0, amp) == "key=" + std::string(key)) return true;
    query.remove_prefix(std::min(amp + 1, query.size()));
  }
  return false;
}

// The retryDelay to put in an error body: the controls' retry-after, else `fallback_s`. Gemini
// sends no retry headers, so the body is the only place for the hint.
std::optional<double> RetryDelay(const Controls& c, std::optional<double> fallback_s) {
  if (c.retry_after_s) return *c.retry_after_s;
  if (c.retry_after_ms) return static_cast<double>(*c.retry_after_ms) / 1000.0;
  return fallback_s;
}

asio::awaitable<void> GeminiAnswerWhole(net::ResponseWriter& writer, Stats& stats, Controls c,
                                        std::string body, int64_t tokens, int64_t number) {
  if (!co_await Sleep(c.NonStreamDelay(tokens))) co_return;
  const bool stall_body = c.stall.count() > 0 && c.stall_at == StallAt::kBody;
  stats.CountStatus(200);
  if (!c.cut_after && !stall_body) {
    Status st = co_await writer.Send(200, JsonHeaders(number), std::move(body));
    (void)st;
    co_return;
  }
  if (!(co_await writer.StartStream(200, JsonHeaders(number))).ok()) co_return;
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

asio::awaitable<void> GeminiAnswerStream(net::ResponseWriter& writer, Stats& stats, Controls c,
                                         StreamEvents s, int64_t number) {
  net::Headers h;
  h.Add("content-type", "text/event-stream");
  h.Add("cache-control", "no-cache");
  h.Add("x-request-id", "sim-req-" + std::to_string(number));
  stats.CountStatus(200);
  if (!(co_await writer.StartStream(200, std::move(h))).ok()) co_return;
  if (!co_await Sleep(c.ttft)) co_return;
  const auto interval = c.TokenInterval();
  int64_t written = 0;
  for (size_t i = 0; i < s.events.size(); ++i) {
    if (i > s.first_token && i < s.first_token + s.token_count) {
      if (!co_await Sleep(interval)) co_return;
    }
    if (c.cut_after && written == *c.cut_after) {
      writer.Abort();
      co_return;
    }
    if (c.error_after && written == *c.error_after) {
      // Google ends the stream after an error chunk (no terminator exists to leave out).
      if (!(co_await writer.Write("data: " + GeminiMidStreamErrorJson() + "\r\n\r\n")).ok()) {
        co_return;
      }
      Status st = co_await writer.Finish();
      (void)st;
      co_return;
    }
    if (!(co_await writer.Write("data: " + s.events[i] + "\r\n\r\n")).ok()) co_return;
    ++written;
    if (written == 1 && c.stall.count() > 0 && c.stall_at == StallAt::kBody) {
      if (!co_await Sleep(c.stall)) co_return;
    }
  }
  Status st = co_await writer.Finish();
  (void)st;
}

}  // namespace

asio::awaitable<void> Simulator::HandleGemini(net::ServerRequest& request,
                                              net::ResponseWriter& writer, std::string_view path) {
  const GeminiRoute route = MatchGeminiRoute(path);
  const bool embed = route.method == GeminiMethod::kBatchEmbed;
  if (route.method != GeminiMethod::kGenerate && route.method != GeminiMethod::kStreamGenerate &&
      !embed) {
    co_await SendJson(writer, 404, JsonHeaders(0), GeminiErrorJson(404, "Method not found."));
    co_return;
  }
  if (request.method != "POST") {
    co_await SendJson(writer, 405, JsonHeaders(0), GeminiErrorJson(405, "Method Not Allowed"));
    co_return;
  }
  if (!options_.require_key.empty() && !KeyMatches(request, options_.require_key)) {
    co_await SendJson(writer, 400, JsonHeaders(0),
                      GeminiStatusErrorJson(400, route.model, std::nullopt, /*bad_key=*/true));
    co_return;
  }
  auto controls = ReadControls(options_, request.headers);
  if (!controls.ok()) {
    co_await SendJson(writer, 400, JsonHeaders(0), GeminiErrorJson(400, controls.error().message));
    co_return;
  }
  const Controls c = *controls;
  const bool stream = route.method == GeminiMethod::kStreamGenerate;
  Result<SimRequest> parsed = Internal("unparsed");
  if (embed) {
    parsed = ParseGeminiBatchEmbed(route.model, request.body);
  } else {
    parsed = ParseGeminiRequest(route.model, stream, request.body);
  }
  if (!parsed.ok()) {
    // An unknown file (sim/files.hpp) is Google's 404; everything else a 400.
    const int status = parsed.error().kind == ErrorKind::kNotFound ? 404 : 400;
    co_await SendJson(writer, status, JsonHeaders(0),
                      GeminiErrorJson(status, parsed.error().message));
    co_return;
  }
  const SimRequest& req = *parsed;
  const int64_t number = counter_.fetch_add(1) + 1;
  stats_.CountParsed(req.model);
  const ResponseMeta meta{"sim-gemini-" + std::to_string(number), kCreatedEpoch + number,
                          req.model};
  ReplyPlan plan;
  if (!embed) {
    plan = PlanReply(req, c.output_tokens);
    ApplyUsageControls(c, plan);
  }

  if (c.stall_at == StallAt::kHeaders && !co_await Sleep(c.stall)) co_return;
  if (c.reset) {
    stats_.CountReset();
    writer.Abort();
    co_return;
  }
  if (c.status && *c.status >= 400) {
    const auto delay = RetryDelay(c, *c.status == 429 ? std::optional<double>(1.0) : std::nullopt);
    co_await SendJson(writer, *c.status, JsonHeaders(number),
                      GeminiStatusErrorJson(*c.status, req.model, delay));
    co_return;
  }
  if (rate_.enabled()) {
    RateDecision d =
        rate_.Admit(clock_(), req.prompt_tokens + req.max_tokens.value_or(plan.completion_tokens));
    if (!d.allowed) {
      const double secs =
          static_cast<double>(std::max<int64_t>(1, (d.reset_in.count() + 999) / 1000));
      co_await SendJson(writer, 429, JsonHeaders(number),
                        GeminiStatusErrorJson(429, req.model, secs));
      co_return;
    }
  }
  if (fail_.Next(c.fail_rate)) {
    co_await SendJson(writer, c.fail_status, JsonHeaders(number),
                      GeminiStatusErrorJson(c.fail_status, req.model, RetryDelay(c, std::nullopt)));
    co_return;
  }
  if (stream) {
    co_await GeminiAnswerStream(writer, stats_, c, GeminiStreamEvents(meta, plan), number);
  } else {
    // (The body is built first: GCC 12 miscompiles a conditional's temporaries in a co_await.)
    std::string body = embed ? GeminiBatchEmbedJson(req) : GeminiResponseJson(meta, plan);
    co_await GeminiAnswerWhole(writer, stats_, c, std::move(body), plan.completion_tokens, number);
  }
}

}  // namespace modelmux::sim
