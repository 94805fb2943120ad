#pragma once
// modelmux::Client: modelmux's routing, providers and simulator embedded in a C++ program, with no
// gateway in between. Needs only the C++20 standard library; link modelmux::modelmux (CMake) or
// `pkg-config --libs modelmux`.
//
//   auto client = modelmux::Client::Create();          // config + environment, as `modelmux serve`
//   if (!client) { std::cerr << client.error().ToString() << "\n"; return 1; }
//   modelmux::ChatOptions req{.model = "sim/echo", .messages = {modelmux::Message::User("Hi")}};
//   auto reply = (*client)->chat(req);
//   if (reply) std::cout << reply->text << "\n";
//
// Threading: a Client is thread-safe; any number of threads may call it at once. It runs its own
// event-loop threads (ClientOptions::threads). Callbacks given to the *_async calls run on one of
// those threads: they must return quickly, must not block, must not throw, and must not call the
// blocking forms (chat(), stream()), which detect this and fail with code "blocking_in_callback"
// instead of deadlocking. Callbacks may start further *_async calls.
//
// Lifetime: the Client owns its threads, the configuration snapshot and, when the configuration
// uses the built-in simulator, an in-process simulator listening on 127.0.0.1 (a free port).
// Destroying the Client cancels the calls still in flight: their callbacks run with an Error of
// kind "cancelled" before the destructor returns. Do not destroy a Client from one of its own
// callbacks, and do not call it while it is being destroyed.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "modelmux/batch.hpp"
#include "modelmux/chat.hpp"
#include "modelmux/embeddings.hpp"
#include "modelmux/error.hpp"
#include "modelmux/export.hpp"

namespace modelmux::sdk {

struct ClientOptions {
  // A YAML configuration file (docs/CONFIG.md). Empty: $MODELMUX_CONFIG when set, else the
  // built-in defaults.
  std::string config_file;
  // YAML configuration text, used instead of any file when non-empty.
  std::string config_yaml;
  // Bring in providers whose usual variables are set (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) and
  // the built-in simulator `sim`, exactly as the gateway does. Off: only the configured providers.
  bool discover_environment = true;
  // Event-loop threads the Client runs. 0: one per CPU in the process's affinity mask.
  unsigned threads = 1;
};

class MODELMUX_API Client {
 public:
  using Options = ClientOptions;
  using ChunkCallback = std::function<bool(const StreamChunk&)>;  // false: stop the stream
  using ChatCallback = std::function<void(Expected<ChatResult>)>;
  using EmbedCallback = std::function<void(Expected<EmbedResult>)>;

  // Loads the configuration, completes it from the environment, starts the event loops (and the
  // in-process simulator when the configuration has a `type: sim` provider without base_url) and
  // builds the providers. The caller owns the returned Client.
  // Errors: "invalid_request" with code "config_invalid" (param names the key at fault) for a
  // configuration that cannot be read or is invalid; "internal" when the simulator cannot listen.
  static Expected<std::unique_ptr<Client>> Create(Options options = {});

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one chat call and waits for the whole answer. Blocks the calling thread.
  // Errors: "not_found" (code "model_not_found") for a model no configured provider serves;
  // "invalid_request" for a malformed request (e.g. an unknown role); the provider's error mapped
  // to the taxonomy ("rate_limited" 429, "authentication" 401, ...; provider and upstream_status
  // set); "timeout" when options.timeout passes; "invalid_request" with code
  // "blocking_in_callback" when called from a callback of this Client.
  Expected<ChatResult> chat(const ChatOptions& options);

  // Streams one chat call. `on_chunk` runs on the calling thread for each chunk, in order, before
  // stream() returns; it may block (e.g. print) and returns false to stop: the upstream call is
  // then closed and stream() returns what arrived so far, with an empty finish_reason.
  // Returns the assembled answer: the chunks' text concatenated, finish_reason, tool calls and the
  // usage the provider reported. Errors: as chat(), plus "upstream_error" when the
  // provider's stream breaks off or reports an error midway (chunks already delivered stay
  // delivered).
  Expected<ChatResult> stream(const ChatOptions& options, const ChunkCallback& on_chunk);

  // Starts a chat call and returns at once. `done` runs exactly once, on a Client thread, with the
  // answer or the error (as chat()). `options` is copied.
  void chat_async(ChatOptions options, ChatCallback done);

  // Starts a streamed call and returns at once. `on_chunk` runs on a Client thread for each chunk
  // (returning false stops the stream), then `done` runs exactly once with the result (as
  // stream()). Both run on the same thread, never concurrently.
  void stream_async(ChatOptions options, ChunkCallback on_chunk, ChatCallback done);

  // Embeds texts with one call and waits for the vectors. Blocks the calling thread.
  // Errors: "invalid_request" for no model, no inputs or an empty text (param "model" / "input"),
  // and with code "embeddings_not_supported" for a model whose provider has no embeddings API
  // (e.g. Anthropic); otherwise as chat() ("not_found" model_not_found, the provider's errors,
  // "timeout", "blocking_in_callback").
  Expected<EmbedResult> embed(const EmbedOptions& options);

  // Starts an embeddings call and returns at once; `done` runs exactly once on a Client thread
  // with the result or the error (as embed()). `options` is copied.
  void embed_async(EmbedOptions options, EmbedCallback done);

  // Runs many chat calls (modelmux/batch.hpp) and waits for all of them. Blocks the calling
  // thread; `on_progress` runs on a Client thread about every options.progress_interval and once
  // at the end. Each request's own failure is in its BatchItem (the batch goes on).
  // Errors (before anything is sent): "invalid_request" with code "duplicate_id" or "missing_id"
  // (param "requests[i].id"), or a request that cannot be converted (as chat(), param prefixed
  // "requests[i]."); "blocking_in_callback" when called from a callback of this Client.
  Expected<BatchResult> batch(std::vector<BatchRequest> requests, BatchOptions options = {},
                              BatchProgressCallback on_progress = {});

  // The models callers can name: aliases, then "provider/model" for each configured provider's
  // declared models (the simulator: sim/echo, sim/chat, sim/vision).
  [[nodiscard]] std::vector<std::string> models() const;

  // True when the only providers are the built-in simulator (no config, no key in the
  // environment): answers are simulated.
  [[nodiscard]] bool using_simulator() const;

  // Where the in-process simulator listens ("http://127.0.0.1:PORT/v1"); empty when none runs.
  [[nodiscard]] std::string simulator_url() const;

  struct Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelmux::sdk

#ifndef MODELMUX_BUILDING_SDK
namespace modelmux {
using sdk::Client;
using sdk::ClientOptions;
}  // namespace modelmux
#endif
