#include "gateway/gateway.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "cache/memory.hpp"
#include "core/sse.hpp"
#include "dialects/anthropic/anthropic.hpp"
#include "dialects/openai/errors.hpp"
#include "dialects/openai/fast_path.hpp"
#include "dialects/openai/openai.hpp"
#include "dialects/openai/request.hpp"
#include "gateway/admission.hpp"
#include "gateway/batch_api.hpp"
#include "gateway/cache_admin.hpp"
#include "gateway/describe.hpp"
#include "gateway/embeddings.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/key_controls.hpp"
#include "gateway/keys_admin.hpp"
#include "gateway/stats_api.hpp"
#include "gateway/token_counter.hpp"
#include "gateway/ui.hpp"
#include "gateway/usage_api.hpp"
#include "govern/scope.hpp"
#include "routing/text_stage.hpp"
#include "telemetry/request_log_redact.hpp"
#include "text/token_estimator.hpp"

namespace modelmux::gateway {

namespace asio = boost::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Gateway::Exchange {
  net::ServerRequest& req;
  net::ResponseWriter& writer;
  std::shared_ptr<const routing::Router> router;
  RequestContext ctx;
  telemetry::RequestRecord record;
  std::string model_label = "unknown";
  std::string provider_type;                                             // for the price lookup
  const dialects::IngressDialect* ingress = &dialects::OpenAiIngress();  // the caller's dialect
  routing::AttemptLog attempts;  // filled by the router: x-modelmux-attempts / -deployment
  std::optional<govern::Admission> admission;  // the key's rate/budget reservation (Govern)
  std::optional<govern::KeyRecord> batch_key;  // the caller's key on the Batch API (its scopes)
  bool log_bodies = false;  // --log-bodies: keep the (redacted) bodies in the record
  // Observability (gateway_metrics.hpp): waits on the upstream's body and the caller's socket
  // outside the attempt loop, the first content chunk of a stream, the gateway's own time once
  // known, and this request's server span (trace.valid() when it is recorded).
  Clock::time_point began = Clock::now();  // the request (head and body) was read
  std::chrono::nanoseconds io_wait{0};
  std::optional<Clock::time_point> first_token;
  std::optional<std::chrono::nanoseconds> overhead;
  telemetry::TraceContext trace;
  telemetry::SpanId caller_span = 0;

  // --log-bodies: the text a stream delivered, and how it ended if not well (capped; redacted
  // when the record is written).
  std::string streamed_body;
  // The answer came on a path whose rate-limit reservation is settled at the end (the pass-through
  // fast path, streams): Handle settles it to the usage once known.
  bool settle_at_end = false;

  // Marks a content chunk about to be written to the caller (time to first token).
  void NoteChunk() {
    if (!first_token) first_token = Clock::now();
  }

  // Settles the deployment's token reservation to the usage now known (once; the fast path and
  // streams: the translated whole answer is settled by the router). Before the answer's last
  // byte leaves, so that the caller's next call finds the window already corrected.
  void SettleTokens() {
    if (!settle_at_end || !record.usage) return;
    settle_at_end = false;
    routing::Dispatcher::Settle(attempts, record.usage->total());
  }

  // Keeps text a stream delivered for the body log (--log-bodies), up to the log's cap. The
  // content is kept as one text, not as events: a secret split over deltas is still whole for
  // the redaction.
  void KeepStreamed(std::string_view events) {
    constexpr size_t kCap = 64 * 1024 + 1;  // one byte over: RedactBody says it was truncated
    if (!log_bodies || streamed_body.size() >= kCap) return;
    streamed_body.append(events.substr(0, kCap - streamed_body.size()));
  }

  // A stream that ended before the provider's count (cut, or the caller left): bills what was
  // asked and what was delivered, as an estimate (the log line says so).
  void EstimateUsage(int64_t prompt_tokens, int64_t completion_tokens) {
    Usage u;
    u.prompt_tokens = prompt_tokens;
    u.completion_tokens = completion_tokens;
    record.usage = u;
    record.usage_estimated = true;
  }

  // The provider, model and deployment that answered (or failed last), from the attempt log.
  void NoteDeployment() {
    if (attempts.deployment.empty()) return;
    const auto slash = attempts.deployment.find('/');
    record.provider = attempts.deployment.substr(0, slash);
    record.upstream_model = attempts.deployment.substr(slash + 1);
    if (const auto* p = router->FindProvider(record.provider)) provider_type = p->spec().type;
  }
};

namespace {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a = rng(), b = rng();
  std::string id = "req-";
  for (int i = 0; i < 16; ++i) id += kHex[(a >> (i * 4)) & 15];
  for (int i = 0; i < 8; ++i) id += kHex[(b >> (i * 4)) & 15];
  return id;
}

// A caller's x-request-id is kept when it is short and plain; otherwise we make our own.
std::string AcceptRequestId(std::string_view given) {
  if (given.empty() || given.size() > 128) return NewRequestId();
  for (char c : given) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == ':')) {
      return NewRequestId();
    }
  }
  return std::string(given);
}

net::Headers BaseHeaders(const Gateway::Exchange& ex, std::string_view content_type) {
  net::Headers h;
  h.Add("content-type", std::string(content_type));
  h.Add("x-request-id", ex.ctx.request_id);
  if (ex.attempts.attempts > 0) {
    h.Add("x-modelmux-attempts", std::to_string(ex.attempts.attempts));
    h.Add("x-modelmux-deployment", ex.attempts.deployment);
  }
  if (ex.attempts.media) h.Add("x-modelmux-media", ex.attempts.media->Header());
  if (!ex.attempts.cache.empty()) h.Add("x-modelmux-cache", ex.attempts.cache);
  if (!ex.attempts.max_tokens_clamp.empty()) {
    h.Add("x-modelmux-max-tokens-clamped", ex.attempts.max_tokens_clamp);
  }
  if (ex.attempts.context_tokens > 0) {
    h.Add("x-modelmux-context-tokens", std::to_string(ex.attempts.context_tokens));
  }
  if (ex.attempts.sentences > 0) {
    h.Add("x-modelmux-sentences", std::to_string(ex.attempts.sentences));
  }
  if (!ex.attempts.notes.empty()) {
    std::string notes;
    for (const auto& n : ex.attempts.notes) notes += (notes.empty() ? "" : ",") + n;
    h.Add("x-modelmux-notes", notes);
  }
  return h;
}

// x-modelmux-overhead-ms on a whole (non-streamed) answer: the gateway's own time so far, in
// milliseconds with microsecond resolution; the same value goes to the overhead histogram.
void AddOverheadHeader(Gateway::Exchange& ex, net::Headers& h) {
  ex.overhead = GatewayMetrics::Overhead(Clock::now() - ex.began, ex.attempts, ex.io_wait);
  char buf[32];
  snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(ex.overhead->count()) / 1e6);
  h.Add("x-modelmux-overhead-ms", buf);
}

// The price of this call from the active price table (by provider name, then type). `list`: what
// the tokens cost at list price; `charged`: what the call cost (nothing for a cache hit). Both
// nullopt when the price is unknown or no usage is known.
struct CallCost {
  std::optional<telemetry::Money> list;
  std::optional<telemetry::Money> charged;
  bool hit = false;
};

CallCost PriceCall(const Gateway::Exchange& ex) {
  CallCost c;
  c.hit = ex.attempts.cache == "hit";
  if (!ex.record.usage || ex.provider_type.empty()) return c;
  const auto table = telemetry::PriceTable::Active();
  const auto* price = table->Find(ex.record.provider, ex.provider_type, ex.record.upstream_model);
  if (!price) return c;
  telemetry::CostExtras extras;
  if (ex.attempts.media) extras.images_in = ex.attempts.media->images;
  c.list = telemetry::Cost(*price, *ex.record.usage, extras);
  if (c.list) c.charged = c.hit ? telemetry::Money{0, c.list->currency} : c.list;
  return c;
}

// x-modelmux-cost on a whole answer: "0.000435 USD", or "unknown" without a price.
void AddCostHeader(const Gateway::Exchange& ex, net::Headers& h) {
  if (!ex.record.usage && ex.provider_type.empty()) return;  // not a model call
  const CallCost c = PriceCall(ex);
  if (c.charged) {
    h.Add("x-modelmux-cost", telemetry::MicrosDecimal(c.charged->micros) + " " +
                                 telemetry::CurrencyCode(c.charged->currency));
  } else {
    h.Add("x-modelmux-cost", c.hit ? "0" : "unknown");
  }
}

telemetry::LedgerRow LedgerRowOf(const Gateway::Exchange& ex, const CallCost& cost) {
  telemetry::LedgerRow row;
  const auto& r = ex.record;
  row.request_id = r.request_id;
  row.time_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(r.start.time_since_epoch()).count();
  row.key_id = r.key_id;
  row.model = r.model.empty() ? ex.model_label : r.model;
  row.provider = r.provider;
  row.deployment = ex.attempts.deployment;
  if (r.usage) {
    row.prompt_tokens = r.usage->prompt_tokens;
    row.completion_tokens = r.usage->completion_tokens;
    row.cached_tokens = r.usage->cache_read_tokens;
    row.cache_write_tokens = r.usage->cache_write_tokens;
    row.reasoning_tokens = r.usage->reasoning_tokens;
  }
  if (cost.charged) {
    row.cost_micros = cost.charged->micros;
    row.currency = telemetry::CurrencyCode(cost.charged->currency);
  }
  row.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.latency).count();
  if (r.ttft) {
    row.ttft_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*r.ttft).count();
  }
  row.status = r.status;
  row.error_code = r.error_code;
  row.cache_result = ex.attempts.cache;
  row.attempts = ex.attempts.attempts;
  row.stream = r.stream;
  row.usage_estimated = r.usage_estimated;
  return row;
}

awaitable<void> SendJson(Gateway::Exchange& ex, int status, std::string body) {
  ex.record.status = status;
  auto h = BaseHeaders(ex, "application/json");
  AddOverheadHeader(ex, h);
  AddCostHeader(ex, h);
  if (ex.log_bodies) ex.record.response_body = telemetry::RedactBody(body);
  (void)co_await ex.writer.Send(status, std::move(h), std::move(body));
}

awaitable<void> SendError(Gateway::Exchange& ex, const Error& e,
                          const net::Headers* upstream_headers = nullptr) {
  ex.record.status = e.HttpStatus();
  ex.record.error_code = e.code.empty() ? std::string(ErrorKindName(e.kind)) : e.code;
  ex.record.error_message = e.message;
  if (ex.writer.started()) co_return;
  auto h = BaseHeaders(ex, "application/json");
  if (upstream_headers) {
    for (const char* name : {"retry-after", "retry-after-ms"}) {
      if (auto v = upstream_headers->Get(name); !v.empty()) h.Add(name, std::string(v));
    }
  } else if (e.retry_after) {
    h.Add("retry-after", std::to_string((e.retry_after->count() + 999) / 1000));
  }
  // An upstream's failure reaches the caller only after modelmux's own retries and fallbacks:
  // tell the official SDKs not to multiply them (reliability.md 4).
  if (!e.provider.empty() || e.upstream_status != 0) h.Set("x-should-retry", "false");
  AddOverheadHeader(ex, h);
  std::string error_body = ex.ingress->EncodeError(e);
  if (ex.log_bodies) ex.record.response_body = telemetry::RedactBody(error_body);
  (void)co_await ex.writer.Send(e.HttpStatus(), std::move(h), std::move(error_body));
}

// Starts the caller's event stream (200, text/event-stream) unless a heartbeat did already.
awaitable<Status> StartEventStream(Gateway::Exchange& ex) {
  if (ex.writer.started()) co_return OkStatus();
  auto h = BaseHeaders(ex, "text/event-stream");
  h.Add("cache-control", "no-cache");
  ex.record.status = 200;
  co_return co_await ex.writer.StartStream(200, std::move(h));
}

// An SSE comment while a stream's first piece is awaited (the caller's stream starts with the
// first one): keeps idle-timeout proxies and clients from giving up on a slow first token.
awaitable<Status> StreamHeartbeat(Gateway::Exchange& ex) {
  MM_CO_RETURN_IF_ERROR(co_await StartEventStream(ex));
  co_return co_await ex.writer.Write(": keep-alive\n\n");
}

// The trace this request belongs to: the caller's (traceparent) continued, or a new one. Not
// recording (no exporter, or the caller's trace is not sampled), a caller's traceparent still
// goes upstream as it came.
void StartTrace(Gateway::Exchange& ex, const GatewayMetrics& metrics) {
  std::optional<telemetry::TraceContext> caller;
  if (const auto tp = ex.req.headers.Get("traceparent"); !tp.empty()) {
    caller = telemetry::ParseTraceparent(tp);
  }
  if (!metrics.tracing() || (caller && !caller->sampled)) {
    if (caller) ex.attempts.trace = *caller;
    return;
  }
  ex.trace.trace_id = caller ? caller->trace_id : telemetry::NewTraceId();
  ex.trace.span_id = telemetry::NewSpanId();
  ex.caller_span = caller ? caller->span_id : 0;
  ex.attempts.trace = ex.trace;
  ex.attempts.record_spans = true;
}

// After an API request: the overhead and time-to-first-token histograms, and the spans.
void FinishObservation(Gateway::Exchange& ex, GatewayMetrics& metrics) {
  const auto now = Clock::now();
  if (!ex.overhead) {
    ex.overhead = GatewayMetrics::Overhead(now - ex.began, ex.attempts, ex.io_wait);
  }
  metrics.overhead.Observe(static_cast<double>(ex.overhead->count()) / 1e9);
  if (ex.record.stream && ex.first_token) {
    metrics.ttft.With({ex.model_label, ex.record.provider})
        .Observe(std::chrono::duration<double>(*ex.first_token - ex.req.received).count());
  }
  if (!ex.trace.valid() || !metrics.tracer) return;
  const int64_t end_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  telemetry::Span span;
  span.trace_id = ex.trace.trace_id;
  span.span_id = ex.trace.span_id;
  span.parent_span_id = ex.caller_span;
  span.kind = telemetry::SpanKind::kServer;
  span.name = ex.record.method + " " + ex.record.path;
  span.end_unix_ns = end_ns;
  span.start_unix_ns =
      end_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(now - ex.req.received).count();
  span.Set("http.method", ex.record.method);
  span.Set("http.route", ex.record.path);
  span.Set("http.status_code", ex.record.status);
  span.Set("modelmux.request_id", ex.record.request_id);
  span.Set("modelmux.model", ex.model_label);
  if (!ex.record.provider.empty()) span.Set("modelmux.provider", ex.record.provider);
  if (!ex.attempts.deployment.empty()) span.Set("modelmux.deployment", ex.attempts.deployment);
  span.Set("modelmux.stream", ex.record.stream);
  span.Set("modelmux.attempts", ex.attempts.attempts);
  if (!ex.attempts.cache.empty()) span.Set("modelmux.cache", ex.attempts.cache);
  if (!ex.attempts.fallbacks.empty()) span.Set("modelmux.fallback", ex.attempts.fallbacks.back());
  if (ex.record.usage) {
    span.Set("gen_ai.usage.input_tokens", ex.record.usage->prompt_tokens);
    span.Set("gen_ai.usage.output_tokens", ex.record.usage->completion_tokens);
  }
  if (!ex.record.error_code.empty()) span.Set("error.type", ex.record.error_code);
  span.Set("modelmux.overhead_us", static_cast<int64_t>(ex.overhead->count() / 1000));
  if (ex.record.status >= 500 || (ex.record.status == 200 && !ex.record.error_code.empty())) {
    span.error = true;
    span.status_message = ex.record.error_code;
  }
  std::vector<telemetry::Span> spans = std::move(ex.attempts.spans);
  spans.push_back(std::move(span));
  metrics.tracer->Submit(std::move(spans));
}

// GET /v1/usage (usage_api.hpp): the calling key's own rows of the usage ledger.
awaitable<void> ServeUsage(Gateway::Exchange& ex, telemetry::Ledger* ledger) {
  // A virtual key reaches here only with the `usage-read` task (Govern checked it) and reads its
  // own rows; otherwise the master key (or a loopback caller when none is set) reads the rows
  // made without a virtual key.
  const std::string key_id = ex.record.key_id;  // the caller's key id ("" = no virtual key)
  if (key_id.empty()) {
    if (auto denied = CheckAdminAccess(ex.req, ex.router->config().auth.master_key)) {
      co_return co_await SendError(ex, *denied);
    }
  }
  if (!ledger) {
    co_return co_await SendError(
        ex, NotFound("the usage ledger is off (telemetry.ledger: false)", "ledger_disabled"));
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto query = UsageQueryFrom(ex.req.query(), now_ms, key_id);
  if (!query.ok()) co_return co_await SendError(ex, query.error());
  auto body = co_await UsageBody(*ledger, std::move(query).value());
  if (!body.ok()) co_return co_await SendError(ex, body.error());
  co_await SendJson(ex, 200, std::move(body).value());
}

// True when a chunk carries `"usage": {` (not `"usage": null`): only those are parsed.
bool HasUsageObject(std::string_view data) {
  for (size_t at = data.find("\"usage\""); at != std::string_view::npos;
       at = data.find("\"usage\"", at + 7)) {
    size_t i = at + 7;
    while (i < data.size() && (data[i] == ' ' || data[i] == ':' || data[i] == '\t')) ++i;
    if (i < data.size() && data[i] == '{') return true;
  }
  return false;
}

}  // namespace

Gateway::Gateway(std::shared_ptr<const routing::Router> router, GatewayOptions options)
    : router_(std::move(router)),
      options_(options),
      metrics_(std::make_unique<GatewayMetrics>(registry_)),
      log_(options.log_format, options.access_log) {
  metrics_->StartTracing(router_.load()->config().telemetry);
}

Gateway::~Gateway() = default;

void Gateway::SetRouter(std::shared_ptr<const routing::Router> router) {
  router_.store(std::move(router));
}

void Gateway::SetGatekeeper(std::shared_ptr<Gatekeeper> gatekeeper) {
  gatekeeper_ = std::move(gatekeeper);
  if (gatekeeper_ && gatekeeper_->alerts()) {
    gatekeeper_->alerts()->SetCounter(&metrics_->budget_alerts);
  }
}

std::shared_ptr<const routing::Router> Gateway::router() const {
  return router_.load();
}

size_t Gateway::BodyLimit(std::string_view path) const {
  const auto& limits = router()->config().server.limits;
  // Embeddings batches (up to 2048 texts) outgrow the default limit long before chat does.
  if (path == "/v1/chat/completions" || path == "/v1/messages" || path == "/v1/embeddings" ||
      path == "/v1/describe") {
    return limits.chat_body;
  }
  if (path.rfind("/v1/files", 0) == 0) return limits.files_body;
  return limits.default_body;
}

awaitable<void> Gateway::Handle(net::ServerRequest& req, net::ResponseWriter& writer) {
  Exchange ex{req, writer, router(), {}, {}};
  ex.ctx.request_id = AcceptRequestId(req.headers.Get("x-request-id"));
  ex.ctx.start = req.received;
  ex.ctx.deadline = req.received + ex.router->config().router.timeout;
  ex.record.request_id = ex.ctx.request_id;
  ex.record.method = req.method;
  ex.record.path = std::string(req.path());
  ex.record.start = std::chrono::system_clock::now();
  StartTrace(ex, *metrics_);
  ex.log_bodies = options_.log_bodies;
  if (ex.log_bodies && !req.body.empty()) ex.record.request_body = telemetry::RedactBody(req.body);
  metrics_->in_flight.Add(1);

  const std::string_view path = req.path();
  const bool post = req.method == "POST";
  const bool get = req.method == "GET" || req.method == "HEAD";
  bool api = true;
  bool admitted = true;
  if (gatekeeper_) admitted = co_await Govern(ex);
  if (!admitted) {
    api = path.starts_with("/v1/");  // the refusal was sent; /v1 refusals are logged below
  } else if (path == "/v1/chat/completions" && post) {
    co_await ChatCompletions(ex, false);
  } else if (path == "/v1/completions" && post) {
    co_await ChatCompletions(ex, true);
  } else if (path == "/v1/messages" && post) {
    ex.ingress = &dialects::AnthropicIngress();
    ex.ctx.caller_dialect = Dialect::kAnthropic;
    co_await Messages(ex);
  } else if (path == "/v1/messages/count_tokens" && post) {
    ex.ingress = &dialects::AnthropicIngress();
    co_await CountTokens(ex);
  } else if (path == "/v1/embeddings" && post) {
    co_await Embeddings(ex);
  } else if (path == "/v1/describe" && post) {
    co_await Describe(ex);
  } else if (path == "/utils/token_counter" && post) {
    co_await TokenCounter(ex);
  } else if (path == "/v1/models" && get) {
    co_await Models(ex);
  } else if (path == "/healthz" && get) {
    api = false;
    co_await SendJson(ex, 200, R"({"status":"ok"})");
  } else if (path == "/readyz" && get) {
    api = false;
    // Still ready when the cache's Redis is lost (requests are served as misses), but say so.
    const auto& cache = ex.router->cache();
    co_await SendJson(ex, 200,
                      cache && !cache->healthy()
                          ? R"({"status":"degraded","cache":"redis unavailable"})"
                          : R"({"status":"ok"})");
  } else if (path.starts_with("/admin/cache/")) {
    api = false;
    co_await CacheAdmin(ex);
  } else if (path == "/admin/keys" || path.starts_with("/admin/keys/")) {
    api = false;
    co_await KeysAdmin(ex);
  } else if ((path == "/ui" || path.starts_with("/ui/") || path == "/admin/stats" ||
              path == "/admin/errors") &&
             get) {
    api = false;
    co_await Dashboard(ex);
  } else if (path == "/v1/usage" && get) {
    api = false;
    co_await ServeUsage(ex, options_.ledger);
  } else if (IsBatchApiPath(path)) {
    api = false;
    co_await BatchApi(ex);
  } else if (path == "/metrics" && get) {
    api = false;
    ex.record.status = 200;
    metrics_->CollectDeployments(*ex.router);
    co_await writer.Send(200, BaseHeaders(ex, "text/plain; version=0.0.4"), registry_.Render());
  } else if (path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/models" ||
             path == "/v1/embeddings" || path == "/v1/messages" || path == "/v1/describe" ||
             path == "/v1/messages/count_tokens" || path == "/healthz" || path == "/readyz" ||
             path == "/metrics" || path == "/utils/token_counter" || path == "/v1/usage") {
    Error e = InvalidRequest("method " + req.method + " is not allowed on " + std::string(path));
    e.code = "method_not_allowed";
    ex.record.status = 405;
    auto h = BaseHeaders(ex, "application/json");
    const bool post_only = path.rfind("/v1/", 0) == 0 || path == "/utils/token_counter";
    h.Add("allow", post_only && path != "/v1/models" && path != "/v1/usage" ? "POST" : "GET");
    co_await writer.Send(405, std::move(h), dialects::openai::EncodeError(e));
  } else {
    co_await SendError(ex, NotFound("no route for " + std::string(path), "unknown_url"));
  }
  metrics_->in_flight.Add(-1);

  if (api) {
    ex.record.latency = Clock::now() - req.received;
    const CallCost call_cost = PriceCall(ex);  // the same figure as x-modelmux-cost
    std::optional<telemetry::Money> money = call_cost.list;
    if (money) ex.record.cost = telemetry::FormatMoney(*money);
    if (ex.attempts.cache == "hit") {
      // A hit costs nothing: what it would have cost is counted as saved.
      metrics_->RecordCacheSaved(ex.model_label, ex.record.usage, money);
      money.reset();
      if (ex.record.usage) ex.record.cost = "$0";
    }
    if (!ex.attempts.cache.empty())
      metrics_->cache_requests.With({ex.model_label, ex.attempts.cache}).Inc();
    ex.record.attempts = ex.attempts.attempts;
    if (!ex.attempts.fallbacks.empty()) ex.record.fallback = ex.attempts.fallbacks.back();
    metrics_->Record(ex.model_label, ex.record, money, ex.attempts.cache != "hit");
    metrics_->RecordAttempts(ex.model_label, ex.attempts);
    metrics_->RecordMedia(ex.record.provider, ex.attempts);
    ex.record.deployment = ex.attempts.deployment;
    ex.record.cache = ex.attempts.cache;
    if (ex.record.stream && ex.first_token) ex.record.ttft = *ex.first_token - req.received;
    if (!ex.streamed_body.empty()) {
      ex.record.response_body = telemetry::RedactBody(ex.streamed_body);
    }
    ex.SettleTokens();   // if not done on the way (a caller who left, an estimate)
    if (ex.admission) {  // settle the key's reservation at the actual cost, or release it
      const bool served = ex.record.status > 0 && ex.record.status < 400;
      const int64_t tokens = ex.record.usage ? ex.record.usage->total() : 0;
      // What the ledger records (a cache hit: 0; money is reset above only for the metrics).
      co_await gatekeeper_->Finish(std::move(ex.admission), served, tokens, call_cost.charged);
    }
    log_.Write(ex.record);
    if (options_.ledger) options_.ledger->Append(LedgerRowOf(ex, call_cost));
    FinishObservation(ex, *metrics_);
    recent_errors_.Record(ex.record);
  }
}

awaitable<void> Gateway::Models(Exchange& ex) {
  std::string body = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& id : routing::ListModels(ex.router->config())) {
    if (!first) body += ',';
    first = false;
    auto slash = id.find('/');
    std::string owner = slash == std::string::npos ? "modelmux" : id.substr(0, slash);
    body += R"({"id":")" + telemetry::JsonEscape(id) +
            R"(","object":"model","created":0,"owned_by":")" + telemetry::JsonEscape(owner) +
            R"("})";
  }
  body += "]}";
  co_await SendJson(ex, 200, std::move(body));
}

awaitable<void> Gateway::ChatCompletions(Exchange& ex, bool legacy) {
  namespace oa = dialects::openai;
  auto& req = ex.req;
  const auto& cfg = ex.router->config();

  // Scan, not decode: the fast path reads only what it needs from the body.
  std::string model;
  bool stream = false, include_usage = false, has_media = false, cacheable = false;
  std::vector<std::string> text_ext;
  std::optional<int64_t> max_tokens;
  if (legacy) {
    auto decoded = oa::DecodeCompletionRequest(req.body);
    if (!decoded.ok()) co_return co_await SendError(ex, decoded.error());
    model = decoded->model;
    stream = decoded->stream;
    include_usage = decoded->include_usage;
    ex.record.prompt_chars = decoded->PromptChars();
  } else {
    auto scanned = oa::ScanChatRequest(req.body);
    if (!scanned.ok()) co_return co_await SendError(ex, scanned.error());
    model = std::move(scanned->model);
    stream = scanned->stream;
    include_usage = scanned->include_usage;
    ex.record.prompt_chars = scanned->prompt_chars;
    has_media = scanned->has_media;
    text_ext = scanned->extension_keys_present;
    max_tokens = scanned->max_tokens;
    // Requests the cache may answer (deterministic ones, or ones that name a cache policy) take
    // the decoded path, where the cache sits; the rest pass through untouched.
    cacheable =
        ex.router->cache() &&
        ((scanned->temperature && *scanned->temperature == 0) || scanned->has_seed ||
         std::find(scanned->extension_keys_present.begin(), scanned->extension_keys_present.end(),
                   "cache") != scanned->extension_keys_present.end());
  }
  if (ex.router->cache() && !cacheable) ex.attempts.cache = "bypass";
  ex.record.model = model;
  ex.record.stream = stream;

  auto plan = ex.router->MakePlan(model);
  if (!plan.ok()) co_return co_await SendError(ex, plan.error());
  ex.model_label = model;
  ex.record.provider = plan->provider->spec().name;
  ex.provider_type = plan->provider->spec().type;
  ex.record.upstream_model = plan->resolved.model;

  // Text extensions (context, split_sentences) and the model's cost and context controls work on
  // the decoded request too (routing/text_stage.hpp).
  const bool text_stage =
      !legacy && (std::find_if(text_ext.begin(), text_ext.end(),
                               [](const std::string& k) {
                                 return k == "context" || k == "split_sentences";
                               }) != text_ext.end() ||
                  routing::NeedsTextStage(cfg, model, req.body.size(), max_tokens) ||
                  ex.ctx.key_context != nullptr);
  if (has_media || cacheable || text_stage || !ex.router->dispatcher().AllOpenAiWire(model)) {
    // Another dialect upstream (or in the fallback chain), or images and videos to fit to the
    // provider (the media stage works on the decoded request): decode fully, translate, and
    // encode the answer back.
    if (legacy) {
      Error e = InvalidRequest(
          "the legacy completions API is served for OpenAI-compatible "
          "upstreams only; use /v1/chat/completions",
          "model", "unsupported_for_model");
      co_return co_await SendError(ex, e);
    }
    // The body is not needed past here: released once parsed (large media is held twice at most).
    auto decoded = oa::DecodeChatRequestReleasing(req.body);
    if (!decoded.ok()) co_return co_await SendError(ex, decoded.error());
    co_return co_await Translated(ex, std::move(decoded).value());
  }

  // The same body goes to whichever deployment the router picks, with its model written in.
  // (Validated once here, so that a bad body is a 400 and never an upstream attempt.)
  auto checked = oa::RewriteForUpstream(req.body, plan->resolved.model, stream && !include_usage,
                                        oa::kExtensionKeys);
  if (!checked.ok()) co_return co_await SendError(ex, checked.error());
  const std::string_view endpoint = legacy ? "/completions" : "/chat/completions";
  const bool ask_usage = stream && !include_usage;
  routing::Router::BuildCall build =
      [&](const routing::Target& t) -> Result<upstream::UpstreamCall> {
    upstream::UpstreamCall call;
    call.path = t.provider->OpenAiPath(endpoint, t.model);
    if (t.model == plan->resolved.model) {
      call.body = *checked;
    } else {
      MM_TRY(call.body, oa::RewriteForUpstream(req.body, t.model, ask_usage, oa::kExtensionKeys));
    }
    routing::ForwardSimControls(req.headers, *t.provider, call.headers);
    if (stream) call.headers.Add("accept", "text/event-stream");
    return call;
  };
  // Reserved in the deployment's token window until the answer's usage settles it: the prompt's
  // characters (no fewer than its tokens for ordinary text) and the completion's cap.
  const int64_t tokens = static_cast<int64_t>(ex.record.prompt_chars) +
                         max_tokens.value_or(routing::kDefaultCompletionReserve);
  routing::Router::Heartbeat heartbeat;
  if (stream) heartbeat = [&ex] { return StreamHeartbeat(ex); };
  auto sent = co_await ex.router->OpenRaw(model, ex.ctx, tokens, std::move(build), stream,
                                          std::move(heartbeat), &ex.attempts);
  ex.NoteDeployment();
  ex.settle_at_end = true;
  if (!sent.ok()) {
    if (sent.error().kind == ErrorKind::kCancelled) co_return;  // the caller is gone
    if (!sent.error().provider.empty()) {
      metrics_->upstream_errors
          .With({sent.error().provider, std::string(ErrorKindName(sent.error().kind))})
          .Inc();
    }
    if (ex.writer.started()) {
      // Heartbeats committed the stream to a 200: the failure goes in-band, as its only event.
      ex.record.error_code = sent.error().code.empty()
                                 ? std::string(ErrorKindName(sent.error().kind))
                                 : sent.error().code;
      ex.record.error_message = sent.error().message;
      ex.KeepStreamed("[error] " + sent.error().message);
      (void)co_await ex.writer.Write("data: " + oa::EncodeError(sent.error()) + "\n\n");
      (void)co_await ex.writer.Finish();
      co_return;
    }
    co_return co_await SendError(ex, sent.error());
  }
  std::shared_ptr<net::ClientResponse> resp = std::move(sent->response);

  if (!stream) {
    ex.record.usage = oa::ScanUsage(sent->body);
    ex.SettleTokens();
    co_return co_await SendJson(ex, 200, std::move(sent->body));
  }

  // Streamed: forward event by event; drop the usage chunk the caller did not ask for.
  if (!(co_await StartEventStream(ex)).ok()) {
    resp->Cancel();
    co_return;
  }

  SseParser parser;
  std::vector<SseEvent> events;
  std::string out;
  std::string delivered;  // the answer's text so far, for an estimate if the stream is cut
  bool done = false, timed_out = false, gone = false;
  std::string cut_detail;
  std::string first = std::move(sent->body);  // read by the attempt
  while (!done) {
    Result<std::string_view> piece = std::string_view(first);
    if (first.empty()) {
      const auto read_start = Clock::now();
      piece = co_await resp->ReadSome();
      ex.io_wait += Clock::now() - read_start;
    }
    if (!piece.ok()) {
      if (piece.error().kind == ErrorKind::kCancelled) {
        gone = true;  // the caller is gone
        break;
      }
      cut_detail = piece.error().message;
      timed_out = piece.error().kind == ErrorKind::kTimeout;
      break;
    }
    if (piece->empty()) break;
    const bool parsed = parser.Feed(*piece, events);
    first.clear();
    if (!parsed) break;
    out.clear();
    for (const auto& ev : events) {
      if (ev.data == "[DONE]") {
        done = true;
        out += "data: [DONE]\n\n";
        break;
      }
      if (ev.data.find("\"error\"") != std::string::npos && oa::IsErrorChunk(ev.data)) {
        // The provider ended the stream with an error event: pass it on as the last event.
        AppendSseEvent(out, ev.data, ev.event);
        ex.record.error_code = "upstream_stream_error";
        ex.record.error_message = "the provider sent an error event mid-stream";
        ex.attempts.FailedAfterAnswer();  // toward the deployment's ejection
        done = true;
        break;
      }
      if (HasUsageObject(ev.data)) {
        if (auto u = oa::ScanUsage(ev.data)) ex.record.usage = u;
        if (!include_usage && oa::IsUsageOnlyChunk(ev.data)) continue;
      }
      if (!ex.record.usage || ex.log_bodies) oa::AppendDeltaContent(ev.data, delivered);
      AppendSseEvent(out, ev.data, ev.event);
    }
    events.clear();
    if (!out.empty()) {
      ex.NoteChunk();
      const auto write_start = Clock::now();
      auto wrote = co_await ex.writer.Write(out);
      ex.io_wait += Clock::now() - write_start;
      if (!wrote.ok()) {
        gone = true;
        break;
      }
    }
  }
  if (done) {
    // Read the upstream body to its end (the chunked terminator follows [DONE]) so that the
    // connection goes back to the pool instead of being closed.
    for (int i = 0; i < 4 && !resp->done(); ++i) {
      auto rest = co_await resp->ReadSome();
      if (!rest.ok() || rest->empty()) break;
    }
  }
  ex.KeepStreamed(delivered);
  if (!done && !ex.record.usage) {
    // Cut, or left by the caller, before the provider's count: bill what was asked and what was
    // delivered, as an estimate (the log line says so; reliability.md 13, 18).
    auto decoded = oa::DecodeChatRequest(req.body);
    ex.EstimateUsage(decoded.ok() ? text::EstimatePromptTokens(*decoded)
                                  : static_cast<int64_t>(ex.record.prompt_chars),
                     text::EstimateTokens(delivered));
  }
  if (gone) {
    resp->Cancel();  // the caller left: end the upstream call; nothing is retried
    ex.record.error_code = "client_disconnected";
    ex.record.error_message = "the caller closed the connection mid-stream";
    co_return;
  }
  if (!done) {
    // The upstream ended without its terminator: say so in-band, never pretend it finished.
    Error e;
    e.kind = timed_out ? ErrorKind::kTimeout : ErrorKind::kUpstreamError;
    e.code = timed_out ? "upstream_timeout" : "stream_cut";
    e.message = "the upstream stream ended before it was complete";
    if (!cut_detail.empty()) e.message += ": " + cut_detail;
    ex.record.error_code = e.code;
    ex.record.error_message = e.message;
    ex.attempts.FailedAfterAnswer();  // a cut stream counts toward the deployment's ejection
    ex.KeepStreamed("\n[error] " + e.message);
    (void)co_await ex.writer.Write("data: " + oa::EncodeError(e) + "\n\n");
  }
  ex.SettleTokens();
  (void)co_await ex.writer.Finish();
}

awaitable<void> Gateway::Embeddings(Exchange& ex) {
  EmbeddingsOutcome out =
      co_await ServeEmbeddings(ex.router, ex.req.body, ex.ctx, ex.req.headers, &ex.attempts);
  if (!out.model.empty()) ex.model_label = ex.record.model = out.model;
  ex.record.provider = out.provider;
  ex.record.upstream_model = out.upstream_model;
  ex.record.prompt_chars = out.prompt_chars;
  ex.record.usage = out.usage;
  ex.provider_type = out.provider_type;
  if (out.error) {
    if (out.from_upstream) {
      metrics_->upstream_errors.With({out.provider, std::string(ErrorKindName(out.error->kind))})
          .Inc();
    }
    co_return co_await SendError(ex, *out.error);
  }
  co_await SendJson(ex, 200, std::move(out.body));
}

awaitable<bool> Gateway::Govern(Exchange& ex) {
  const auto& cfg = ex.router->config();
  const auto& auth = cfg.auth;
  const std::string_view path = ex.req.path();
  if ((auth.master_key.empty() && auth.ip_allowlist.empty()) || path == "/healthz" ||
      path == "/readyz") {
    co_return true;
  }
  std::optional<Error> refusal;
  if (path.starts_with("/v1/")) {
    auto caller = co_await gatekeeper_->Authenticate(ex.req, auth);
    if (!caller.ok()) {
      refusal = caller.error();
    } else if (caller->key) {
      ex.record.key_id = caller->key->id;
      if (IsBatchApiPath(path)) ex.batch_key = caller->key;
      RequestFacts facts = ScanFacts(path, ex.req.body);
      // The key's max_tokens cap and default (before the reservation counts on them), and its
      // domain context for the text stage (gateway/key_controls.hpp).
      ex.attempts.max_tokens_clamp = ApplyKeyMaxTokens(*caller->key, path, ex.req.body, facts);
      if (!caller->key->context.empty()) {
        ex.ctx.key_context = std::make_shared<const std::string>(caller->key->context);
      }
      // Its tags and bound tier for conditional pipelines (routing/pipeline.hpp).
      if (!caller->key->tags.empty()) {
        ex.ctx.key_tags = std::make_shared<const std::vector<std::string>>(caller->key->tags);
      }
      auto admitted = co_await gatekeeper_->Admit(*caller, facts, ex.router);
      if (!admitted.ok()) {
        refusal = admitted.error();
      } else {
        ex.admission = std::move(admitted).value();
      }
    }
  } else if (auto ip = gatekeeper_->CheckGlobalIp(ex.req, auth); !ip.ok()) {
    refusal = ip.error();
  } else if (!auth.master_key.empty() &&
             (path.starts_with("/admin/") ||
              (path == "/metrics" && !cfg.telemetry.metrics_public)) &&
             !Gatekeeper::HasMasterKey(ex.req, auth)) {
    Error e;
    e.kind = ErrorKind::kAuthentication;
    e.code = "invalid_master_key";
    e.message = "this route needs the master key (Authorization: Bearer ...)";
    refusal = std::move(e);
  }
  if (!refusal) co_return true;
  co_await SendError(ex, *refusal);
  co_return false;
}

awaitable<void> Gateway::BatchApi(Exchange& ex) {
  if (!batch_) {
    co_return co_await SendError(ex, NotFound("the Batch API is off", "batch_api_disabled"));
  }
  const auto& auth = ex.router->config().auth;
  BatchApiRequest call;
  // Whose files and batches: the virtual key's; the master key's (which sees every owner's); or
  // with no master key configured, everything belongs to "anonymous".
  if (!ex.record.key_id.empty()) {
    call.who.owner = ex.record.key_id;
  } else if (!auth.master_key.empty()) {
    if (!Gatekeeper::HasMasterKey(ex.req, auth)) {  // Govern let it through: only without one
      Error e;
      e.kind = ErrorKind::kAuthentication;
      e.code = "missing_api_key";
      e.message = "the Batch API needs an API key";
      co_return co_await SendError(ex, e);
    }
    call.who.owner = "master";
    call.who.sees_all = true;
  } else {
    call.who.owner = "anonymous";
  }
  if (ex.batch_key) {
    call.model_ok = [key = *ex.batch_key](const std::string& model) -> std::string {
      if (govern::ModelAllowed(key, model)) return {};
      return "model '" + model + "' is not allowed for this key";
    };
  }
  call.method = ex.req.method;
  call.path = std::string(ex.req.path());
  call.query = std::string(ex.req.query());
  call.content_type = std::string(ex.req.headers.Get("content-type"));
  call.body = std::move(ex.req.body);
  auto answer = co_await ServeBatchApi(batch_, std::move(call));
  if (!answer.ok()) co_return co_await SendError(ex, answer.error());
  ex.record.status = answer->status;
  auto h = BaseHeaders(ex, answer->content_type);
  if (!answer->allow.empty()) h.Add("allow", answer->allow);
  (void)co_await ex.writer.Send(answer->status, std::move(h), std::move(answer->body));
}

awaitable<void> Gateway::KeysAdmin(Exchange& ex) {
  const auto& auth = ex.router->config().auth;
  if (!gatekeeper_ || auth.master_key.empty()) {
    Error e;
    e.kind = ErrorKind::kPermission;
    e.code = "admin_requires_master_key";
    e.message = "virtual keys are managed with the master key; none is set (MODELMUX_MASTER_KEY)";
    co_return co_await SendError(ex, e);
  }
  if (auto denied = CheckAdminAccess(ex.req, auth.master_key)) {  // Govern checked it already
    co_return co_await SendError(ex, *denied);
  }
  AdminCall call{ex.req.method, std::string(ex.req.path()), ex.req.body,
                 "master",      ex.ctx.request_id,          ex.req.peer.to_string()};
  auto answer = co_await ServeKeysAdmin(gatekeeper_, std::move(call));
  if (!answer.ok()) co_return co_await SendError(ex, answer.error());
  co_await SendJson(ex, answer->status, std::move(answer->body));
}

awaitable<void> Gateway::CacheAdmin(Exchange& ex) {
  // The master key (compared in constant time), or loopback callers while none is set.
  if (auto denied = CheckAdminAccess(ex.req, ex.router->config().auth.master_key)) {
    co_return co_await SendError(ex, *denied);
  }
  const auto& cache = ex.router->cache();
  if (!cache) {
    co_return co_await SendError(ex, NotFound("the response cache is disabled", "cache_disabled"));
  }
  const std::string_view path = ex.req.path();
  const int64_t now = cache::SystemNowMs();
  Result<std::string> body = std::string();
  if (path == "/admin/cache/stats" && ex.req.method == "GET") {
    body = co_await CacheStatsJson(*cache);
  } else if (path == "/admin/cache/entries" && ex.req.method == "GET") {
    auto filter = FilterFromQuery(ex.req.query(), now);
    if (!filter.ok()) co_return co_await SendError(ex, filter.error());
    body = co_await CacheEntriesJson(*cache, std::move(filter).value());
  } else if (path == "/admin/cache/purge" && ex.req.method == "POST") {
    auto filter = FilterFromJson(ex.req.body, now);
    if (!filter.ok()) co_return co_await SendError(ex, filter.error());
    body = co_await CachePurgeJson(*cache, std::move(filter).value());
  } else {
    co_return co_await SendError(
        ex, NotFound("no route for " + ex.req.method + " " + std::string(path), "unknown_url"));
  }
  if (!body.ok()) co_return co_await SendError(ex, body.error());
  co_await SendJson(ex, 200, std::move(body).value());
}

awaitable<void> Gateway::Dashboard(Exchange& ex) {
  const std::string_view path = ex.req.path();
  if (path == "/ui" || path.starts_with("/ui/")) {
    UiResponse r = ServeUi(path, ex.req.headers.Get("if-none-match"));
    if (r.status == 404) {
      co_return co_await SendError(ex, NotFound("no dashboard file " + std::string(path)));
    }
    ex.record.status = r.status;
    r.headers.Add("x-request-id", ex.ctx.request_id);
    (void)co_await ex.writer.Send(r.status, std::move(r.headers), std::move(r.body));
    co_return;
  }
  if (auto denied = CheckAdminAccess(ex.req, ex.router->config().auth.master_key)) {
    co_return co_await SendError(ex, *denied);
  }
  const size_t capacity = recent_errors_.capacity();
  if (path == "/admin/errors") {
    auto limit = ErrorsLimitFromQuery(ex.req.query(), capacity, capacity);
    if (!limit.ok()) co_return co_await SendError(ex, limit.error());
    co_return co_await SendJson(
        ex, 200, ErrorsJson(recent_errors_.Latest(*limit), recent_errors_.total(), capacity));
  }
  StatsSnapshot s;
  s.version = std::string(GatewayVersion());
  s.uptime_s = std::chrono::duration<double>(Clock::now() - started_).count();
  s.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  s.metrics = registry_.Render();
  s.errors = recent_errors_.Latest(50);
  s.errors_total = recent_errors_.total();
  auto h = BaseHeaders(ex, "application/json");
  h.Add("cache-control", "no-store");
  ex.record.status = 200;
  co_await ex.writer.Send(200, std::move(h), StatsJson(s));
}

awaitable<void> Gateway::Describe(Exchange& ex) {
  DescribeOutcome out = co_await ServeDescribe(ex.router, std::move(ex.req.body), ex.ctx,
                                               ex.req.headers, &ex.attempts);
  ex.NoteDeployment();
  if (!out.model.empty()) ex.model_label = ex.record.model = out.model;
  ex.record.prompt_chars = out.prompt_chars;
  ex.record.usage = out.usage;
  if (out.error) {
    if (out.from_upstream) {
      metrics_->upstream_errors
          .With({out.error->provider, std::string(ErrorKindName(out.error->kind))})
          .Inc();
    }
    co_return co_await SendError(ex, *out.error);
  }
  co_await SendJson(ex, 200, std::move(out.body));
}

awaitable<void> Gateway::TokenCounter(Exchange& ex) {
  TokenCounterOutcome out = ServeTokenCounter(ex.req.body);
  if (!out.model.empty()) ex.model_label = ex.record.model = out.model;
  ex.record.prompt_chars = out.prompt_chars;
  if (out.error) co_return co_await SendError(ex, *out.error);
  co_await SendJson(ex, 200, std::move(out.body));
}

awaitable<void> Gateway::Messages(Exchange& ex) {
  auto decoded = ex.ingress->DecodeRequestReleasing(ex.req.body);
  if (!decoded.ok()) co_return co_await SendError(ex, decoded.error());
  ex.record.model = decoded->model;
  ex.record.stream = decoded->stream;
  ex.record.prompt_chars = decoded->PromptChars();
  co_await Translated(ex, std::move(decoded).value());
}

awaitable<void> Gateway::CountTokens(Exchange& ex) {
  // Anthropic's count_tokens takes a Messages body without max_tokens.
  auto decoded = ex.ingress->DecodeRequest(ex.req.body);
  if (!decoded.ok() && decoded.error().param == "max_tokens") {
    std::string body = ex.req.body;
    auto brace = body.find('{');
    if (brace != std::string::npos) body.insert(brace + 1, R"("max_tokens":1,)");
    decoded = ex.ingress->DecodeRequest(body);
  }
  if (!decoded.ok()) co_return co_await SendError(ex, decoded.error());
  // No exact tokenizer for any model yet: a conservative estimate, and the header says so.
  const int64_t n = text::EstimatePromptTokens(*decoded);
  auto h = BaseHeaders(ex, "application/json");
  h.Add("x-modelmux-token-count", "estimate");
  ex.record.status = 200;
  co_await ex.writer.Send(200, std::move(h), R"({"input_tokens":)" + std::to_string(n) + "}");
}

awaitable<void> Gateway::Translated(Exchange& ex, ChatRequest request) {
  auto plan = ex.router->MakePlan(request.model);
  if (!plan.ok()) co_return co_await SendError(ex, plan.error());
  ex.model_label = request.model;
  ex.record.model = request.model;
  ex.record.provider = plan->provider->spec().name;
  ex.provider_type = plan->provider->spec().type;
  ex.record.upstream_model = plan->resolved.model;

  // The request is moved into the router (it may carry megabytes of media; docs/MULTIMODAL.md,
  // "Memory"): what is needed of it afterwards is taken first.
  if (!request.stream) {
    auto r = co_await ex.router->Chat(std::move(request), ex.ctx, ex.req.headers, &ex.attempts);
    ex.NoteDeployment();
    if (!r.ok()) co_return co_await SendError(ex, r.error());
    ex.record.usage = r->usage;
    if (r->model.empty()) r->model = ex.record.upstream_model;
    // Some providers (Bedrock Converse) name no id or time: give the caller ours.
    if (r->id.empty()) r->id = "chatcmpl-" + ex.ctx.request_id;
    if (r->created == 0) {
      r->created =
          std::chrono::duration_cast<std::chrono::seconds>(ex.record.start.time_since_epoch())
              .count();
    }
    co_return co_await SendJson(ex, 200, ex.ingress->EncodeResponse(*r));
  }

  auto encoder = ex.ingress->NewStreamEncoder(request);
  const int64_t prompt_estimate = text::EstimatePromptTokens(request);  // for a cut stream
  auto opened =
      co_await ex.router->OpenStream(std::move(request), ex.ctx, ex.req.headers, &ex.attempts);
  ex.NoteDeployment();
  if (!opened.ok()) co_return co_await SendError(ex, opened.error());
  auto stream = std::move(opened).value();
  ex.settle_at_end = true;
  std::vector<StreamEvent> events;
  // Some providers (Baidu, Tencent) answer errors such as rate limits inside an HTTP 200 body:
  // read the first piece before committing to a 200, so such an error still gets its status.
  auto first = co_await stream->Next(events);
  if (!first.ok() && events.empty()) {
    if (first.error().kind == ErrorKind::kCancelled) {
      stream->Cancel();
      co_return;
    }
    co_return co_await SendError(ex, first.error());
  }
  auto h = BaseHeaders(ex, "text/event-stream");
  h.Add("cache-control", "no-cache");
  ex.record.status = 200;
  if (!(co_await ex.writer.StartStream(200, std::move(h))).ok()) {
    stream->Cancel();
    co_return;
  }
  std::string out;
  std::optional<Error> failure;
  int64_t delivered_tokens = 0;  // estimated, for a stream cut before its usage arrived
  bool have_first = true;
  while (true) {
    // (No co_await inside a conditional expression: GCC 12 miscompiles temporaries there.)
    Result<bool> more = std::move(first);
    const auto read_start = Clock::now();
    if (!have_first) more = co_await stream->Next(events);
    ex.io_wait += Clock::now() - read_start;
    have_first = false;
    out.clear();
    for (const auto& ev : events) {
      out += encoder->Encode(ev);
      for (const auto& d : ev.deltas) {
        delivered_tokens += text::EstimateTokens(d.text);
        ex.KeepStreamed(d.text);
      }
    }
    events.clear();
    bool gone = false;
    if (!more.ok()) {
      if (more.error().kind == ErrorKind::kCancelled) {
        gone = true;
      } else {
        failure = std::move(more).error();
      }
    }
    if (!out.empty() && !gone) {
      ex.NoteChunk();
      const auto write_start = Clock::now();
      auto wrote = co_await ex.writer.Write(out);
      ex.io_wait += Clock::now() - write_start;
      gone = !wrote.ok();
    }
    if (gone) {
      // The caller left: end the upstream call (nothing is retried) and bill what was delivered.
      stream->Cancel();
      ex.record.usage = stream->usage();
      if (!ex.record.usage) ex.EstimateUsage(prompt_estimate, delivered_tokens);
      ex.record.error_code = "client_disconnected";
      ex.record.error_message = "the caller closed the connection mid-stream";
      co_return;
    }
    if (failure || !*more) break;
  }
  ex.record.usage = stream->usage();
  if (failure) {
    ex.attempts.FailedAfterAnswer();  // toward the deployment's ejection
    ex.record.error_code = failure->code.empty() ? "stream_error" : failure->code;
    ex.record.error_message = failure->message;
    if (!ex.record.usage) ex.EstimateUsage(prompt_estimate, delivered_tokens);
  }
  if (failure) ex.KeepStreamed("\n[error] " + failure->message);
  ex.SettleTokens();
  (void)co_await ex.writer.Write(encoder->Finish(stream->usage(), failure ? &*failure : nullptr));
  (void)co_await ex.writer.Finish();
}

}  // namespace modelmux::gateway
