#include "gateway/batch_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "dialects/openai/errors.hpp"
#include "gateway/multipart.hpp"

namespace modelmux::gateway {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

namespace {

struct Route {
  enum class Kind {
    kNone,
    kFiles,
    kFile,
    kFileContent,
    kBatches,
    kBatch,
    kBatchCancel
  } kind = Kind::kNone;
  std::string id;
  std::string_view allow;
};

Route RouteOf(std::string_view path) {
  Route r;
  auto rest_after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (!path.starts_with(prefix)) return std::nullopt;
    return path.substr(prefix.size());
  };
  if (path == "/v1/files") return {Route::Kind::kFiles, {}, "GET, POST"};
  if (path == "/v1/batches") return {Route::Kind::kBatches, {}, "GET, POST"};
  if (auto rest = rest_after("/v1/files/")) {
    const size_t slash = rest->find('/');
    const std::string id(rest->substr(0, slash));
    if (id.empty()) return r;
    if (slash == std::string_view::npos) return {Route::Kind::kFile, id, "GET, DELETE"};
    if (rest->substr(slash) == "/content") return {Route::Kind::kFileContent, id, "GET"};
    return r;
  }
  if (auto rest = rest_after("/v1/batches/")) {
    const size_t slash = rest->find('/');
    const std::string id(rest->substr(0, slash));
    if (id.empty()) return r;
    if (slash == std::string_view::npos) return {Route::Kind::kBatch, id, "GET"};
    if (rest->substr(slash) == "/cancel") return {Route::Kind::kBatchCancel, id, "POST"};
  }
  return r;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The decoded value of `name` in a query string, or nullopt.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string out;
    if (eq == std::string_view::npos) return out;
    std::string_view v = pair.substr(eq + 1);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '+') {
        out += ' ';
      } else if (v[i] == '%' && i + 2 < v.size() + 0 && HexValue(v[i + 1]) >= 0 &&
                 HexValue(v[i + 2]) >= 0) {
        out += static_cast<char>(HexValue(v[i + 1]) * 16 + HexValue(v[i + 2]));
        i += 2;
      } else {
        out += v[i];
      }
    }
    return out;
  }
  return std::nullopt;
}

Result<batch::ListQuery> ListQueryOf(std::string_view query, size_t default_limit,
                                     size_t max_limit) {
  batch::ListQuery q;
  q.limit = default_limit;
  if (auto limit = QueryParam(query, "limit")) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc() || end != limit->data() + limit->size() || n < 1 || n > max_limit) {
      return InvalidRequest("limit must be an integer from 1 to " + std::to_string(max_limit),
                            "limit", "invalid_limit");
    }
    q.limit = n;
  }
  if (auto after = QueryParam(query, "after")) q.after = *after;
  if (auto purpose = QueryParam(query, "purpose")) q.purpose = *purpose;
  return q;
}

BatchApiAnswer Json(int status, std::string body) {
  BatchApiAnswer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

awaitable<Result<BatchApiAnswer>> Upload(std::shared_ptr<batch::BatchService> service,
                                         BatchApiRequest req) {
  const std::string boundary = MultipartBoundary(req.content_type);
  if (boundary.empty()) {
    co_return InvalidRequest("uploads are multipart/form-data with a 'file' and a 'purpose' part",
                             "file", "invalid_content_type");
  }
  auto parts = ParseMultipart(req.body, boundary);
  if (!parts.ok()) co_return parts.error();
  const FormPart* file = nullptr;
  std::optional<std::string> purpose;
  for (const auto& p : *parts) {
    if (p.name == "file") file = &p;
    if (p.name == "purpose") purpose = std::string(p.data);
  }
  if (!purpose)
    co_return InvalidRequest("the 'purpose' part is missing", "purpose", "missing_purpose");
  if (!file) co_return InvalidRequest("the 'file' part is missing", "file", "missing_file");
  std::string filename = file->filename;
  // Keep only the file's bytes, in place: an upload may be as large as limits.files_body.
  const size_t start = static_cast<size_t>(file->data.data() - req.body.data());
  const size_t size = file->data.size();
  std::string bytes = std::move(req.body);
  bytes.resize(start + size);
  bytes.erase(0, start);
  auto created = co_await service->CreateFile(req.who, std::move(filename), std::move(*purpose),
                                              std::move(bytes));
  if (!created.ok()) co_return created.error();
  co_return Json(200, batch::FileJson(*created));
}

// {input_file_id, endpoint, completion_window, metadata} -> a draft BatchRecord.
Result<batch::BatchRecord> DraftOf(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
    return InvalidRequest("the body must be a JSON object", {}, "invalid_json");
  const auto& o = v.get_object();
  auto text = [&o](const char* key) -> std::optional<std::string> {
    const auto* f = o.if_contains(key);
    if (f == nullptr || !f->is_string()) return std::nullopt;
    return std::string(f->get_string());
  };
  batch::BatchRecord b;
  auto input = text("input_file_id");
  if (!input || input->empty()) {
    return InvalidRequest("input_file_id must be a file id", "input_file_id", "invalid_request");
  }
  b.input_file_id = *input;
  auto endpoint = text("endpoint");
  if (!endpoint || (*endpoint != "/v1/chat/completions" && *endpoint != "/v1/embeddings")) {
    return InvalidRequest("endpoint must be /v1/chat/completions or /v1/embeddings", "endpoint",
                          "invalid_endpoint");
  }
  b.endpoint = *endpoint;
  auto window = text("completion_window");
  if (!window || *window != "24h") {
    return InvalidRequest("completion_window must be '24h'", "completion_window",
                          "invalid_completion_window");
  }
  b.completion_window = *window;
  if (const auto* m = o.if_contains("metadata"); m != nullptr && !m->is_null()) {
    if (!m->is_object() || m->get_object().size() > 16) {
      return InvalidRequest("metadata must be an object of at most 16 string values", "metadata",
                            "invalid_metadata");
    }
    for (const auto& kv : m->get_object()) {
      if (!kv.value().is_string() || kv.key().size() > 64 || kv.value().get_string().size() > 512) {
        return InvalidRequest(
            "metadata values must be strings (keys up to 64, values up to 512 "
            "characters)",
            "metadata", "invalid_metadata");
      }
    }
    b.metadata_json = json::serialize(*m);
  }
  return b;
}

}  // namespace

bool IsBatchApiPath(std::string_view path) {
  return path == "/v1/files" || path.starts_with("/v1/files/") || path == "/v1/batches" ||
         path.starts_with("/v1/batches/");
}

awaitable<Result<BatchApiAnswer>> ServeBatchApi(std::shared_ptr<batch::BatchService> service,
                                                BatchApiRequest req) {
  using Kind = Route::Kind;
  const Route route = RouteOf(req.path);
  if (route.kind == Kind::kNone) co_return NotFound("no route for " + req.path, "unknown_url");
  const std::string& m = req.method;
  const bool get = m == "GET" || m == "HEAD";
  Result<BatchApiAnswer> out = Json(200, "");
  if (route.kind == Kind::kFiles && m == "POST") {
    out = co_await Upload(service, std::move(req));
  } else if (route.kind == Kind::kFiles && get) {
    auto q = ListQueryOf(req.query, 10000, 10000);
    if (!q.ok()) co_return q.error();
    auto page = co_await service->ListFiles(req.who, std::move(q).value());
    if (!page.ok()) co_return page.error();
    out = Json(200, batch::FileListJson(*page));
  } else if (route.kind == Kind::kFile && get) {
    auto f = co_await service->GetFile(req.who, route.id);
    if (!f.ok()) co_return f.error();
    out = Json(200, batch::FileJson(*f));
  } else if (route.kind == Kind::kFile && m == "DELETE") {
    auto st = co_await service->DeleteFile(req.who, route.id);
    if (!st.ok()) co_return st.error();
    out = Json(200, batch::FileDeletedJson(route.id));
  } else if (route.kind == Kind::kFileContent && get) {
    auto bytes = co_await service->FileContent(req.who, route.id);
    if (!bytes.ok()) co_return bytes.error();
    BatchApiAnswer a = Json(200, std::move(bytes).value());
    a.content_type = "application/octet-stream";
    out = std::move(a);
  } else if (route.kind == Kind::kBatches && m == "POST") {
    auto draft = DraftOf(req.body);
    if (!draft.ok()) co_return draft.error();
    auto b = co_await service->CreateBatch(req.who, std::move(draft).value(), req.model_ok);
    if (!b.ok()) co_return b.error();
    out = Json(200, batch::BatchJson(*b));
  } else if (route.kind == Kind::kBatches && get) {
    auto q = ListQueryOf(req.query, 20, 100);
    if (!q.ok()) co_return q.error();
    auto page = co_await service->ListBatches(req.who, std::move(q).value());
    if (!page.ok()) co_return page.error();
    out = Json(200, batch::BatchListJson(*page));
  } else if (route.kind == Kind::kBatch && get) {
    auto b = co_await service->GetBatch(req.who, route.id);
    if (!b.ok()) co_return b.error();
    out = Json(200, batch::BatchJson(*b));
  } else if (route.kind == Kind::kBatchCancel && m == "POST") {
    auto b = co_await service->CancelBatch(req.who, route.id);
    if (!b.ok()) co_return b.error();
    out = Json(200, batch::BatchJson(*b));
  } else {
    Error e = InvalidRequest("method " + m + " is not allowed on " + req.path);
    e.code = "method_not_allowed";
    BatchApiAnswer a = Json(405, dialects::openai::EncodeError(e));
    a.allow = std::string(route.allow);
    out = std::move(a);
  }
  co_return out;
}

}  // namespace modelmux::gateway
