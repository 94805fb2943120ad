#include "sim/bedrock.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>

#include "sim/bedrock_wire.hpp"

namespace modelmux::sim {
namespace asio = boost::asio;

namespace {

template <class Rep, class Period>
asio::awaitable<bool> Pause(std::chrono::duration<Rep, Period> d) {
  if (d.count() <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

std::string RequestId(int64_t number) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012lld",
                static_cast<long long>(number));
  return buf;
}

net::Headers JsonHeaders(int64_t number) {
  net::Headers h;
  h.Add("content-type", "application/json");
  h.Add("x-amzn-RequestId", RequestId(number));
  return h;
}

asio::awaitable<void> Reply(net::ResponseWriter& writer, Stats& stats, int status,
                            net::Headers headers, std::string body) {
  stats.CountStatus(status);
  Status st = co_await writer.Send(status, std::move(headers), std::move(body));
  (void)st;  // a failed write means the client is gone
}

// `e` must outlive the call: callers pass a named local (GCC 12 destroys temporaries of a
// co_await expression twice when they are class aggregates).
// Built outside the coroutines: GCC 12 destroys some brace-initialised temporaries of a coroutine
// body twice.
BedrockError MakeBedrockError(int status, std::string type, std::string message) {
  BedrockError e;
  e.status = status;
  e.type = std::move(type);
  e.message = std::move(message);
  return e;
}

asio::awaitable<void> Fail(net::ResponseWriter& writer, Stats& stats, int64_t number,
                           const BedrockError& e) {
  net::Headers h = JsonHeaders(number);
  h.Add("x-amzn-ErrorType", e.type + ":http://internal.amazon.com/coral/com.amazon.bedrock/");
  co_await Reply(writer, stats, e.status, std::move(h), BedrockErrorJson(e.message));
}

asio::awaitable<void> AnswerStream(net::ResponseWriter& writer, Stats& stats, const Controls& c,
                                   StreamEvents s, int64_t number) {
  net::Headers h;
  h.Add("content-type", "application/vnd.amazon.eventstream");
  h.Add("x-amzn-RequestId", RequestId(number));
  stats.CountStatus(200);
  if (!(co_await writer.StartStream(200, std::move(h))).ok()) co_return;
  if (!co_await Pause(c.ttft)) co_return;
  const auto interval = c.TokenInterval();
  for (size_t i = 0; i < s.events.size(); ++i) {
    if (i > s.first_token && i < s.first_token + s.token_count && !co_await Pause(interval)) {
      co_return;
    }
    const auto written = static_cast<int64_t>(i);
    if (c.cut_after && written == *c.cut_after) {
      writer.Abort();
      co_return;
    }
    if (c.error_after && written == *c.error_after) {
      const std::string frame = BedrockExceptionFrame(
          "throttlingException", "Too many requests, please wait before trying again.");
      if ((co_await writer.Write(frame)).ok()) {
        Status st = co_await writer.Finish();
        (void)st;
      }
      co_return;
    }
    if (!(co_await writer.Write(s.events[i])).ok()) co_return;
    if (i == 0 && c.stall.count() > 0 && c.stall_at == StallAt::kBody && !co_await Pause(c.stall)) {
      co_return;
    }
  }
  Status st = co_await writer.Finish();
  (void)st;
}

asio::awaitable<void> AnswerWhole(net::ResponseWriter& writer, Stats& stats, const Controls& c,
                                  std::string body, int64_t tokens, int64_t number) {
  if (!co_await Pause(c.NonStreamDelay(tokens))) co_return;
  const bool stall_body = c.stall.count() > 0 && c.stall_at == StallAt::kBody;
  if (!c.cut_after && !stall_body) {
    co_await Reply(writer, stats, 200, JsonHeaders(number), std::move(body));
    co_return;
  }
  stats.CountStatus(200);
  if (!(co_await writer.StartStream(200, JsonHeaders(number))).ok()) co_return;
  if (stall_body && !co_await Pause(c.stall)) co_return;
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

}  // namespace

asio::awaitable<void> BedrockSim::Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                         std::string_view path, const SimOptions& options,
                                         Stats& stats) {
  const int64_t number = calls_.fetch_add(1) + 1;
  BedrockError error;
  const BedrockRoute route = MatchBedrockRoute(path);
  if (route.action == BedrockAction::kOther || route.action == BedrockAction::kNone) {
    error = MakeBedrockError(404, "UnknownOperationException",
                             "Unknown operation " + std::string(path));
    co_await Fail(writer, stats, number, error);
    co_return;
  }
  if (request.method != "POST") {
    error = MakeBedrockError(405, "ValidationException", "Method not allowed");
    co_await Fail(writer, stats, number, error);
    co_return;
  }
  if (auto denied = CheckBedrockSignature(request)) {
    error = *denied;
    co_await Fail(writer, stats, number, error);
    co_return;
  }
  auto controls = ReadControls(options, request.headers);
  if (!controls.ok()) {
    error = MakeBedrockError(400, "ValidationException", controls.error().message);
    co_await Fail(writer, stats, number, error);
    co_return;
  }
  const Controls& c = *controls;
  if (c.stall.count() > 0 && c.stall_at == StallAt::kHeaders && !co_await Pause(c.stall)) {
    co_return;
  }
  if (c.reset) {
    stats.CountReset();
    writer.Abort();
    co_return;
  }
  if (c.status && *c.status >= 400) {
    error = BedrockErrorForStatus(*c.status);
    co_await Fail(writer, stats, number, error);
    co_return;
  }
  if (route.action == BedrockAction::kInvoke) {
    if (route.model.find("amazon.titan-embed-text") == std::string::npos) {
      error = MakeBedrockError(
          400, "ValidationException",
          "The simulator's InvokeModel serves amazon.titan-embed-text models only.");
      co_await Fail(writer, stats, number, error);
      co_return;
    }
    auto parsed = ParseTitanRequest(route.model, request.body);
    if (!parsed.ok()) {
      error = MakeBedrockError(400, "ValidationException", parsed.error().message);
      co_await Fail(writer, stats, number, error);
      co_return;
    }
    stats.CountParsed(parsed->model);
    co_await Reply(writer, stats, 200, JsonHeaders(number), TitanEmbeddingJson(*parsed));
    co_return;
  }
  const bool stream = route.action == BedrockAction::kConverseStream;
  auto parsed = ParseConverseRequest(route.model, stream, request.body);
  if (!parsed.ok()) {
    error = MakeBedrockError(400, "ValidationException", parsed.error().message);
    co_await Fail(writer, stats, number, error);
    co_return;
  }
  stats.CountParsed(parsed->model);
  ReplyPlan plan = PlanReply(*parsed, c.output_tokens);
  ApplyUsageControls(c, plan);
  if (stream) {
    co_await AnswerStream(writer, stats, c, ConverseStreamFrames(plan), number);
  } else {
    co_await AnswerWhole(writer, stats, c, ConverseJson(plan), plan.completion_tokens, number);
  }
}

}  // namespace modelmux::sim
