#include "sim/ollama.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "sim/ollama_wire.hpp"

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

net::Headers JsonHeaders() {
  net::Headers h;
  h.Add("content-type", "application/json; charset=utf-8");
  return h;
}

asio::awaitable<void> Reply(net::ResponseWriter& writer, Stats& stats, int status,
                            std::string body) {
  stats.CountStatus(status);
  Status st = co_await writer.Send(status, JsonHeaders(), std::move(body));
  (void)st;  // a failed write means the client is gone
}

// The model named in a body, for error messages ("" when there is none).
std::string ModelIn(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  const boost::json::value* m =
      !ec && v.is_object() ? v.get_object().if_contains("model") : nullptr;
  return m != nullptr && m->is_string() ? std::string(m->get_string()) : std::string();
}

}  // namespace

asio::awaitable<void> OllamaSim::Handle(net::ServerRequest& request, net::ResponseWriter& writer,
                                        std::string_view path, const SimOptions& options,
                                        Stats& stats) {
  const OllamaEndpoint endpoint = OllamaEndpointOf(path);
  const bool is_get = endpoint == OllamaEndpoint::kTags;
  if (request.method != (is_get ? "GET" : "POST")) {
    co_await Reply(writer, stats, 405, OllamaErrorJson("method not allowed"));
    co_return;
  }
  auto controls = ReadControls(options, request.headers);
  if (!controls.ok()) {
    co_await Reply(writer, stats, 400, OllamaErrorJson(controls.error().message));
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
    co_await Reply(writer, stats, *c.status,
                   OllamaErrorJson(OllamaStatusMessage(*c.status, ModelIn(request.body))));
    co_return;
  }
  if (endpoint == OllamaEndpoint::kTags) {
    co_await Reply(writer, stats, 200, OllamaTagsJson());
    co_return;
  }
  if (endpoint == OllamaEndpoint::kEmbed) {
    auto parsed = ParseOllamaEmbed(request.body);
    if (!parsed.ok()) {
      co_await Reply(writer, stats, 400, OllamaErrorJson(parsed.error().message));
      co_return;
    }
    stats.CountParsed(parsed->model);
    co_await Reply(writer, stats, 200, OllamaEmbedJson(*parsed));
    co_return;
  }
  auto parsed = ParseOllamaChat(request.body);
  if (!parsed.ok()) {
    co_await Reply(writer, stats, 400, OllamaErrorJson(parsed.error().message));
    co_return;
  }
  SimRequest& req = *parsed;
  stats.CountParsed(req.model);
  const int64_t number = calls_.fetch_add(1) + 1;
  ReplyPlan plan = PlanReply(req, c.output_tokens);
  ResponseMeta meta{"", kCreatedEpoch + number, req.model};
  if (!req.stream) {
    if (!co_await Pause(c.NonStreamDelay(plan.completion_tokens))) co_return;
    co_await Reply(writer, stats, 200, OllamaChatJson(meta, plan));
    co_return;
  }
  StreamEvents s = OllamaStreamLines(meta, plan);
  net::Headers h;
  h.Add("content-type", "application/x-ndjson");
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
      const std::string line =
          OllamaErrorJson("an error was encountered while running the model (simulated)") + "\n";
      if ((co_await writer.Write(line)).ok()) {
        Status st = co_await writer.Finish();
        (void)st;
      }
      co_return;
    }
    if (!(co_await writer.Write(s.events[i] + "\n")).ok()) co_return;
  }
  Status st = co_await writer.Finish();
  (void)st;
}

}  // namespace modelmux::sim
