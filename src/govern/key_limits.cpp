#include "govern/key_limits.hpp"

namespace modelmux::govern {

KeyLimits ToKeyLimits(const KeyRecord& key, std::chrono::milliseconds window) {
  KeyLimits l;
  l.rpm = key.rpm;
  l.tpm = key.tpm;
  l.window = window;
  using Period = KeyLimits::Budget::Period;
  auto add = [&](Period period, const std::optional<int64_t>& micros) {
    if (!micros) return;
    KeyLimits::Budget b;
    b.period = period;
    b.limit = telemetry::Money{*micros, key.budgets.currency};
    l.budgets.push_back(b);
  };
  add(Period::kDay, key.budgets.daily_micros);
  add(Period::kMonth, key.budgets.monthly_micros);
  add(Period::kTotal, key.budgets.total_micros);
  return l;
}

bool HasLimits(const KeyRecord& key) {
  return key.rpm > 0 || key.tpm > 0 || key.budgets.any();
}

}  // namespace modelmux::govern
