#pragma once
// What `serve`, `chat` and the other commands share: the configuration snapshot with discovery
// applied, the event loops, the in-process simulator when no provider key is set, and the router.

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>

#include "net/event_loops.hpp"
#include "net/server.hpp"
#include "routing/router.hpp"
#include "sim/simulator.hpp"

namespace modelmux::cli {

struct ConfigOverrides {
  std::string config_file;  // --config or MODELMUX_CONFIG
  std::string host;         // --host or MODELMUX_HOST
  int port = -1;            // --port or MODELMUX_PORT
  std::string data_dir;     // --data-dir or MODELMUX_DATA_DIR
  std::string log_format;   // --log-format or MODELMUX_LOG_FORMAT
  std::string redis;        // --redis or MODELMUX_REDIS_URL (overrides redis.url)
};

// Loads the file (or the embedded defaults), applies overrides and provider discovery.
[[nodiscard]] Result<std::shared_ptr<routing::Config>> LoadConfig(const ConfigOverrides& o,
                                                                  bool for_server);

class Runtime {
 public:
  // Starts the in-process simulator (if the config needs it) on `loops` and builds the router.
  // `with_cache`: build the response cache the config asks for (the gateway; one-shot commands
  // go without).
  [[nodiscard]] static Result<std::unique_ptr<Runtime>> Start(
      std::shared_ptr<routing::Config> config, net::EventLoops& loops, bool with_cache = false);
  [[nodiscard]] const std::shared_ptr<routing::ResponseCache>& cache() const { return cache_; }

  [[nodiscard]] std::shared_ptr<const routing::Router> router() const { return router_; }
  // Rebuilds the router from a new config, keeping the running simulator. Errors leave the old.
  [[nodiscard]] Result<std::shared_ptr<const routing::Router>> Rebuild(
      std::shared_ptr<routing::Config> config) const;
  [[nodiscard]] bool simulator_running() const { return sim_server_ != nullptr; }

 private:
  void PointSimAtInProcess(routing::Config& config) const;

  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<net::Server> sim_server_;
  std::shared_ptr<routing::ResponseCache> cache_;  // outlives every router built from it
  boost::asio::any_io_executor executor_;          // loop 0: router.shared_limits' own Redis client
  std::shared_ptr<const routing::Router> router_;
};

}  // namespace modelmux::cli
