#pragma once
// What reached the simulator: counts by path, model and status. Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace modelmux::sim {

class Stats {
 public:
  void CountPath(std::string_view path);     // every request (except /sim/*)
  void CountParsed(std::string_view model);  // requests whose body was parsed: total, by_model
  void CountStatus(int status);              // every response status sent
  void CountReset();                         // connections closed before any header (x-sim-reset)

  // {"total":N,"by_path":{...},"by_model":{...},"by_status":{"200":N,...},"resets":N}
  [[nodiscard]] std::string Json() const;
  [[nodiscard]] int64_t total() const;
  void Reset();

 private:
  mutable std::mutex mu_;
  int64_t total_ = 0;
  int64_t resets_ = 0;
  std::map<std::string, int64_t, std::less<>> by_path_;
  std::map<std::string, int64_t, std::less<>> by_model_;
  std::map<int, int64_t> by_status_;
};

}  // namespace modelmux::sim
