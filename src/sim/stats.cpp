#include "sim/stats.hpp"

#include <boost/json.hpp>

namespace modelmux::sim {
namespace {

void Bump(std::map<std::string, int64_t, std::less<>>& m, std::string_view key) {
  auto it = m.find(key);
  if (it == m.end()) {
    m.emplace(std::string(key), 1);
  } else {
    ++it->second;
  }
}

}  // namespace

void Stats::CountPath(std::string_view path) {
  std::lock_guard lock(mu_);
  Bump(by_path_, path);
}

void Stats::CountParsed(std::string_view model) {
  std::lock_guard lock(mu_);
  ++total_;
  Bump(by_model_, model);
}

void Stats::CountStatus(int status) {
  std::lock_guard lock(mu_);
  ++by_status_[status];
}

void Stats::CountReset() {
  std::lock_guard lock(mu_);
  ++resets_;
}

std::string Stats::Json() const {
  namespace json = boost::json;
  json::object by_path, by_model, by_status;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : by_path_) by_path[k] = v;
    for (const auto& [k, v] : by_model_) by_model[k] = v;
    for (const auto& [k, v] : by_status_) by_status[std::to_string(k)] = v;
    return json::serialize(json::object{{"total", total_},
                                        {"by_path", std::move(by_path)},
                                        {"by_model", std::move(by_model)},
                                        {"by_status", std::move(by_status)},
                                        {"resets", resets_}});
  }
}

int64_t Stats::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

void Stats::Reset() {
  std::lock_guard lock(mu_);
  total_ = 0;
  resets_ = 0;
  by_path_.clear();
  by_model_.clear();
  by_status_.clear();
}

}  // namespace modelmux::sim
