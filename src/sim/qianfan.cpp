#include "sim/qianfan.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "sim/qianfan_embed.hpp"
#include "sim/qianfan_wire.hpp"

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

net::Headers JsonHeaders(int64_t number) {
  net::Headers h;
  h.Add("content-type", "application/json");
  if (number > 0) h.Add("x-request-id", "sim-qf-" + std::to_string(number));
  return h;
}

asio::awaitable<void> Reply(net::ResponseWriter& writer, Stats& stats, int status,
                            net::Headers headers, std::string body) {
  stats.CountStatus(status);
  Status st = co_await writer.Send(status, std::move(headers), std::move(body));
  (void)st;  // a failed write means the client is gone
}

}  // namespace

std::string QianfanSim::IssueToken() {
  std::lock_guard lock(mu_);
  std::string token = "sim-token-" + std::to_string(++issued_);
  tokens_.insert(token);
  return token;
}

bool QianfanSim::Issued(std::string_view token) const {
  std::lock_guard lock(mu_);
  return tokens_.find(token) != tokens_.end();
}

asio::awaitable<void> QianfanSim::Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                         std::string_view path, const SimOptions& options,
                                         Stats& stats) {
  if (path == kQianfanTokenPath) {
    co_await Token(request, writer, options, stats);
  } else if (path.starts_with(kQianfanEmbeddingsPrefix)) {
    co_await Embeddings(request, writer, path, options, stats);
  } else {
    co_await Chat(request, writer, path, options, stats);
  }
}

asio::awaitable<void> QianfanSim::Token(net::ServerRequest& request, net::ResponseWriter& writer,
                                        const SimOptions& options, Stats& stats) {
  auto controls = ReadControls(options, request.headers);
  if (controls.ok() && controls->status && *controls->status >= 400) {
    co_await Reply(writer, stats, *controls->status, JsonHeaders(0),
                   QianfanTokenErrorJson("server_error", "simulated failure"));
    co_return;
  }
  const std::string_view query = request.query();
  if (request.method != "POST" && request.method != "GET") {
    co_await Reply(writer, stats, 405, JsonHeaders(0),
                   QianfanTokenErrorJson("invalid_request", "method not allowed"));
    co_return;
  }
  if (QueryParam(query, "grant_type") != "client_credentials") {
    co_await Reply(writer, stats, 400, JsonHeaders(0),
                   QianfanTokenErrorJson("unsupported_grant_type",
                                         "The authorization grant type is not supported"));
    co_return;
  }
  const std::string id = QueryParam(query, "client_id");
  const std::string secret = QueryParam(query, "client_secret");
  if (id.empty() || secret.empty()) {
    co_await Reply(writer, stats, 401, JsonHeaders(0),
                   QianfanTokenErrorJson("invalid_client", "unknown client id"));
    co_return;
  }
  if (!options.require_key.empty() && id != options.require_key) {
    co_await Reply(writer, stats, 401, JsonHeaders(0),
                   QianfanTokenErrorJson("invalid_client", "Client authentication failed"));
    co_return;
  }
  co_await Reply(writer, stats, 200, JsonHeaders(0),
                 QianfanTokenJson(IssueToken(), kQianfanTokenTtlS));
}

asio::awaitable<void> QianfanSim::Chat(net::ServerRequest& request, net::ResponseWriter& writer,
                                       std::string_view path, const SimOptions& options,
                                       Stats& stats) {
  const int64_t number = calls_.fetch_add(1) + 1;
  auto in_band = [&](int64_t code, std::string_view message) {
    return Reply(writer, stats, 200, JsonHeaders(number), QianfanErrorJson(code, message));
  };
  const std::string_view endpoint =
      path.starts_with(kQianfanChatPrefix) ? path.substr(kQianfanChatPrefix.size()) : "";
  if (endpoint.empty() || endpoint.find('/') != std::string_view::npos) {
    co_await in_band(336005, "API name not exist");
    co_return;
  }
  if (request.method != "POST") {
    co_await in_band(3, "Unsupported openapi method");
    co_return;
  }
  if (!Issued(QueryParam(request.query(), "access_token"))) {
    co_await in_band(110, "Access token invalid or no longer valid");
    co_return;
  }
  auto controls = ReadControls(options, request.headers);
  if (!controls.ok()) {
    co_await in_band(336003, controls.error().message);
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
    const QianfanCode code = QianfanCodeForStatus(*c.status);
    co_await in_band(code.code, code.message);
    co_return;
  }
  QianfanReject reject{0, ""};
  auto parsed = ParseQianfanRequest(endpoint, request.body, &reject);
  if (!parsed.ok()) {
    co_await in_band(reject.code, reject.message);
    co_return;
  }
  SimRequest& req = *parsed;
  stats.CountParsed(req.model);
  ReplyPlan plan = PlanReply(req, c.output_tokens);
  ResponseMeta meta{"as-sim-" + std::to_string(number), kCreatedEpoch + number, req.model};

  if (!req.stream) {
    if (!co_await Pause(c.NonStreamDelay(plan.completion_tokens))) co_return;
    co_await Reply(writer, stats, 200, JsonHeaders(number), QianfanChatJson(meta, plan));
    co_return;
  }
  StreamEvents s = QianfanStreamChunks(meta, plan);
  net::Headers h;
  h.Add("content-type", "text/event-stream; charset=utf-8");
  h.Add("cache-control", "no-cache");
  h.Add("x-request-id", "sim-qf-" + std::to_string(number));
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
          "data: " + QianfanErrorJson(336000, "Internal error (simulated mid-stream error)") +
          "\n\n";
      if ((co_await writer.Write(frame)).ok()) {
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

asio::awaitable<void> QianfanSim::Embeddings(net::ServerRequest& request,
                                             net::ResponseWriter& writer, std::string_view path,
                                             const SimOptions& options, Stats& stats) {
  const int64_t number = calls_.fetch_add(1) + 1;
  auto in_band = [&](int64_t code, std::string_view message) {
    return Reply(writer, stats, 200, JsonHeaders(number), QianfanErrorJson(code, message));
  };
  const std::string_view endpoint = path.substr(kQianfanEmbeddingsPrefix.size());
  if (endpoint.empty() || endpoint.find('/') != std::string_view::npos) {
    co_await in_band(336005, "API name not exist");
    co_return;
  }
  if (request.method != "POST") {
    co_await in_band(3, "Unsupported openapi method");
    co_return;
  }
  if (!Issued(QueryParam(request.query(), "access_token"))) {
    co_await in_band(110, "Access token invalid or no longer valid");
    co_return;
  }
  auto controls = ReadControls(options, request.headers);
  if (!controls.ok()) {
    co_await in_band(336003, controls.error().message);
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
    const QianfanCode code = QianfanCodeForStatus(*c.status);
    co_await in_band(code.code, code.message);
    co_return;
  }
  QianfanReject reject{0, ""};
  auto parsed = ParseQianfanEmbeddings(endpoint, request.body, &reject);
  if (!parsed.ok()) {
    co_await in_band(reject.code, reject.message);
    co_return;
  }
  stats.CountParsed(parsed->model);
  const ResponseMeta meta{"as-sim-" + std::to_string(number), kCreatedEpoch + number,
                          parsed->model};
  if (!co_await Pause(c.NonStreamDelay(0))) co_return;
  co_await Reply(writer, stats, 200, JsonHeaders(number), QianfanEmbeddingsJson(meta, *parsed));
}

}  // namespace modelmux::sim
