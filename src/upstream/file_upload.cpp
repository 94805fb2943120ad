#include "upstream/file_upload.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "auth/crypto.hpp"
#include "net/url.hpp"

namespace modelmux::upstream {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Reply {
  int status = 0;
  net::Headers headers;
  std::string body;
};

Error Malformed(const Provider& p, std::string what) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.code = "file_upload_failed";
  e.message = "file upload: " + std::move(what);
  e.provider = p.spec().name;
  return e;
}

bool SameOrigin(std::string_view a, std::string_view b) {
  auto ua = net::ParseUrl(a);
  auto ub = net::ParseUrl(b);
  return ua.ok() && ub.ok() && ua->scheme == ub->scheme && ua->host == ub->host &&
         ua->port == ub->port;
}

// One HTTP call: the provider's extra headers and signature (only towards the provider's own
// origin, so a key never leaves for a host the provider named), its TLS setup and pool.
asio::awaitable<Result<Reply>> Call(const Provider& p, net::ClientRequest req,
                                    const UploadOptions& o, const RequestContext* ctx) {
  for (const auto& [k, v] : p.spec().headers) req.headers.Set(k, v);
  if (SameOrigin(req.url, p.spec().base_url)) {
    if (p.signer().is_async()) {
      MM_CO_RETURN_IF_ERROR(co_await p.signer().SignAsync(req));
    } else {
      MM_CO_RETURN_IF_ERROR(p.signer().Sign(req));
    }
  }
  net::ClientOptions opt = p.spec().timeouts;
  opt.total_timeout = o.call_timeout;
  if (ctx != nullptr) {
    auto left = ctx->Remaining(std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) {
      Error e;
      e.kind = ErrorKind::kTimeout;
      e.code = "deadline_exceeded";
      e.message = "the request's deadline passed during a file upload";
      co_return e;
    }
    if (left < opt.total_timeout) opt.total_timeout = left;
  }
  auto ex = co_await asio::this_coro::executor;
  auto r = co_await ClientForThisThread(ex, p.spec().tls).Send(std::move(req), opt);
  if (!r.ok()) {
    Error e = std::move(r).error();
    e.provider = p.spec().name;
    co_return e;
  }
  Reply reply;
  reply.status = (*r)->status();
  reply.headers = (*r)->headers();
  MM_CO_TRY(reply.body, co_await (*r)->ReadAll(1 << 20));
  co_return reply;
}

Error ProviderError(const Provider& p, const Reply& reply) {
  Error e = p.wire().DecodeError(reply.status, reply.body);
  e.provider = p.spec().name;
  if (e.upstream_status == 0) e.upstream_status = reply.status;
  return e;
}

asio::awaitable<void> Pause(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
}

// ---- Gemini ----------------------------------------------------------------------------------

asio::awaitable<Result<Reply>> GeminiChunk(const Provider& p, const std::string& url,
                                           std::string_view bytes, Chunk c, UploadOptions o,
                                           const RequestContext* ctx) {
  net::ClientRequest req;
  req.url = url;
  req.headers.Set("x-goog-upload-command", c.last ? "upload, finalize" : "upload");
  req.headers.Set("x-goog-upload-offset", std::to_string(c.offset));
  req.headers.Set("content-type", "application/octet-stream");
  req.body.assign(bytes.substr(c.offset, c.size));
  co_return co_await Call(p, std::move(req), o, ctx);
}

// Asks how much of the upload arrived: (received bytes, final reply when already finalized).
asio::awaitable<Result<std::pair<size_t, std::optional<Reply>>>> GeminiQuery(
    const Provider& p, const std::string& url, UploadOptions o, const RequestContext* ctx) {
  net::ClientRequest req;
  req.url = url;
  req.headers.Set("x-goog-upload-command", "query");
  MM_CO_TRY(Reply reply, co_await Call(p, std::move(req), o, ctx));
  if (reply.status / 100 != 2) co_return ProviderError(p, reply);
  const std::string status(reply.headers.Get("x-goog-upload-status"));
  std::optional<Reply> done;
  if (status == "final") done = reply;
  size_t received = 0;
  const std::string_view n = reply.headers.Get("x-goog-upload-size-received");
  if (n.size() > 19) co_return Malformed(p, "x-goog-upload-size-received is not a number");
  for (char digit : n) {
    if (digit < '0' || digit > '9') {
      co_return Malformed(p, "x-goog-upload-size-received is not a number");
    }
    received = received * 10 + static_cast<size_t>(digit - '0');
  }
  co_return std::make_pair(received, std::move(done));
}

asio::awaitable<Result<FileRef>> GeminiUpload(const Provider& p, std::string_view bytes,
                                              std::string mime, std::string display_name,
                                              UploadOptions o, const RequestContext* ctx) {
  net::ClientRequest start;
  start.url = GeminiUploadUrl(p.spec().base_url);
  start.headers.Set("x-goog-upload-protocol", "resumable");
  start.headers.Set("x-goog-upload-command", "start");
  start.headers.Set("x-goog-upload-header-content-length", std::to_string(bytes.size()));
  start.headers.Set("x-goog-upload-header-content-type", mime);
  start.headers.Set("content-type", "application/json");
  start.body =
      json::serialize(json::object{{"file", json::object{{"display_name", display_name}}}});
  MM_CO_TRY(Reply started, co_await Call(p, std::move(start), o, ctx));
  if (started.status / 100 != 2) co_return ProviderError(p, started);
  const std::string url(started.headers.Get("x-goog-upload-url"));
  if (url.empty()) co_return Malformed(p, "no x-goog-upload-url in the answer to start");
  if (!SameOrigin(url, p.spec().base_url)) {
    co_return Malformed(p, "the upload URL is not on the provider's host");
  }

  const size_t chunk_bytes =
      std::max(kGeminiChunkGranularity, o.chunk_bytes - o.chunk_bytes % kGeminiChunkGranularity);
  size_t offset = 0;
  int resumes = 0;
  std::optional<Reply> final_reply;
  while (!final_reply) {
    const Chunk c = NextChunk(bytes.size(), offset, chunk_bytes);
    auto sent = co_await GeminiChunk(p, url, bytes, c, o, ctx);
    if (sent.ok() && sent->status / 100 == 2) {
      if (c.last) {
        final_reply = std::move(*sent);
      } else {
        offset += c.size;
      }
      continue;
    }
    // A chunk failed: a 4xx other than 408/429 is final; anything else is resumed from the offset
    // the server says it holds.
    if (sent.ok() && sent->status / 100 == 4 && sent->status != 408 && sent->status != 429) {
      co_return ProviderError(p, *sent);
    }
    if (!sent.ok() && sent.error().kind == ErrorKind::kCancelled) co_return sent.error();
    if (++resumes > o.max_resumes) {
      if (!sent.ok()) co_return sent.error();
      co_return ProviderError(p, *sent);
    }
    MM_CO_TRY(auto q, co_await GeminiQuery(p, url, o, ctx));
    if (q.second) {
      final_reply = std::move(q.second);
    } else if (q.first > bytes.size()) {
      co_return Malformed(p, "the server holds more bytes than were sent");
    } else {
      offset = q.first;
    }
  }
  std::string state;
  MM_CO_TRY(FileRef ref, ParseGeminiFile(final_reply->body, state));
  if (ref.mime_type.empty()) ref.mime_type = mime;
  const auto poll_until = std::chrono::steady_clock::now() + o.poll_timeout;
  while (state == "PROCESSING") {
    if (std::chrono::steady_clock::now() + o.poll_interval > poll_until) {
      Error e;
      e.kind = ErrorKind::kTimeout;
      e.code = "file_processing_timeout";
      e.message = "file upload: " + ref.name + " still PROCESSING after the poll bound";
      e.provider = p.spec().name;
      co_return e;
    }
    co_await Pause(o.poll_interval);
    net::ClientRequest get;
    get.method = "GET";
    get.url = net::JoinUrl(p.spec().base_url, "/" + ref.name);
    MM_CO_TRY(Reply got, co_await Call(p, std::move(get), o, ctx));
    if (got.status / 100 != 2) co_return ProviderError(p, got);
    MM_CO_TRY(FileRef polled, ParseGeminiFile(got.body, state));
    if (!polled.reference.empty()) ref.reference = std::move(polled.reference);
  }
  if (state == "FAILED") co_return Malformed(p, ref.name + " FAILED processing");
  co_return ref;
}

// ---- Anthropic -------------------------------------------------------------------------------

asio::awaitable<Result<FileRef>> AnthropicUpload(const Provider& p, std::string_view bytes,
                                                 std::string mime, std::string display_name,
                                                 UploadOptions o, const RequestContext* ctx) {
  // The boundary must not occur in the bytes: checked, and extended until it does not.
  std::string boundary = "modelmux-file-boundary-7f3a9c";
  while (bytes.find(boundary) != std::string_view::npos) boundary += "x";
  net::ClientRequest req;
  req.url = net::JoinUrl(p.spec().base_url, "/files");
  req.headers.Set("anthropic-version", "2023-06-01");
  req.headers.Set("anthropic-beta", std::string(kAnthropicFilesBeta));
  req.headers.Set("content-type", "multipart/form-data; boundary=" + boundary);
  req.body = MultipartFileBody(boundary, display_name, mime, bytes);
  MM_CO_TRY(Reply reply, co_await Call(p, std::move(req), o, ctx));
  if (reply.status / 100 != 2) co_return ProviderError(p, reply);
  co_return ParseAnthropicFile(reply.body, std::move(mime));
}

}  // namespace

bool SupportsFileUpload(const Provider& provider) {
  return provider.dialect() == WireDialect::kGemini ||
         provider.dialect() == WireDialect::kAnthropic;
}

asio::awaitable<Result<FileRef>> UploadFile(const Provider& provider, std::string_view bytes,
                                            std::string mime_type, std::string display_name,
                                            UploadOptions options, const RequestContext* ctx) {
  if (provider.dialect() == WireDialect::kGemini) {
    co_return co_await GeminiUpload(provider, bytes, std::move(mime_type), std::move(display_name),
                                    options, ctx);
  }
  if (provider.dialect() == WireDialect::kAnthropic) {
    co_return co_await AnthropicUpload(provider, bytes, std::move(mime_type),
                                       std::move(display_name), options, ctx);
  }
  co_return InvalidRequest("provider '" + provider.spec().name + "' has no file API", "",
                           "file_upload_unsupported");
}

std::string GeminiUploadUrl(std::string_view base_url) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string_view version = "v1beta";
  const size_t slash = base_url.rfind('/');
  const std::string_view last =
      slash == std::string_view::npos ? std::string_view() : base_url.substr(slash + 1);
  if (last.size() >= 2 && last[0] == 'v' && last[1] >= '0' && last[1] <= '9') {
    version = last;
    base_url = base_url.substr(0, slash);
  }
  return std::string(base_url) + "/upload/" + std::string(version) + "/files";
}

std::string MultipartFileBody(std::string_view boundary, std::string_view filename,
                              std::string_view mime_type, std::string_view bytes) {
  std::string safe_name;
  for (char ch : filename) {
    if (ch != '"' && ch != '\r' && ch != '\n' && ch != '\\') safe_name.push_back(ch);
  }
  std::string head = "--" + std::string(boundary) +
                     "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + safe_name +
                     "\"\r\nContent-Type: " + std::string(mime_type) + "\r\n\r\n";
  const std::string tail = "\r\n--" + std::string(boundary) + "--\r\n";
  std::string body;
  body.reserve(head.size() + bytes.size() + tail.size());
  body.append(head).append(bytes).append(tail);
  return body;
}

Result<FileRef> ParseGeminiFile(std::string_view body, std::string& state) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o != nullptr) {
    if (const json::value* f = o->if_contains("file"); f && f->is_object()) o = &f->get_object();
  }
  auto str = [o](std::string_view a, std::string_view b = {}) -> std::string {
    const json::value* x = o->if_contains(a);
    if ((x == nullptr || !x->is_string()) && !b.empty()) x = o->if_contains(b);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  Error bad;
  bad.kind = ErrorKind::kUpstreamError;
  bad.code = "file_upload_failed";
  bad.message = "file upload: the answer is not a Gemini File";
  if (o == nullptr) return bad;
  FileRef ref;
  ref.reference = str("uri");
  ref.name = str("name");
  ref.mime_type = str("mimeType", "mime_type");
  state = str("state");
  if (ref.reference.empty() || ref.name.empty()) return bad;
  return ref;
}

Result<FileRef> ParseAnthropicFile(std::string_view body, std::string mime_type) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* id = o ? o->if_contains("id") : nullptr;
  if (id == nullptr || !id->is_string() || id->get_string().empty()) {
    Error e;
    e.kind = ErrorKind::kUpstreamError;
    e.code = "file_upload_failed";
    e.message = "file upload: the answer has no file id";
    return e;
  }
  FileRef ref;
  ref.name = std::string(id->get_string());
  ref.reference = std::string(kFileIdScheme) + ref.name;
  const json::value* mt = o->if_contains("mime_type");
  ref.mime_type = mt && mt->is_string() ? std::string(mt->get_string()) : std::move(mime_type);
  return ref;
}

Chunk NextChunk(size_t total, size_t offset, size_t chunk_bytes) {
  Chunk c;
  c.offset = std::min(offset, total);
  c.size = std::min(chunk_bytes, total - c.offset);
  c.last = c.offset + c.size == total;
  return c;
}

std::string FileRefCache::Key(const Provider& provider, std::string_view bytes) {
  const auto& s = provider.spec();
  return s.name + "|" + auth::Sha256Hex(s.api_key + "\n" + s.secret_key).substr(0, 16) + "|" +
         auth::Sha256Hex(bytes);
}

std::optional<FileRef> FileRefCache::Get(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (clock_() >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.ref;
}

void FileRefCache::Put(const std::string& key, FileRef ref, std::chrono::milliseconds ttl) {
  const auto now = clock_();
  std::lock_guard lock(mu_);
  // Drop expired entries now and then so the map stays bounded by what is alive.
  if (entries_.size() % 64 == 63) {
    std::erase_if(entries_, [now](const auto& kv) { return now >= kv.second.expires; });
  }
  entries_[key] = Entry{std::move(ref), now + ttl};
}

size_t FileRefCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

FileRefCache& FileRefCache::Shared() {
  static FileRefCache cache;
  return cache;
}

}  // namespace modelmux::upstream
