#include "modelmux/client.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <future>
#include <optional>
#include <random>

#include "routing/config_env.hpp"
#include "routing/resolver.hpp"
#include "routing/shared_limits.hpp"
#include "sdk/client_impl.hpp"
#include "sdk/convert.hpp"

namespace modelmux::sdk {
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// How long the destructor waits for cancelled calls to finish before stopping the loops anyway.
constexpr milliseconds kDrainTimeout{5'000};
// Request bodies the embedded simulator accepts (images as data: URLs).
constexpr size_t kSimBodyLimit = size_t{32} << 20;

::modelmux::Result<routing::Config> LoadConfig(const ClientOptions& options,
                                               const routing::EnvLookup& env) {
  std::shared_ptr<const routing::Config> base;
  if (!options.config_yaml.empty()) {
    MM_TRY(base, routing::ParseConfig(options.config_yaml, env, "<inline>"));
  } else {
    std::string path = options.config_file;
    if (path.empty()) {
      if (auto from_env = env("MODELMUX_CONFIG"); from_env && !from_env->empty()) path = *from_env;
    }
    if (!path.empty()) {
      MM_TRY(base, routing::LoadConfigFile(path, env));
    } else {
      base = std::make_shared<const routing::Config>(routing::Config::Default());
    }
  }
  routing::Config config = *base;
  if (options.discover_environment) {
    MM_RETURN_IF_ERROR(routing::ApplyEnvironmentDiscovery(config, env, "", 0));
  } else {
    MM_RETURN_IF_ERROR(routing::ValidateConfig(config));
    bool all_sim = !config.providers.empty();
    for (const auto& p : config.providers)
      all_sim = all_sim && p.type == routing::ProviderType::kSim;
    config.using_simulator = all_sim;
  }
  return config;
}

bool NeedsEmbeddedSimulator(const routing::Config& config) {
  for (const auto& p : config.providers) {
    if (p.type == routing::ProviderType::kSim && p.base_url.empty()) return true;
  }
  return false;
}

std::string RandomHex32() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(rd()));
  return buf;
}

RequestContext MakeContext(std::string request_id, milliseconds timeout) {
  RequestContext ctx;
  ctx.request_id = std::move(request_id);
  ctx.start = RequestContext::Clock::now();
  // Zero or negative: no deadline of our own (the providers' timeouts still apply).
  constexpr auto kLongest = std::chrono::hours(24 * 365);
  if (timeout.count() > 0 && timeout < kLongest) ctx.deadline = ctx.start + timeout;
  return ctx;
}

}  // namespace

// Reports an error found before the call started, on a loop thread like any answer.
static void Fail(Client::Impl& impl, Error error, Client::ChatCallback done) {
  Client::ChatCallback refused = done;
  if (!impl.Launch(FailTask(std::move(error), std::move(done)))) {
    if (refused) refused(CancelledError("the client is shutting down"));
  }
}

// ---- Impl -------------------------------------------------------------------------------------

bool Client::Impl::Launch(asio::awaitable<void> task) {
  auto call = std::make_shared<Call>();
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (closing_) return false;
    id = ++next_call_;
    call->loop = next_loop_.fetch_add(1, std::memory_order_relaxed) % loops->size();
    calls_.emplace(id, call);
  }
  asio::co_spawn(loops->loop(call->loop), std::move(task),
                 asio::bind_cancellation_slot(call->signal.slot(),
                                              [this, id, call](const std::exception_ptr&) {
                                                call->done = true;
                                                Finished(id);
                                              }));
  return true;
}

void Client::Impl::Finished(uint64_t id) {
  std::lock_guard lock(mu_);
  calls_.erase(id);
  if (calls_.empty()) cv_.notify_all();
}

void Client::Impl::CancelAll() {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    for (const auto& [id, call] : calls_) calls.push_back(call);
  }
  for (auto& call : calls) {
    // A cancellation signal is not thread-safe: emit on the call's own loop thread.
    asio::post(loops->loop(call->loop), [call] {
      if (!call->done) call->signal.emit(asio::cancellation_type::terminal);
    });
  }
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, kDrainTimeout, [this] { return calls_.empty(); });
}

void Client::Impl::Barrier() {
  std::vector<std::future<void>> waits;
  for (size_t i = 0; i < loops->size(); ++i) {
    auto done = std::make_shared<std::promise<void>>();
    waits.push_back(done->get_future());
    asio::post(loops->loop(i), [done] { done->set_value(); });
  }
  for (auto& w : waits) w.wait_for(kDrainTimeout);
}

Client::Impl::~Impl() {
  if (!loops) return;
  CancelAll();
  if (sim_server) {
    sim_server->StopAccepting();
    Barrier();  // the acceptors are closed on their loops
  }
  loops->Stop();
  loops->Join();
  // Destroy what still refers to the loops' I/O objects while the loops exist, then the loops
  // (which destroy any abandoned coroutine frames), then what those frames may point at.
  sim_server.reset();
  // The router may hold a Redis client (router.shared_limits) that closes its sockets on loop 0:
  // drop this reference while the loops exist (an abandoned call's frame holds its own).
  router.reset();
  loops.reset();
  simulator.reset();
}

bool Client::Impl::OnLoopThread() const {
  auto self = std::this_thread::get_id();
  for (const auto& id : loop_threads) {
    if (id == self) return true;
  }
  return false;
}

std::string Client::Impl::NextRequestId() {
  return id_prefix + std::to_string(next_request_.fetch_add(1, std::memory_order_relaxed) + 1);
}

// ---- Client -----------------------------------------------------------------------------------

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Expected<std::unique_ptr<Client>> Client::Create(Options options) {
  auto loaded = LoadConfig(options, routing::ProcessEnvironment());
  if (!loaded.ok()) return FromCoreError(loaded.error());
  routing::Config config = std::move(loaded).value();

  auto impl = std::make_unique<Impl>();
  impl->id_prefix = "sdk-" + RandomHex32() + "-";
  impl->loops = std::make_unique<net::EventLoops>(options.threads);
  impl->loops->Start();

  if (NeedsEmbeddedSimulator(config)) {
    impl->simulator = std::make_unique<sim::Simulator>(sim::SimOptions{});
    net::ServerOptions server_options;
    server_options.host = "127.0.0.1";
    server_options.port = 0;
    server_options.body_limit = [](std::string_view) { return kSimBodyLimit; };
    server_options.server_name = "modelmux-sim";
    sim::Simulator* simulator = impl->simulator.get();
    impl->sim_server = std::make_unique<net::Server>(
        *impl->loops, std::move(server_options),
        [simulator](net::ServerRequest& request, net::ResponseWriter& writer) {
          return simulator->Handle(request, writer);
        });
    Status listening = impl->sim_server->Listen();
    if (!listening.ok()) {
      ::modelmux::Error e = listening.error();
      e.kind = ErrorKind::kInternal;
      e.message = "the built-in simulator cannot listen on 127.0.0.1: " + e.message;
      return FromCoreError(e);
    }
    impl->simulator_url = "http://127.0.0.1:" + std::to_string(impl->sim_server->port()) + "/v1";
    for (auto& p : config.providers) {
      if (p.type == routing::ProviderType::kSim && p.base_url.empty()) {
        p.base_url = impl->simulator_url;
      }
    }
  }

  impl->config = std::make_shared<const routing::Config>(std::move(config));
  // router.shared_limits: rate windows in the Redis of redis.url (the SDK has no cache).
  auto limits_redis =
      routing::SharedLimitsRedis(*impl->config, nullptr, impl->loops->loop(0).get_executor());
  if (!limits_redis.ok()) return FromCoreError(limits_redis.error());
  auto router = routing::Router::Create(impl->config, nullptr, std::move(limits_redis).value());
  if (!router.ok()) return FromCoreError(router.error());
  impl->router = std::move(router).value();

  // Learn the loop threads' ids, so that blocking calls made from callbacks can be refused.
  std::vector<std::future<std::thread::id>> ids;
  for (size_t i = 0; i < impl->loops->size(); ++i) {
    auto p = std::make_shared<std::promise<std::thread::id>>();
    ids.push_back(p->get_future());
    asio::post(impl->loops->loop(i), [p] { p->set_value(std::this_thread::get_id()); });
  }
  for (auto& f : ids) impl->loop_threads.push_back(f.get());

  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

void Client::chat_async(ChatOptions options, ChatCallback done) {
  auto request = ToCoreRequest(options, /*stream=*/false);
  if (!request.ok()) {
    Fail(*impl_, FromCoreError(request.error()), std::move(done));
    return;
  }
  auto ctx = MakeContext(impl_->NextRequestId(), options.timeout);
  auto forward = ToForwardHeaders(options.headers);
  // The task holds `done`; if the Client is closing the task is dropped unstarted, so keep a copy.
  ChatCallback refused = done;
  if (!impl_->Launch(ChatTask(impl_->router, std::move(request).value(), std::move(ctx),
                              std::move(forward), std::move(done)))) {
    if (refused) refused(CancelledError("the client is shutting down"));
  }
}

void Client::stream_async(ChatOptions options, ChunkCallback on_chunk, ChatCallback done) {
  auto request = ToCoreRequest(options, /*stream=*/true);
  if (!request.ok()) {
    Fail(*impl_, FromCoreError(request.error()), std::move(done));
    return;
  }
  auto ctx = MakeContext(impl_->NextRequestId(), options.timeout);
  auto forward = ToForwardHeaders(options.headers);
  ChatCallback refused = done;
  if (!impl_->Launch(StreamTask(impl_->router, std::move(request).value(), std::move(ctx),
                                std::move(forward), std::move(on_chunk), std::move(done)))) {
    if (refused) refused(CancelledError("the client is shutting down"));
  }
}

Expected<ChatResult> Client::chat(const ChatOptions& options) {
  if (impl_->OnLoopThread()) return BlockingInCallbackError();
  // The promise lives in the callback: if the call's frame were ever dropped without running it,
  // the future reports a broken promise instead of waiting forever.
  auto promise = std::make_shared<std::promise<Expected<ChatResult>>>();
  auto future = promise->get_future();
  chat_async(options, [promise](Expected<ChatResult> r) { promise->set_value(std::move(r)); });
  promise.reset();
  try {
    return future.get();
  } catch (const std::future_error&) {
    return CancelledError("the client was destroyed during the call");
  }
}

namespace {

// Chunks travel from the loop thread to the thread blocked in Client::stream().
struct StreamChannel {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<StreamChunk> chunks;
  std::optional<Expected<ChatResult>> result;
  bool abandoned = false;
  std::atomic<bool> stop{false};
};

// Owned by the two callbacks; when both are gone without a result, wakes the waiting thread.
struct StreamFeeder {
  std::shared_ptr<StreamChannel> channel;
  StreamFeeder() = default;
  StreamFeeder(const StreamFeeder&) = delete;
  StreamFeeder& operator=(const StreamFeeder&) = delete;
  ~StreamFeeder() {
    if (!channel) return;
    std::lock_guard lock(channel->mu);
    if (!channel->result) {
      channel->abandoned = true;
      channel->cv.notify_all();
    }
  }
};

}  // namespace

Expected<ChatResult> Client::stream(const ChatOptions& options, const ChunkCallback& on_chunk) {
  if (impl_->OnLoopThread()) return BlockingInCallbackError();
  auto channel = std::make_shared<StreamChannel>();
  {
    auto feeder = std::make_shared<StreamFeeder>();
    feeder->channel = channel;
    stream_async(
        options,
        [feeder](const StreamChunk& chunk) {
          auto& ch = *feeder->channel;
          if (ch.stop.load()) return false;
          std::lock_guard lock(ch.mu);
          ch.chunks.push_back(chunk);
          ch.cv.notify_all();
          return true;
        },
        [feeder](Expected<ChatResult> r) {
          auto& ch = *feeder->channel;
          std::lock_guard lock(ch.mu);
          ch.result.emplace(std::move(r));
          ch.cv.notify_all();
        });
  }
  std::unique_lock lock(channel->mu);
  for (;;) {
    channel->cv.wait(
        lock, [&] { return !channel->chunks.empty() || channel->result || channel->abandoned; });
    if (!channel->chunks.empty()) {
      StreamChunk chunk = std::move(channel->chunks.front());
      channel->chunks.pop_front();
      if (channel->stop.load()) continue;  // stopped: drop what was already on the way
      lock.unlock();
      bool go = false;
      try {
        go = !on_chunk || on_chunk(chunk);
      } catch (...) {
        channel->stop.store(true);
        throw;  // the caller's own exception, on the caller's own thread
      }
      if (!go) channel->stop.store(true);
      lock.lock();
      continue;
    }
    if (channel->result) {
      Expected<ChatResult> result = std::move(*channel->result);
      if (channel->stop.load() && result.ok()) result->finish_reason.clear();
      return result;
    }
    return CancelledError("the client was destroyed during the call");
  }
}

std::vector<std::string> Client::models() const {
  return routing::ListModels(*impl_->config);
}

bool Client::using_simulator() const {
  return impl_->config->using_simulator;
}

std::string Client::simulator_url() const {
  return impl_->simulator_url;
}

}  // namespace modelmux::sdk
