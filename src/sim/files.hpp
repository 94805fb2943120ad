#pragma once
// The simulator's file APIs (docs/SIM.md, "Files"): uploaded bytes kept in memory so a chat part
// that references a file is decoded and reported like inline media ("[image: jpeg 800x600,
// 123456 bytes, file]").
//
//   Gemini     POST /upload/v1beta/files            X-Goog-Upload-Command: start -> the upload URL
//              POST /upload/v1beta/files?upload_id= upload | upload, finalize | query
//              GET  /v1beta/files/{id}              the File (a video is PROCESSING until the
//                                                   first GET, which sees it ACTIVE)
//   Anthropic  POST /v1/files (or /anthropic/v1/files), multipart/form-data, with
//              `anthropic-beta: files-api-2025-04-14`; GET /v1/files/{id}
//   Control    POST /sim/files/fail?chunks=N        the next N Gemini upload chunks fail with 503
//                                                   after half of the chunk was stored
//
// Files live in one process-wide store with a total byte cap (oldest files are dropped to make
// room); they survive POST /sim/reset. Unknown ids get the provider's 404. Thread-safe.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "net/server.hpp"
#include "sim/media_report.hpp"
#include "sim/stats.hpp"

namespace modelmux::sim {

inline constexpr uint64_t kDefaultFileStoreCap = 1ull << 30;

struct StoredFile {
  std::string id;  // Gemini "abc123"; Anthropic "file_sim_..."
  std::string display_name;
  std::string mime_type;
  std::shared_ptr<const std::string> bytes;
  int polls_until_active = 0;  // Gemini: GETs that still see PROCESSING after finalize
};

class FileStore {
 public:
  explicit FileStore(uint64_t cap_bytes = kDefaultFileStoreCap) : cap_(cap_bytes) {}

  // The store every Simulator in this process shares.
  static FileStore& Shared();

  // Keeps `file` (dropping the oldest files while over the cap). Errors: kPayloadTooLarge when
  // the file alone is over the cap.
  [[nodiscard]] Result<StoredFile> Add(StoredFile file);
  [[nodiscard]] std::optional<StoredFile> Find(std::string_view id) const;
  // A GET of a Gemini file: counts down its PROCESSING polls.
  [[nodiscard]] std::optional<StoredFile> Poll(std::string_view id);
  [[nodiscard]] uint64_t total_bytes() const;

 private:
  uint64_t cap_;
  mutable std::mutex mu_;
  std::deque<StoredFile> files_;  // oldest first
  uint64_t total_ = 0;
};

// True for the paths above (`headers` tell Anthropic's /v1/files from other /v1 paths).
[[nodiscard]] bool IsFilesRequest(std::string_view path, const net::Headers& headers);

// Answers one file API request (counting its status in `stats`).
boost::asio::awaitable<void> HandleFiles(net::ServerRequest& request, net::ResponseWriter& writer,
                                         std::string_view path, Stats& stats);

// The media line for a chat part that references a stored file: a Gemini file URI ending in
// /files/{id} or an Anthropic file id. nullopt when `ref` names no simulator file at all (an
// ordinary URL); kNotFound when it names one that is not (or no longer) stored.
[[nodiscard]] std::optional<Result<std::string>> DescribeFileReference(MediaKind kind,
                                                                       std::string_view ref,
                                                                       bool anthropic_id);

}  // namespace modelmux::sim
