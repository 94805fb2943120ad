#include "sim/dashscope.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>

#include "sim/dashscope_wire.hpp"

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

// DashScope request ids are UUIDs; the simulator's are numbered.
std::string RequestId(int64_t number) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012lld",
                static_cast<long long>(number));
  return buf;
}

net::Headers JsonHeaders(std::string_view request_id) {
  net::Headers h;
  h.Add("content-type", "application/json");
  h.Add("x-dashscope-request-id", std::string(request_id));
  return h;
}

bool KeyMatches(const net::Headers& h, std::string_view key) {
  std::string_view auth = h.Get("authorization");
  return auth.size() > 7 && net::IEquals(auth.substr(0, 7), "bearer ") && auth.substr(7) == key;
}

bool WantsStream(const net::Headers& h) {
  return net::IEquals(h.Get("x-dashscope-sse"), "enable") ||
         h.Get("accept").find("text/event-stream") != std::string_view::npos;
}

std::string SseFrame(size_t id, std::string_view event, int status, std::string_view data) {
  return "id:" + std::to_string(id) + "\nevent:" + std::string(event) + "\n:HTTP_STATUS/" +
         std::to_string(status) + "\ndata:" + std::string(data) + "\n\n";
}

asio::awaitable<void> Reply(net::ResponseWriter& writer, Stats& stats, int status,
                            net::Headers headers, std::string body) {
  stats.CountStatus(status);
  Status st = co_await writer.Send(status, std::move(headers), std::move(body));
  (void)st;  // a failed write means the client is gone
}

}  // namespace

asio::awaitable<void> DashScopeSim::Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                           std::string_view path, const SimOptions& options,
                                           Stats& stats) {
  const int64_t number = calls_.fetch_add(1) + 1;
  const std::string rid = RequestId(number);
  auto error = [&](int status, std::string_view code, std::string_view message) {
    return Reply(writer, stats, status, JsonHeaders(rid), DashScopeErrorJson(code, message, rid));
  };
  const bool chat = path == kDashScopeTextPath || path == kDashScopeMultimodalPath;
  const bool embeddings = path == kDashScopeEmbeddingsPath;
  if (!chat && !embeddings) {
    co_await error(404, "NotFound", "The requested resource does not exist (simulated).");
    co_return;
  }
  if (request.method != "POST") {
    co_await error(405, "InvalidParameter", "Method not allowed.");
    co_return;
  }
  if (!options.require_key.empty() && !KeyMatches(request.headers, options.require_key)) {
    co_await error(401, "InvalidApiKey", "Invalid API-key provided.");
    co_return;
  }
  auto controls = ReadControls(options, request.headers);
  if (!controls.ok()) {
    co_await error(400, "InvalidParameter", controls.error().message);
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
    const DashScopeCode code = DashScopeCodeForStatus(*c.status);
    net::Headers h = JsonHeaders(rid);
    if (c.retry_after_s) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%g", *c.retry_after_s);
      h.Add("retry-after", buf);
    } else if (!c.retry_after_ms && *c.status == 429) {
      h.Add("retry-after", "1");
    }
    if (c.retry_after_ms) h.Add("retry-after-ms", std::to_string(*c.retry_after_ms));
    co_await Reply(writer, stats, *c.status, std::move(h),
                   DashScopeErrorJson(code.code, code.message, rid));
    co_return;
  }

  if (embeddings) {
    auto parsed = ParseDashScopeEmbeddings(request.body);
    if (!parsed.ok()) {
      co_await error(400, "InvalidParameter", parsed.error().message);
      co_return;
    }
    stats.CountParsed(parsed->model);
    if (!co_await Pause(c.NonStreamDelay(0))) co_return;
    co_await Reply(writer, stats, 200, JsonHeaders(rid), DashScopeEmbeddingsJson(*parsed, rid));
    co_return;
  }

  auto parsed = ParseDashScopeCall(request.body, path == kDashScopeMultimodalPath);
  if (!parsed.ok()) {
    co_await error(400, "InvalidParameter", parsed.error().message);
    co_return;
  }
  const DashScopeCall& call = *parsed;
  stats.CountParsed(call.request.model);
  ReplyPlan plan = PlanReply(call.request, c.output_tokens);
  ApplyUsageControls(c, plan);
  ResponseMeta meta{rid, 0, call.request.model};

  if (!WantsStream(request.headers)) {
    if (!co_await Pause(c.NonStreamDelay(plan.completion_tokens))) co_return;
    co_await Reply(writer, stats, 200, JsonHeaders(rid), DashScopeChatJson(meta, plan, call));
    co_return;
  }
  StreamEvents s = DashScopeStreamEvents(meta, plan, call);
  net::Headers h;
  h.Add("content-type", "text/event-stream;charset=UTF-8");
  h.Add("cache-control", "no-cache");
  h.Add("x-dashscope-request-id", rid);
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
      const std::string frame =
          SseFrame(i + 1, "error", 500,
                   DashScopeErrorJson("InternalError", "simulated mid-stream error", rid));
      if ((co_await writer.Write(frame)).ok()) {
        Status st = co_await writer.Finish();
        (void)st;
      }
      co_return;
    }
    if (!(co_await writer.Write(SseFrame(i + 1, "result", 200, s.events[i]))).ok()) co_return;
  }
  Status st = co_await writer.Finish();
  (void)st;
}

}  // namespace modelmux::sim
