#pragma once
// Batches through modelmux::Client: many chat requests at once, at most `concurrency` in flight,
// paced under a client-side RPM/TPM limit, with one pause for the whole batch when a provider
// answers 429 (its retry-after). The same runner as `modelmux batch` (docs/BATCH.md), in memory:
// results come back in request order; nothing is written to disk.
//
//   std::vector<modelmux::BatchRequest> reqs;
//   for (int i = 0; i < 100; ++i)
//     reqs.push_back({std::to_string(i), {.model = "sim/echo",
//                                         .messages = {modelmux::Message::User("Hi")}}});
//   auto out = client->batch(reqs, {.concurrency = 16}, [](const modelmux::BatchProgress& p) {
//     std::fprintf(stderr, "\r%zu/%zu", p.done, p.total);
//   });
//   if (out) for (const auto& item : out->items) if (item.result) puts(item.result->text.c_str());

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modelmux/chat.hpp"
#include "modelmux/error.hpp"

namespace modelmux::sdk {

struct BatchRequest {
  std::string id;       // unique within the batch; echoed in the result
  ChatOptions options;  // `headers` and `timeout` are taken from BatchOptions instead
};

struct BatchOptions {
  size_t concurrency = 64;  // calls in flight at most (0 is taken as 1)
  uint64_t rpm = 0;         // requests per window at most; 0: no client-side limit
  uint64_t tpm = 0;         // tokens per window at most (prompt estimate + max_tokens reserved)
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds timeout{600'000};        // per request, retries included
  std::map<std::string, std::string> headers;        // sent with every request (x-sim-* ...)
  std::chrono::milliseconds progress_interval{100};  // how often on_progress runs
};

struct BatchProgress {
  size_t total = 0, done = 0, ok = 0, failed = 0, in_flight = 0;
  uint64_t rate_limited = 0;  // 429 answers that paused the batch
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int64_t cost_usd_micros = 0;  // where a price is known
  std::chrono::milliseconds elapsed{0};
};

struct BatchItem {
  std::string id;
  std::optional<ChatResult> result;  // exactly one of result and error is set
  std::optional<Error> error;
  std::chrono::milliseconds latency{0};
  std::string deployment;  // "provider/model" that answered (or was last tried)
};

struct BatchResult {
  std::vector<BatchItem> items;  // in request order
  BatchProgress totals;
  double latency_p50_ms = 0, latency_p95_ms = 0, latency_p99_ms = 0;
  uint64_t cache_hits = 0;
  std::string report_json;  // the same report as `modelmux batch --report`
};

// Runs on a Client thread between two answers: must return quickly and must not block.
using BatchProgressCallback = std::function<void(const BatchProgress&)>;

}  // namespace modelmux::sdk

#ifndef MODELMUX_BUILDING_SDK
namespace modelmux {
using sdk::BatchItem;
using sdk::BatchOptions;
using sdk::BatchProgress;
using sdk::BatchProgressCallback;
using sdk::BatchRequest;
using sdk::BatchResult;
}  // namespace modelmux
#endif
