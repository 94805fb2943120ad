// Client::batch: the batch runner (src/batch/runner.hpp) over requests held in memory.

#include <future>
#include <unordered_set>

#include "batch/runner.hpp"
#include "sdk/client_impl.hpp"
#include "sdk/convert.hpp"

namespace modelmux::sdk {
namespace asio = boost::asio;
namespace mb = ::modelmux::batch;

namespace {

struct BatchOutput {
  mb::Report report;
  std::vector<mb::Outcome> outcomes;
};
using BatchPromise = std::promise<::modelmux::Result<BatchOutput>>;

BatchProgress ToPublic(const mb::Progress& p) {
  BatchProgress out;
  out.total = p.total;
  out.done = p.done;
  out.ok = p.ok;
  out.failed = p.failed;
  out.in_flight = p.in_flight;
  out.rate_limited = p.rate_limited;
  out.prompt_tokens = p.prompt_tokens;
  out.completion_tokens = p.completion_tokens;
  out.cost_usd_micros = p.cost_micros_usd;
  out.elapsed = p.elapsed;
  return out;
}

asio::awaitable<void> BatchTask(std::shared_ptr<const routing::Router> router,
                                std::vector<mb::WorkItem> items, mb::RunOptions options,
                                BatchProgressCallback on_progress,
                                std::shared_ptr<BatchPromise> promise) {
  mb::Progress initial;
  initial.total = items.size();
  mb::VectorSource source(std::move(items));
  mb::CollectingSink sink;
  mb::ProgressFn progress;
  if (on_progress) {
    progress = [cb = std::move(on_progress)](const mb::Progress& p) {
      try {
        cb(ToPublic(p));
      } catch (...) {  // NOLINT(bugprone-empty-catch): callbacks must not throw
      }
    };
  }
  mb::Runner runner(std::move(router), std::move(options), source, sink, initial,
                    std::move(progress));
  auto report = co_await runner.Run();
  if (!report.ok()) {
    promise->set_value(report.error());
    co_return;
  }
  promise->set_value(BatchOutput{std::move(report).value(), std::move(sink.outcomes())});
}

}  // namespace

Expected<BatchResult> Client::batch(std::vector<BatchRequest> requests, BatchOptions options,
                                    BatchProgressCallback on_progress) {
  if (impl_->OnLoopThread()) return BlockingInCallbackError();
  std::vector<mb::WorkItem> items;
  items.reserve(requests.size());
  std::unordered_set<std::string> ids;
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string param = "requests[" + std::to_string(i) + "]";
    if (requests[i].id.empty()) {
      return FromCoreError(
          ::modelmux::InvalidRequest("a batch request needs an id", param + ".id", "missing_id"));
    }
    if (!ids.insert(requests[i].id).second) {
      return FromCoreError(::modelmux::InvalidRequest("duplicate id \"" + requests[i].id + "\"",
                                                      param + ".id", "duplicate_id"));
    }
    auto req = ToCoreRequest(requests[i].options, false);
    if (!req.ok()) {
      ::modelmux::Error e = req.error();
      e.param = param + "." + e.param;
      return FromCoreError(e);
    }
    mb::WorkItem item;
    item.line = i + 1;
    item.key = requests[i].id;
    item.id_json = requests[i].id;
    item.chat = std::move(req).value();
    item.chat.include_usage = true;
    items.push_back(std::move(item));
  }
  mb::RunOptions run;
  run.concurrency = options.concurrency;
  run.rpm = options.rpm;
  run.tpm = options.tpm;
  run.window = options.window;
  run.request_timeout = options.timeout;
  run.progress_interval = options.progress_interval;
  run.forward = ToForwardHeaders(options.headers);

  auto promise = std::make_shared<BatchPromise>();
  auto future = promise->get_future();
  if (!impl_->Launch(BatchTask(impl_->router, std::move(items), std::move(run),
                               std::move(on_progress), promise))) {
    return CancelledError("the client is shutting down");
  }
  promise.reset();
  ::modelmux::Result<BatchOutput> out;
  try {
    out = future.get();
  } catch (const std::future_error&) {
    return CancelledError("the client was destroyed during the batch");
  }
  if (!out.ok()) return FromCoreError(out.error());

  BatchResult result;
  result.items.resize(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) result.items[i].id = requests[i].id;
  for (auto& o : out->outcomes) {
    if (o.line == 0 || o.line > result.items.size()) continue;
    BatchItem& item = result.items[o.line - 1];
    item.latency = o.latency;
    item.deployment = o.deployment;
    if (o.error) {
      item.error = FromCoreError(*o.error);
    } else {
      item.result = FromCoreResponse(o.chat);
    }
  }
  for (auto& item : result.items) {
    if (!item.result && !item.error) item.error = CancelledError("the batch was cancelled");
  }
  const mb::Report& r = out->report;
  result.totals = ToPublic(r.progress);
  result.latency_p50_ms = r.latency_p50_ms;
  result.latency_p95_ms = r.latency_p95_ms;
  result.latency_p99_ms = r.latency_p99_ms;
  result.cache_hits = r.cache_hits;
  result.report_json = r.ToJson();
  return result;
}

}  // namespace modelmux::sdk
