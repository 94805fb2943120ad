#pragma once
// The Zhipu GLM signer. A key of the form `{id}.{secret}` is sent as `Authorization: Bearer <JWT>`
// (HS256, millisecond claims, see zhipu_jwt.hpp), minted from the injected clock and reused until
// shortly before it expires; the secret itself never leaves the process. Any other key (Zhipu
// also accepts plain API keys) is sent as `Authorization: Bearer <key>`; an empty key sends no
// header. Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/signer.hpp"

namespace modelmux::auth {

// Unix time in milliseconds.
using UnixMsClock = std::function<int64_t()>;

// The system clock in Unix milliseconds.
[[nodiscard]] int64_t SystemUnixMs();

// True when `key` has the `{id}.{secret}` form (a '.' with text on both sides).
[[nodiscard]] bool IsZhipuIdSecretKey(std::string_view key);

[[nodiscard]] std::unique_ptr<Signer> MakeZhipuSigner(std::string key,
                                                      UnixMsClock now_ms = SystemUnixMs);

}  // namespace modelmux::auth
