#include "gateway/batch_gate.hpp"

#include <chrono>
#include <mutex>

#include "govern/scope.hpp"
#include "media/prepare.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::gateway {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A key's record is looked up again at most this often, so that a PATCH or a revocation reaches
// a running job within about a second, as it reaches the key's direct calls.
constexpr auto kKeyRefresh = std::chrono::seconds(1);

RequestFacts FactsOf(const batch::WorkItem& item) {
  RequestFacts f;
  f.model = item.model();
  if (item.endpoint == batch::Endpoint::kEmbeddings) {
    f.task = govern::Task::kEmbeddings;
    return f;
  }
  f.task = media::HasMedia(item.chat) ? govern::Task::kVision : govern::Task::kText;
  f.max_tokens = item.chat.max_tokens;
  f.prompt_chars = item.chat.PromptChars();
  return f;
}

class BatchGate final : public batch::LineGate {
 public:
  BatchGate(BatchGateOptions options, std::string owner, std::string prefix)
      : options_(std::move(options)), owner_(std::move(owner)), prefix_(std::move(prefix)) {}

  asio::awaitable<Result<batch::LineAdmission>> Admit(batch::WorkItem& item) override {
    batch::LineAdmission out;
    if (!options_.gatekeeper || owner_ == "master" || owner_ == "anonymous") co_return out;
    MM_CO_TRY(Caller caller, co_await CallerOf());
    const govern::KeyRecord& key = *caller.key;
    // The key's max_tokens cap and default, and its domain context, as on its direct calls.
    if (item.endpoint == batch::Endpoint::kChat) {
      const govern::MaxTokensDecision d = govern::KeyMaxTokens(key, item.chat.max_tokens);
      if (d.value) item.chat.max_tokens = d.value;
      if (!key.context.empty()) out.context = std::make_shared<const std::string>(key.context);
    }
    // Its tags, so that a line takes the key's routes of a conditional pipeline.
    if (!key.tags.empty())
      out.key_tags = std::make_shared<const std::vector<std::string>>(key.tags);
    MM_CO_TRY(out.admission,
              co_await options_.gatekeeper->Admit(caller, FactsOf(item), options_.router()));
    if (out.admission) out.admission->key_name = key.name;
    co_return out;
  }

  asio::awaitable<void> Finish(std::optional<govern::Admission> admission,
                               const batch::Outcome& o) override {
    std::optional<telemetry::Money> cost;
    const auto router = options_.router();
    if (o.usage && !o.cache_hit && router) {
      const auto prices = telemetry::PriceTable::Active();
      if (const auto* price = batch::PriceForDeployment(*router, *prices, o.deployment)) {
        cost = telemetry::Cost(*price, *o.usage);
      }
    } else if (o.cache_hit) {
      cost = telemetry::Money{};  // a hit costs nothing
    }
    const bool served = !o.error;
    if (admission && options_.gatekeeper) {
      const int64_t tokens = o.usage ? o.usage->total() : 0;
      co_await options_.gatekeeper->Finish(std::move(admission), served, tokens, cost);
    }
    if (options_.ledger) options_.ledger->Append(RowOf(o, cost));
  }

 private:
  // The key that owns the batch, as it is now (cached for kKeyRefresh). A key that is gone,
  // revoked or expired fails the remaining lines: 401 as its direct calls would be.
  asio::awaitable<Result<Caller>> CallerOf() {
    {
      std::lock_guard lock(mu_);
      if (key_ && Clock::now() - fetched_ < kKeyRefresh) co_return *key_;
    }
    auto found = co_await options_.gatekeeper->keys().FindById(owner_);
    if (!found.ok()) co_return found.error();
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    if (!*found || (*found)->revoked || (*found)->Expired(now)) {
      Error e;
      e.kind = ErrorKind::kAuthentication;
      e.code = "invalid_api_key";
      e.message = "the key that created this batch was revoked, has expired or no longer exists";
      co_return e;
    }
    Caller caller;
    caller.kind = Caller::Kind::kKey;
    caller.key = **found;
    std::lock_guard lock(mu_);
    key_ = caller;
    fetched_ = Clock::now();
    co_return caller;
  }

  telemetry::LedgerRow RowOf(const batch::Outcome& o, const std::optional<telemetry::Money>& cost) {
    telemetry::LedgerRow row;
    row.request_id = prefix_ + o.key;
    row.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() -
                  o.latency.count();
    if (owner_ != "master" && owner_ != "anonymous") row.key_id = owner_;
    row.model = o.model;
    row.deployment = o.deployment;
    row.provider = o.deployment.substr(0, o.deployment.find('/'));
    if (o.usage) {
      row.prompt_tokens = o.usage->prompt_tokens;
      row.completion_tokens = o.usage->completion_tokens;
      row.cached_tokens = o.usage->cache_read_tokens;
      row.cache_write_tokens = o.usage->cache_write_tokens;
      row.reasoning_tokens = o.usage->reasoning_tokens;
    }
    if (cost) {
      row.cost_micros = cost->micros;
      row.currency = telemetry::CurrencyCode(cost->currency);
    }
    row.latency_ms = o.latency.count();
    row.status = o.error ? o.error->HttpStatus() : 200;
    if (o.error) row.error_code = o.error->code;
    row.cache_result = o.cache_hit ? "hit" : "";
    row.attempts = o.attempts;
    return row;
  }

  BatchGateOptions options_;
  std::string owner_, prefix_;
  std::mutex mu_;
  std::optional<Caller> key_;
  Clock::time_point fetched_{};
};

}  // namespace

std::shared_ptr<batch::LineGate> MakeBatchGate(const BatchGateOptions& options, std::string owner,
                                               std::string request_prefix) {
  return std::make_shared<BatchGate>(options, std::move(owner), std::move(request_prefix));
}

}  // namespace modelmux::gateway
