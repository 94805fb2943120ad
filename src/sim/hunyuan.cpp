#include "sim/hunyuan.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sim/hunyuan_wire.hpp"

namespace modelmux::sim {
namespace asio = boost::asio;

namespace {

constexpr int64_t kCreatedEpoch = 1700000000;

template <class Rep, class Period>
asio::awaitable<bool> Pause(std::chrono::duration<Rep, Period> d) {
  if (d.count() <= 0) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

net::Headers JsonHeaders(const std::string& request_id) {
  net::Headers h;
  h.Add("content-type", "application/json");
  h.Add("X-TC-RequestId", request_id);
  return h;
}

asio::awaitable<void> Reply(net::ResponseWriter& writer, Stats& stats, int status,
                            net::Headers headers, std::string body) {
  stats.CountStatus(status);
  Status st = co_await writer.Send(status, std::move(headers), std::move(body));
  (void)st;  // a failed write means the client is gone
}

}  // namespace

asio::awaitable<void> HunyuanSim::Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                         const SimOptions& options, Stats& stats) {
  const int64_t number = calls_.fetch_add(1) + 1;
  const std::string request_id = "sim-hy-" + std::to_string(number);
  auto in_band = [&](std::string_view code, std::string_view message) {
    return Reply(writer, stats, 200, JsonHeaders(request_id),
                 HunyuanErrorJson(code, message, request_id));
  };
  if (request.method != "POST") {
    co_await in_band("UnsupportedProtocol", "Only POST is supported.");
    co_return;
  }
  const std::string code =
      CheckTc3(request.headers, request.body, HunyuanCredentials(options.require_key));
  if (!code.empty()) {
    co_await in_band(code, code == "AuthFailure.SignatureFailure"
                               ? "The provided credentials could not be validated. Please check "
                                 "your signature is correct."
                               : "The request's Authorization header is not accepted.");
    co_return;
  }
  const std::string_view action = request.headers.Get("X-TC-Action");
  if (action != "ChatCompletions" && action != "GetEmbedding") {
    co_await in_band("InvalidAction", "The action does not exist.");
    co_return;
  }
  if (request.headers.Get("X-TC-Version") != "2023-09-01") {
    co_await in_band("NoSuchVersion", "The API version does not exist.");
    co_return;
  }
  auto controls = ReadControls(options, request.headers);
  if (!controls.ok()) {
    co_await in_band("InvalidParameter", controls.error().message);
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
    const HunyuanCode hc = HunyuanCodeForStatus(*c.status);
    co_await in_band(hc.code, hc.message);
    co_return;
  }
  if (action == "GetEmbedding") {
    auto parsed = ParseHunyuanEmbedding(request.body);
    if (!parsed.ok()) {
      co_await in_band("InvalidParameter", parsed.error().message);
      co_return;
    }
    stats.CountParsed(parsed->model);
    co_await Reply(writer, stats, 200, JsonHeaders(request_id),
                   HunyuanEmbeddingJson(*parsed, request_id));
    co_return;
  }
  auto parsed = ParseHunyuanChat(request.body);
  if (!parsed.ok()) {
    co_await in_band("InvalidParameter", parsed.error().message);
    co_return;
  }
  SimRequest& req = *parsed;
  stats.CountParsed(req.model);
  ReplyPlan plan = PlanReply(req, c.output_tokens);
  ResponseMeta meta{request_id, kCreatedEpoch + number, req.model};

  if (!req.stream) {
    if (!co_await Pause(c.NonStreamDelay(plan.completion_tokens))) co_return;
    co_await Reply(writer, stats, 200, JsonHeaders(request_id), HunyuanChatJson(meta, plan));
    co_return;
  }
  StreamEvents s = HunyuanStreamChunks(meta, plan);
  net::Headers h;
  h.Add("content-type", "text/event-stream");
  h.Add("cache-control", "no-cache");
  h.Add("X-TC-RequestId", request_id);
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
      if ((co_await writer.Write("data: " + HunyuanStreamErrorJson(meta) + "\n\n")).ok()) {
        Status st = co_await writer.Finish();
        (void)st;
      }
      co_return;
    }
    if (!(co_await writer.Write("data: " + s.events[i] + "\n\n")).ok()) co_return;
  }
  Status st = co_await writer.Finish();
  (void)st;
}

}  // namespace modelmux::sim
