#pragma once
// Large media through a provider's file API (docs/MULTIMODAL.md, "Large files"): the bytes are
// uploaded once and the chat request references the file instead of carrying base64.
//
//   Gemini     resumable upload: POST {root}/upload/v1beta/files (command "start") -> upload URL;
//              chunks with "upload" / "upload, finalize" at X-Goog-Upload-Offset; a chunk that
//              fails is resumed from the offset the server reports ("query"); a file still
//              PROCESSING (videos) is polled with GET {base}/{name} until ACTIVE, within a bound.
//              The chat part is file_data {mime_type, file_uri}.
//   Anthropic  POST {base}/files, multipart/form-data, `anthropic-beta: files-api-2025-04-14`;
//              the image block's source is {type: "file", file_id}.
//
// Calls are signed by the provider's signer and sent on the calling event loop's pool. The
// FileRefCache remembers digest -> reference per provider and credential so the same bytes are
// uploaded once within the TTL.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/request_context.hpp"
#include "core/result.hpp"
#include "dialects/anthropic/request.hpp"
#include "upstream/provider.hpp"

namespace modelmux::upstream {

// The neutral form of a file reference the dialects encode: a ContentPart url "file-id:<id>"
// (Anthropic's `source: {type: "file"}`). Gemini references are plain https file URIs.
inline constexpr std::string_view kFileIdScheme = dialects::anthropic::kFileIdScheme;
inline constexpr std::string_view kAnthropicFilesBeta = dialects::anthropic::kFilesApiBeta;

struct FileRef {
  std::string reference;  // what the chat part carries: Gemini file URI, or "file-id:<id>"
  std::string mime_type;  // as the provider reports it
  std::string name;       // Gemini "files/abc"; Anthropic the file id
};

struct UploadOptions {
  size_t chunk_bytes = 8u << 20;                   // Gemini chunk size, a multiple of 256 KiB
  int max_resumes = 3;                             // failed chunks resumed per upload
  std::chrono::milliseconds poll_interval{1'000};  // Gemini: while a file is PROCESSING
  std::chrono::milliseconds poll_timeout{120'000};
  std::chrono::milliseconds call_timeout{300'000};  // each HTTP call (also capped by the deadline)
};

inline constexpr size_t kGeminiChunkGranularity = 256u << 10;

// True when `provider`'s chat API can reference files uploaded through its file API.
[[nodiscard]] bool SupportsFileUpload(const Provider& provider);

// Uploads `bytes` (which must stay alive until the coroutine finishes) and returns the reference.
// `ctx` may be null (no deadline). Errors: the provider's (mapped by its dialect), kTimeout while
// polling a file that stays PROCESSING, kUpstreamError for a malformed answer or a FAILED file.
boost::asio::awaitable<Result<FileRef>> UploadFile(const Provider& provider, std::string_view bytes,
                                                   std::string mime_type, std::string display_name,
                                                   UploadOptions options,
                                                   const RequestContext* ctx);

// ---- pure pieces (tested apart) ----------------------------------------------------------------

// "https://host/v1beta" -> "https://host/upload/v1beta/files" (the API version kept).
[[nodiscard]] std::string GeminiUploadUrl(std::string_view base_url);
// A multipart/form-data body with one part "file".
[[nodiscard]] std::string MultipartFileBody(std::string_view boundary, std::string_view filename,
                                            std::string_view mime_type, std::string_view bytes);
// A Gemini File resource ({"file": {...}} or the bare object) -> reference; `state` set to its
// state ("ACTIVE", "PROCESSING", "FAILED", "" when absent).
[[nodiscard]] Result<FileRef> ParseGeminiFile(std::string_view body, std::string& state);
// Anthropic's answer to POST /v1/files -> reference "file-id:<id>".
[[nodiscard]] Result<FileRef> ParseAnthropicFile(std::string_view body, std::string mime_type);
// The next Gemini chunk: [offset, offset + size) and whether it finalizes.
struct Chunk {
  size_t offset = 0;
  size_t size = 0;
  bool last = false;
};
[[nodiscard]] Chunk NextChunk(size_t total, size_t offset, size_t chunk_bytes);

// Uploaded files per provider, credential and content digest, kept for `ttl` (shorter than the
// provider's own file lifetime: Gemini deletes files after 48 h). Thread-safe.
class FileRefCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit FileRefCache(Clock clock = std::chrono::steady_clock::now) : clock_(std::move(clock)) {}

  // The key of `bytes` for `provider`: its name, a digest of its credential, the bytes' SHA-256.
  [[nodiscard]] static std::string Key(const Provider& provider, std::string_view bytes);

  [[nodiscard]] std::optional<FileRef> Get(const std::string& key);
  void Put(const std::string& key, FileRef ref, std::chrono::milliseconds ttl);
  [[nodiscard]] size_t size() const;

  // The process-wide cache the media stage uses.
  static FileRefCache& Shared();

 private:
  struct Entry {
    FileRef ref;
    std::chrono::steady_clock::time_point expires;
  };
  Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace modelmux::upstream
