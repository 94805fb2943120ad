#pragma once
// A virtual key's limits in the Limiter's terms (govern/limiter.hpp). Pure.

#include <chrono>

#include "govern/key.hpp"
#include "govern/limiter.hpp"

namespace modelmux::govern {

// rpm/tpm per `window` (60 s by default; tests set a shorter one in config), and one Budget per
// period the key caps, in the key's currency. A key with none of these gives an empty KeyLimits.
[[nodiscard]] KeyLimits ToKeyLimits(const KeyRecord& key,
                                    std::chrono::milliseconds window = std::chrono::minutes(1));
// True when the key has any rate limit or budget (else the Limiter need not be asked).
[[nodiscard]] bool HasLimits(const KeyRecord& key);

}  // namespace modelmux::govern
