#pragma once
// The virtual-key admin API (master key only; the gateway checks that before calling):
//   POST   /admin/keys        JSON attributes in (govern/scope.hpp ApplyAttributes);
//                             201 {"key":"mm-...", "id":..., ...attributes} (the only time the
//                             secret is shown)
//   GET    /admin/keys        {"object":"list","data":[{...attributes, "prefix":"mm-AbCd…"}]}
//   GET    /admin/keys/{id}   the attributes, and "budget_state" when the key has budgets
//   PATCH  /admin/keys/{id}   changes the attributes named in the body
//   DELETE /admin/keys/{id}   revokes (the record stays, "revoked": true; not reversible)
// Every call that changes something is written to the audit log first (who, what, target; never a
// secret), and a failure to do so refuses the call (503 audit_log_unavailable).

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace modelmux::gateway {

class Gatekeeper;

struct AdminCall {
  std::string method, path, body;
  std::string who;  // "master"
  std::string request_id, peer;
};

struct AdminAnswer {
  int status = 200;
  std::string body;  // JSON
};

boost::asio::awaitable<Result<AdminAnswer>> ServeKeysAdmin(std::shared_ptr<Gatekeeper> gatekeeper,
                                                           AdminCall call);

}  // namespace modelmux::gateway
