#include "gateway/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace modelmux::gateway {

namespace {

Error Bad(std::string what) {
  return InvalidRequest("malformed multipart/form-data body: " + std::move(what), {},
                        "invalid_multipart");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of `param` (name=value or name="value") in a header value such as
// `form-data; name="file"; filename="a.jsonl"`; "" when absent.
std::string Param(std::string_view header, std::string_view param) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t semi = header.find(';', pos);
    if (semi == std::string_view::npos) semi = header.size();
    std::string_view piece = Trim(header.substr(pos, semi - pos));
    pos = semi + 1;
    const size_t eq = piece.find('=');
    if (eq == std::string_view::npos) continue;
    if (Lower(Trim(piece.substr(0, eq))) != param) continue;
    std::string_view value = Trim(piece.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"') {
      // A quoted value may hold ';': take everything up to the closing quote.
      const size_t start = static_cast<size_t>(value.data() - header.data()) + 1;
      std::string out;
      for (size_t i = start; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        out += header[i];
      }
      return out;
    }
    return std::string(value);
  }
  return {};
}

}  // namespace

std::string MultipartBoundary(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  if (Lower(Trim(content_type.substr(0, semi))) != "multipart/form-data") return {};
  if (semi == std::string_view::npos) return {};
  return Param(content_type.substr(semi + 1), "boundary");
}

Result<std::vector<FormPart>> ParseMultipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty()) return Bad("no boundary");
  const std::string delim = "--" + std::string(boundary);
  size_t pos = body.find(delim);
  if (pos == std::string_view::npos) return Bad("the boundary does not occur");
  std::vector<FormPart> parts;
  while (true) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return parts;  // the closing boundary
    if (body.substr(pos, 2) != "\r\n") return Bad("a boundary line does not end with CRLF");
    pos += 2;
    const size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) return Bad("a part's headers do not end");
    FormPart part;
    std::string_view headers = body.substr(pos, head_end - pos);
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string name = Lower(Trim(line.substr(0, colon)));
      const std::string_view value = Trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        part.name = Param(value, "name");
        part.filename = Param(value, "filename");
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
    }
    if (part.name.empty()) return Bad("a part has no Content-Disposition name");
    const size_t data_start = head_end + 4;
    const size_t next = body.find("\r\n" + delim, data_start);
    if (next == std::string_view::npos) return Bad("the closing boundary is missing");
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    pos = next + 2;
  }
}

}  // namespace modelmux::gateway
