#pragma once
// multipart/form-data bodies (RFC 7578), as the official SDKs send file uploads. Pure.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace modelmux::gateway {

struct FormPart {
  std::string name;
  std::string filename;  // empty when the part is not a file
  std::string content_type;
  std::string_view data;  // into the body given to ParseMultipart
};

// The boundary of a "multipart/form-data; boundary=..." content type (quoted or not), or "" when
// the type is not multipart/form-data or names no boundary.
[[nodiscard]] std::string MultipartBoundary(std::string_view content_type);

// The parts of `body` (which must outlive them). Errors: kInvalidRequest "invalid_multipart"
// when the body does not start with the boundary, a part has no Content-Disposition name, or
// the closing boundary is missing.
[[nodiscard]] Result<std::vector<FormPart>> ParseMultipart(std::string_view body,
                                                           std::string_view boundary);

}  // namespace modelmux::gateway
