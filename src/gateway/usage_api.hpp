#pragma once
// GET /v1/usage: the calling key's own usage from the usage ledger, in the JSON shape of
// `modelmux usage --format json` (telemetry/ledger_report.hpp).
//
// Query parameters: by=model|day|provider (default model; "key" is refused: a caller sees only
// its own key), since, until (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z, or 24h / 7d). The report is
// read on the ledger's writer thread, never on an event loop.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "telemetry/ledger.hpp"
#include "telemetry/ledger_report.hpp"

namespace modelmux::gateway {

struct UsageQuery {
  telemetry::UsageGroupBy by = telemetry::UsageGroupBy::kModel;
  telemetry::UsageFilter filter;
};

// Parses the query string; `key_id` becomes the filter (every row of that key, nothing else).
[[nodiscard]] Result<UsageQuery> UsageQueryFrom(std::string_view query, int64_t now_ms,
                                                std::string key_id);

// The report body, computed on the ledger's thread after the rows queued so far are committed.
[[nodiscard]] boost::asio::awaitable<Result<std::string>> UsageBody(telemetry::Ledger& ledger,
                                                                    UsageQuery query);

}  // namespace modelmux::gateway
