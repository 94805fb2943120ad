#include "telemetry/trace_exporter.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "net/http_client.hpp"

namespace modelmux::telemetry {

namespace asio = boost::asio;

namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int a = hex(s[i + 1]), b = hex(s[i + 2]);
      if (a >= 0 && b >= 0) {
        out += static_cast<char>(a * 16 + b);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string WithoutTrailingSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

void Upsert(std::vector<std::pair<std::string, std::string>>& headers, std::string name,
            std::string value) {
  for (auto& [k, v] : headers) {
    if (net::IEquals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

struct PostState {
  bool done = false;
  bool ok = false;
};

asio::awaitable<void> PostOnce(net::HttpClient* client, net::ClientRequest request,
                               net::ClientOptions options, std::shared_ptr<PostState> state) {
  auto resp = co_await client->Send(std::move(request), options);
  if (resp.ok()) {
    auto body = co_await (*resp)->ReadAll(1 << 20);  // read to the end: the connection is reused
    state->ok = (*resp)->status() / 100 == 2 && body.ok();
  }
  state->done = true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseOtlpHeaders(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view member = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const size_t eq = member.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = Trim(PercentDecode(member.substr(0, eq)));
    std::string value = Trim(PercentDecode(member.substr(eq + 1)));
    if (name.empty()) continue;
    Upsert(out, std::move(name), std::move(value));
  }
  return out;
}

std::optional<OtlpOptions> ResolveOtlpOptions(
    const std::string& config_endpoint, const std::map<std::string, std::string>& config_headers,
    std::chrono::milliseconds timeout, const EnvGetter& env) {
  OtlpOptions o;
  auto var = [&](const char* name) -> std::string {
    auto v = env(name);
    return v ? Trim(*v) : std::string();
  };
  if (!config_endpoint.empty()) {
    o.url = WithoutTrailingSlash(config_endpoint) + "/v1/traces";
  } else if (auto traces = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); !traces.empty()) {
    o.url = traces;
  } else if (auto base = var("OTEL_EXPORTER_OTLP_ENDPOINT"); !base.empty()) {
    o.url = WithoutTrailingSlash(base) + "/v1/traces";
  } else {
    return std::nullopt;
  }
  for (const char* name : {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
    for (auto& [k, v] : ParseOtlpHeaders(var(name))) Upsert(o.headers, k, v);
  }
  for (const auto& [k, v] : config_headers) Upsert(o.headers, k, v);
  if (timeout.count() > 0) o.timeout = timeout;
  if (auto service = var("OTEL_SERVICE_NAME"); !service.empty()) o.service_name = service;
  return o;
}

struct SpanExporter::Http {
  asio::io_context ioc;
  net::HttpClient client{ioc.get_executor(), net::TlsOptions{},
                         net::ProxyOptions::FromEnvironment()};

  bool Post(const OtlpOptions& o, const std::string& body) {
    net::ClientRequest req;
    req.method = "POST";
    req.url = o.url;
    req.body = body;
    req.headers.Add("content-type", "application/json");
    for (const auto& [k, v] : o.headers) req.headers.Add(k, v);
    net::ClientOptions copts;
    copts.connect_timeout = o.timeout;
    copts.first_byte_timeout = o.timeout;
    copts.idle_timeout = o.timeout;
    copts.total_timeout = o.timeout;
    auto state = std::make_shared<PostState>();
    asio::co_spawn(ioc, PostOnce(&client, std::move(req), copts, state), asio::detached);
    ioc.restart();
    // The client's own timeouts end the call; the loop's bound is a second guard.
    const auto deadline = std::chrono::steady_clock::now() + o.timeout + std::chrono::seconds(1);
    while (!state->done && std::chrono::steady_clock::now() < deadline) {
      ioc.run_one_for(std::chrono::milliseconds(100));
    }
    return state->ok;
  }
};

SpanExporter::SpanExporter(OtlpOptions options, CounterFamily* spans)
    : options_(std::move(options)), spans_(spans), http_(std::make_unique<Http>()) {
  sender_ = [this](const std::string& body) { return http_->Post(options_, body); };
  thread_ = std::thread([this] { Run(); });
}

SpanExporter::SpanExporter(OtlpOptions options, CounterFamily* spans, Sender sender)
    : options_(std::move(options)), spans_(spans), sender_(std::move(sender)) {
  thread_ = std::thread([this] { Run(); });
}

SpanExporter::~SpanExporter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void SpanExporter::Count(const char* result, size_t n) {
  if (spans_ != nullptr && n > 0) spans_->With({result}).Inc(static_cast<double>(n));
}

void SpanExporter::Submit(std::vector<Span> spans) {
  if (spans.empty()) return;
  size_t dropped = 0;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    const size_t room = options_.max_queue > queue_.size() ? options_.max_queue - queue_.size() : 0;
    const size_t take = std::min(room, spans.size());
    dropped = spans.size() - take;
    for (size_t i = 0; i < take; ++i) queue_.push_back(std::move(spans[i]));
    wake = queue_.size() >= options_.max_batch;
  }
  Count("dropped_queue_full", dropped);
  if (wake) cv_.notify_one();
}

void SpanExporter::Flush() {
  std::unique_lock lock(mu_);
  flush_requested_ = true;
  const uint64_t target = ++submitted_;
  cv_.notify_one();
  flushed_.wait(lock, [&] { return handled_ >= target || stop_; });
}

void SpanExporter::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait_for(lock, options_.interval,
                 [&] { return stop_ || flush_requested_ || queue_.size() >= options_.max_batch; });
    // Everything queued now goes out, batch by batch (the lock is released while sending).
    const uint64_t flush_target = submitted_;
    flush_requested_ = false;
    while (!queue_.empty()) {
      const size_t n = std::min(queue_.size(), options_.max_batch);
      std::vector<Span> batch(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
      lock.unlock();
      const std::string body =
          EncodeOtlpJson(batch, options_.service_name, options_.service_version);
      const bool ok = sender_(body);
      Count(ok ? "exported" : "failed", batch.size());
      lock.lock();
    }
    handled_ = flush_target;
    flushed_.notify_all();
    if (stop_) return;
  }
}

}  // namespace modelmux::telemetry
