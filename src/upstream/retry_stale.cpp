#include "upstream/retry_stale.hpp"

namespace modelmux::upstream {

bool IsStaleCredentials(const Error& e) {
  return e.kind == ErrorKind::kAuthentication && e.code == "token_expired";
}

}  // namespace modelmux::upstream
