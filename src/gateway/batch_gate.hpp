#pragma once
// The Batch API's lines held to the limits of the key that created the batch (issue 7: a key's
// budget and rate windows must not be escaped by sending the same calls as a batch).
//
// Each line of a job is admitted by the Gatekeeper exactly as the key's own call would be: the
// model and task scopes (an image line needs `vision`), the key's rate window (a refusal waits for
// the window), the budget reservation at the resolved model's price (a refusal fails the line with
// `budget_exceeded`); after the call the reservation is settled at the actual cost (released when
// the call failed) and the call is written to the usage ledger under the key, so `/v1/usage`, the
// budgets' durable spend and `modelmux usage` count batch work too. Batches of the master key or
// made without a master key have no limits; their lines are still written to the ledger.

#include <functional>
#include <memory>
#include <string>

#include "batch/runner.hpp"
#include "gateway/admission.hpp"
#include "telemetry/ledger.hpp"

namespace modelmux::gateway {

struct BatchGateOptions {
  std::shared_ptr<Gatekeeper> gatekeeper;  // may be null (no limits)
  telemetry::Ledger* ledger = nullptr;     // may be null (telemetry.ledger: false)
  std::function<std::shared_ptr<const routing::Router>()> router;
};

// The gate for the lines of one batch of `owner` ("master", "anonymous" or a key id);
// `request_prefix` names the ledger rows ("<batch id>-" + the line's custom_id).
[[nodiscard]] std::shared_ptr<batch::LineGate> MakeBatchGate(const BatchGateOptions& options,
                                                             std::string owner,
                                                             std::string request_prefix);

}  // namespace modelmux::gateway
