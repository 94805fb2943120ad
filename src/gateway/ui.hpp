#pragma once
// The dashboard's static files (ui/index.html, app.js, metrics.js, charts.js, style.css,
// favicon.svg), compiled into the binary by modelmux_embed_file, served at /ui (= /ui/ =
// /ui/index.html) and /ui/<file>. Every response carries Content-Security-Policy: default-src
// 'self' (no inline script or style, nothing from another origin), an ETag (a hash of the bytes)
// and Cache-Control: no-cache, so a browser revalidates and gets a 304 while the binary is
// unchanged. The files are public; the data they show comes from /admin/stats, which needs the
// admin key (stats_api.hpp).

#include <string>
#include <string_view>

#include "net/headers.hpp"

namespace modelmux::gateway {

struct UiFile {
  std::string_view name;  // "index.html"
  std::string_view content_type;
  std::string_view body;
  std::string etag;  // "\"<16 hex digits>\""
};

// The embedded file for a request path, or nullptr (not under /ui, or no such file).
[[nodiscard]] const UiFile* FindUiFile(std::string_view path);

struct UiResponse {
  int status = 404;  // 200, 304, or 404 (the caller answers with its own error body)
  net::Headers headers;
  std::string body;
};

// The response to GET/HEAD `path` with the request's If-None-Match header value.
[[nodiscard]] UiResponse ServeUi(std::string_view path, std::string_view if_none_match);

// True when `if_none_match` (a list of entity tags, or "*") matches `etag`; weak tags match too.
[[nodiscard]] bool EtagMatches(std::string_view if_none_match, std::string_view etag);

// 64-bit FNV-1a of `bytes` as 16 lowercase hex digits (the ETag's value).
[[nodiscard]] std::string Fnv1aHex(std::string_view bytes);

}  // namespace modelmux::gateway
