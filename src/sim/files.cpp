#include "sim/files.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <map>

#include "sim/anthropic_wire.hpp"
#include "sim/gemini_wire.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view kGeminiUpload = "/upload/v1beta/files";
constexpr std::string_view kGeminiFiles = "/v1beta/files/";
constexpr std::string_view kFailControl = "/sim/files/fail";
constexpr size_t kGranularity = 256u << 10;
constexpr std::string_view kBeta = "files-api-2025-04-14";

// A resumable Gemini upload in progress.
struct Session {
  std::string display_name;
  std::string mime_type;
  uint64_t declared = 0;
  std::string data;
  std::optional<StoredFile> file;  // set once finalized
};

struct Sessions {
  std::mutex mu;
  std::map<std::string, Session> by_id;
};

Sessions& AllSessions() {
  static Sessions s;
  return s;
}

std::atomic<int64_t> g_next_id{0};
std::atomic<int64_t> g_fail_chunks{0};

std::string NextId(std::string_view prefix) {
  return std::string(prefix) + std::to_string(++g_next_id);
}

std::string QueryParam(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    if (kv.substr(0, kv.find('=')) == key && kv.find('=') != std::string_view::npos) {
      return std::string(kv.substr(kv.find('=') + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::optional<uint64_t> ToNumber(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

std::string GeminiFileJson(const StoredFile& f, std::string_view host) {
  json::object o{{"name", "files/" + f.id},
                 {"displayName", f.display_name},
                 {"mimeType", f.mime_type},
                 {"sizeBytes", std::to_string(f.bytes->size())},
                 {"uri", "http://" + std::string(host) + std::string(kGeminiFiles) + f.id},
                 {"state", f.polls_until_active > 0 ? "PROCESSING" : "ACTIVE"},
                 {"source", "UPLOADED"}};
  return json::serialize(o);
}

std::string AnthropicFileJson(const StoredFile& f) {
  json::object o{{"id", f.id},
                 {"type", "file"},
                 {"filename", f.display_name},
                 {"mime_type", f.mime_type},
                 {"size_bytes", f.bytes->size()},
                 {"created_at", "2026-01-01T00:00:00Z"},
                 {"downloadable", false}};
  return json::serialize(o);
}

net::Headers Json() {
  net::Headers h;
  h.Add("content-type", "application/json");
  return h;
}

struct Answer {
  int status = 200;
  net::Headers headers = Json();
  std::string body;
};

Answer GeminiError(int status, std::string_view message) {
  return {status, Json(), GeminiErrorJson(status, message)};
}

Answer AnthropicError(int status, std::string_view type, std::string_view message) {
  return {status, Json(), AnthropicErrorJson(type, message)};
}

Answer StoreError(const Error& e, bool anthropic) {
  const int status = e.kind == ErrorKind::kPayloadTooLarge ? 413 : 400;
  return anthropic ? AnthropicError(status, "request_too_large", e.message)
                   : GeminiError(status, e.message);
}

Answer GeminiStart(const net::ServerRequest& r) {
  if (r.headers.Get("x-goog-upload-protocol") != "resumable") {
    return GeminiError(400, "Only the resumable upload protocol is simulated.");
  }
  auto declared = ToNumber(r.headers.Get("x-goog-upload-header-content-length"));
  if (!declared) return GeminiError(400, "X-Goog-Upload-Header-Content-Length is required.");
  Session s;
  s.declared = *declared;
  s.mime_type = std::string(r.headers.Get("x-goog-upload-header-content-type"));
  boost::system::error_code ec;
  json::value v = json::parse(r.body.empty() ? std::string_view("{}") : r.body, ec);
  if (ec || !v.is_object()) return GeminiError(400, "Invalid JSON payload received.");
  if (const json::value* f = v.get_object().if_contains("file"); f && f->is_object()) {
    const json::object& fo = f->get_object();
    const json::value* n = fo.if_contains("display_name");
    if (n == nullptr) n = fo.if_contains("displayName");
    if (n && n->is_string()) s.display_name = std::string(n->get_string());
  }
  if (s.mime_type.empty())
    return GeminiError(400, "X-Goog-Upload-Header-Content-Type is required.");
  const std::string id = NextId("upl");
  s.data.reserve(static_cast<size_t>(std::min<uint64_t>(s.declared, 64ull << 20)));
  {
    auto& all = AllSessions();
    std::lock_guard lock(all.mu);
    all.by_id[id] = std::move(s);
  }
  Answer a;
  a.headers.Add("x-goog-upload-url", "http://" + std::string(r.headers.Get("host")) +
                                         std::string(kGeminiUpload) + "?upload_id=" + id +
                                         "&upload_protocol=resumable");
  a.headers.Add("x-goog-upload-status", "active");
  a.headers.Add("x-goog-upload-chunk-granularity", std::to_string(kGranularity));
  return a;
}

// upload / upload, finalize / query on an upload session.
Answer GeminiSession(const net::ServerRequest& r, const std::string& id) {
  auto& all = AllSessions();
  std::lock_guard lock(all.mu);
  auto it = all.by_id.find(id);
  if (it == all.by_id.end()) return GeminiError(404, "No such upload session.");
  Session& s = it->second;
  const std::string host(r.headers.Get("host"));
  std::string command(r.headers.Get("x-goog-upload-command"));
  for (auto& c : command) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::erase(command, ' ');
  Answer a;
  if (command == "query") {
    a.headers.Add("x-goog-upload-status", s.file ? "final" : "active");
    a.headers.Add("x-goog-upload-size-received", std::to_string(s.data.size()));
    if (s.file) a.body = "{\"file\":" + GeminiFileJson(*s.file, host) + "}";
    return a;
  }
  if (command != "upload" && command != "upload,finalize") {
    return GeminiError(400, "Unknown X-Goog-Upload-Command.");
  }
  if (s.file) return GeminiError(400, "The upload is already finalized.");
  auto offset = ToNumber(r.headers.Get("x-goog-upload-offset"));
  if (!offset || *offset != s.data.size()) {
    return GeminiError(400, "X-Goog-Upload-Offset does not match the bytes received.");
  }
  const bool finalize = command == "upload,finalize";
  if (!finalize && r.body.size() % kGranularity != 0) {
    return GeminiError(400, "A chunk that does not finalize must be a multiple of 256 KiB.");
  }
  if (s.data.size() + r.body.size() > s.declared) {
    return GeminiError(400, "More bytes than X-Goog-Upload-Header-Content-Length.");
  }
  if (g_fail_chunks.load() > 0 && g_fail_chunks.fetch_sub(1) > 0) {
    // A chunk cut short: half of it (at the granularity) arrived.
    const size_t kept = r.body.size() / 2 / kGranularity * kGranularity;
    s.data.append(r.body, 0, kept);
    return GeminiError(503, "The service is currently unavailable.");
  }
  s.data.append(r.body);
  if (!finalize) {
    a.headers.Add("x-goog-upload-status", "active");
    return a;
  }
  if (s.data.size() != s.declared) {
    return GeminiError(400, "Finalized before X-Goog-Upload-Header-Content-Length bytes arrived.");
  }
  StoredFile f;
  f.id = NextId("sim");
  f.display_name = s.display_name;
  f.mime_type = s.mime_type;
  f.bytes = std::make_shared<const std::string>(std::move(s.data));
  f.polls_until_active = f.mime_type.starts_with("video/") ? 1 : 0;
  auto stored = FileStore::Shared().Add(f);
  if (!stored.ok()) {
    all.by_id.erase(it);
    return StoreError(stored.error(), false);
  }
  s.data.clear();
  s.file = *stored;
  a.headers.Add("x-goog-upload-status", "final");
  a.body = "{\"file\":" + GeminiFileJson(*stored, host) + "}";
  return a;
}

struct MultipartFile {
  std::string filename;
  std::string mime_type;
  std::string_view bytes;
};

std::optional<MultipartFile> ParseMultipart(std::string_view content_type, std::string_view body) {
  const size_t b = content_type.find("boundary=");
  if (b == std::string_view::npos) return std::nullopt;
  std::string_view boundary = content_type.substr(b + 9);
  boundary = boundary.substr(0, boundary.find(';'));
  if (boundary.size() >= 2 && boundary.front() == '"')
    boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delim = "--" + std::string(boundary);
  size_t at = body.find(delim);
  while (at != std::string_view::npos) {
    const size_t head_start = at + delim.size() + 2;  // past "\r\n"
    const size_t head_end = body.find("\r\n\r\n", head_start);
    if (head_end == std::string_view::npos) return std::nullopt;
    const std::string_view head = body.substr(head_start, head_end - head_start);
    const size_t data_start = head_end + 4;
    const size_t next = body.find("\r\n" + delim, data_start);
    if (next == std::string_view::npos) return std::nullopt;
    if (head.find("name=\"file\"") != std::string_view::npos) {
      MultipartFile f;
      f.bytes = body.substr(data_start, next - data_start);
      if (size_t fn = head.find("filename=\""); fn != std::string_view::npos) {
        std::string_view rest = head.substr(fn + 10);
        f.filename = std::string(rest.substr(0, rest.find('"')));
      }
      for (std::string_view key : {"Content-Type: ", "content-type: "}) {
        if (size_t ct = head.find(key); ct != std::string_view::npos) {
          std::string_view rest = head.substr(ct + key.size());
          f.mime_type = std::string(rest.substr(0, rest.find("\r\n")));
        }
      }
      return f;
    }
    at = next + 2;
  }
  return std::nullopt;
}

Answer AnthropicUpload(const net::ServerRequest& r) {
  if (r.headers.Get("anthropic-beta").find(kBeta) == std::string_view::npos) {
    return AnthropicError(400, "invalid_request_error",
                          "The Files API requires the anthropic-beta header files-api-2025-04-14.");
  }
  auto part = ParseMultipart(r.headers.Get("content-type"), r.body);
  if (!part) {
    return AnthropicError(400, "invalid_request_error",
                          "Expected multipart/form-data with a part named 'file'.");
  }
  StoredFile f;
  f.id = NextId("file_sim_");
  f.display_name = part->filename;
  f.mime_type = part->mime_type.empty() ? "application/octet-stream" : part->mime_type;
  f.bytes = std::make_shared<const std::string>(part->bytes);
  auto stored = FileStore::Shared().Add(std::move(f));
  if (!stored.ok()) return StoreError(stored.error(), true);
  return {200, Json(), AnthropicFileJson(*stored)};
}

Answer Route(net::ServerRequest& r, std::string_view path) {
  const std::string host(r.headers.Get("host"));
  if (path == kFailControl) {
    auto n = ToNumber(QueryParam(r.query(), "chunks"));
    g_fail_chunks.store(static_cast<int64_t>(n.value_or(1)));
    return {200, Json(), R"({"status":"ok"})"};
  }
  if (path == kGeminiUpload) {
    if (r.method != "POST") return GeminiError(405, "Method Not Allowed");
    const std::string id = QueryParam(r.query(), "upload_id");
    if (id.empty()) return GeminiStart(r);
    return GeminiSession(r, id);
  }
  if (path.starts_with(kGeminiFiles)) {
    const std::string_view id = path.substr(kGeminiFiles.size());
    if (r.method != "GET") return GeminiError(405, "Method Not Allowed");
    auto f = FileStore::Shared().Poll(id);
    if (!f) return GeminiError(404, "File files/" + std::string(id) + " was not found.");
    return {200, Json(), GeminiFileJson(*f, host)};
  }
  // Anthropic: /v1/files[/{id}] and /anthropic/v1/files[/{id}].
  std::string_view rest = path.starts_with("/anthropic") ? path.substr(10) : path;
  rest.remove_prefix(std::string_view("/v1/files").size());
  if (rest.empty()) {
    if (r.method != "POST")
      return AnthropicError(405, "invalid_request_error", "Method Not Allowed");
    return AnthropicUpload(r);
  }
  auto f = FileStore::Shared().Find(rest.substr(1));
  if (!f)
    return AnthropicError(404, "not_found_error", "File not found: " + std::string(rest.substr(1)));
  return {200, Json(), AnthropicFileJson(*f)};
}

}  // namespace

FileStore& FileStore::Shared() {
  static FileStore store;
  return store;
}

Result<StoredFile> FileStore::Add(StoredFile file) {
  const uint64_t size = file.bytes ? file.bytes->size() : 0;
  if (size > cap_) {
    Error e;
    e.kind = ErrorKind::kPayloadTooLarge;
    e.message =
        "The file is larger than the simulator's file store (" + std::to_string(cap_) + " bytes).";
    return e;
  }
  std::lock_guard lock(mu_);
  while (!files_.empty() && total_ + size > cap_) {
    total_ -= files_.front().bytes->size();
    files_.pop_front();
  }
  total_ += size;
  files_.push_back(file);
  return file;
}

std::optional<StoredFile> FileStore::Find(std::string_view id) const {
  std::lock_guard lock(mu_);
  for (const auto& f : files_) {
    if (f.id == id) return f;
  }
  return std::nullopt;
}

std::optional<StoredFile> FileStore::Poll(std::string_view id) {
  std::lock_guard lock(mu_);
  for (auto& f : files_) {
    if (f.id != id) continue;
    if (f.polls_until_active > 0) --f.polls_until_active;
    return f;
  }
  return std::nullopt;
}

uint64_t FileStore::total_bytes() const {
  std::lock_guard lock(mu_);
  return total_;
}

bool IsFilesRequest(std::string_view path, const net::Headers& headers) {
  if (path == kGeminiUpload || path == kFailControl || path.starts_with(kGeminiFiles)) return true;
  const bool anthropic_path = path == "/v1/files" || path.starts_with("/v1/files/");
  if (path == "/anthropic/v1/files" || path.starts_with("/anthropic/v1/files/")) return true;
  return anthropic_path &&
         (!headers.Get("anthropic-version").empty() || !headers.Get("anthropic-beta").empty() ||
          !headers.Get("x-api-key").empty());
}

asio::awaitable<void> HandleFiles(net::ServerRequest& request, net::ResponseWriter& writer,
                                  std::string_view path, Stats& stats) {
  Answer a = Route(request, path);
  stats.CountStatus(a.status);
  Status st = co_await writer.Send(a.status, std::move(a.headers), std::move(a.body));
  (void)st;
}

std::optional<Result<std::string>> DescribeFileReference(MediaKind kind, std::string_view ref,
                                                         bool anthropic_id) {
  std::string_view id = ref;
  if (!anthropic_id) {
    const size_t at = ref.find(kGeminiFiles);
    if (at == std::string_view::npos) return std::nullopt;
    id = ref.substr(at + kGeminiFiles.size());
  }
  auto f = FileStore::Shared().Find(id);
  if (!f) {
    return Result<std::string>(NotFound(anthropic_id
                                            ? "File not found: " + std::string(id)
                                            : "File files/" + std::string(id) + " was not found.",
                                        "file_not_found"));
  }
  if (f->polls_until_active > 0) {
    return Result<std::string>(InvalidRequest(
        "The File files/" + f->id + " is not in an ACTIVE state and usage is not allowed."));
  }
  if (f->mime_type.starts_with("video/")) kind = MediaKind::kVideo;
  return Result<std::string>(DescribeMediaBytes(kind, *f->bytes, "file"));
}

}  // namespace modelmux::sim
