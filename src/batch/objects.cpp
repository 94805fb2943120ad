#include "batch/objects.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <unordered_map>

#include "batch/item.hpp"
#include "batch/jsonl.hpp"

namespace modelmux::batch {

namespace json = boost::json;

namespace {

json::value OptInt(const std::optional<int64_t>& v) {
  if (v) return json::value(*v);
  return json::value(nullptr);
}

json::value OptText(const std::optional<std::string>& v) {
  if (v) return json::value(*v);
  return json::value(nullptr);
}

// Stored JSON text back to a value (null when empty or, defensively, unparsable).
json::value Stored(const std::string& text) {
  if (text.empty()) return json::value(nullptr);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return json::value(nullptr);
  return v;
}

json::object FileObject(const FileRecord& f) {
  return json::object{{"id", f.id},
                      {"object", "file"},
                      {"bytes", f.bytes},
                      {"created_at", f.created_at},
                      {"expires_at", OptInt(f.expires_at)},
                      {"filename", f.filename},
                      {"purpose", f.purpose},
                      {"status", "processed"},
                      {"status_details", nullptr}};
}

json::object BatchObject(const BatchRecord& b) {
  return json::object{
      {"id", b.id},
      {"object", "batch"},
      {"endpoint", b.endpoint},
      {"errors", Stored(b.errors_json)},
      {"input_file_id", b.input_file_id},
      {"completion_window", b.completion_window},
      {"status", b.status},
      {"output_file_id", OptText(b.output_file_id)},
      {"error_file_id", OptText(b.error_file_id)},
      {"created_at", b.created_at},
      {"in_progress_at", OptInt(b.in_progress_at)},
      {"expires_at", OptInt(b.expires_at)},
      {"finalizing_at", OptInt(b.finalizing_at)},
      {"completed_at", OptInt(b.completed_at)},
      {"failed_at", OptInt(b.failed_at)},
      {"expired_at", nullptr},
      {"cancelling_at", OptInt(b.cancelling_at)},
      {"cancelled_at", OptInt(b.cancelled_at)},
      {"request_counts",
       json::object{{"total", b.total}, {"completed", b.completed}, {"failed", b.failed}}},
      {"metadata", Stored(b.metadata_json)}};
}

template <class T, class ToObject>
std::string ListJson(const Page<T>& page, ToObject to_object) {
  json::array data;
  for (const auto& r : page.rows) data.push_back(to_object(r));
  json::value first = nullptr, last = nullptr;
  if (!page.rows.empty()) {
    first = page.rows.front().id;
    last = page.rows.back().id;
  }
  return json::serialize(json::object{{"object", "list"},
                                      {"data", std::move(data)},
                                      {"first_id", first},
                                      {"last_id", last},
                                      {"has_more", page.has_more}});
}

bool Blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

// "line 7: body must be an object" -> "body must be an object".
std::string WithoutLinePrefix(const std::string& message, uint64_t line) {
  const std::string prefix = fmt::format("line {}: ", line);
  if (message.starts_with(prefix)) return message.substr(prefix.size());
  return message;
}

// A line of `modelmux batch`'s simple form ({"id", "prompt", ...}): refused on the gateway, where
// its local image paths would name the gateway's own files.
bool IsSimpleForm(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.get_object();
  return !o.contains("custom_id") && (o.contains("prompt") || o.contains("id"));
}

}  // namespace

std::string FileJson(const FileRecord& f) {
  return json::serialize(FileObject(f));
}

std::string BatchJson(const BatchRecord& b) {
  return json::serialize(BatchObject(b));
}

std::string FileListJson(const Page<FileRecord>& page) {
  return ListJson(page, FileObject);
}

std::string BatchListJson(const Page<BatchRecord>& page) {
  return ListJson(page, BatchObject);
}

std::string FileDeletedJson(const std::string& id) {
  return json::serialize(json::object{{"id", id}, {"object", "file"}, {"deleted", true}});
}

std::string ErrorsJson(const std::vector<LineProblem>& problems) {
  if (problems.empty()) return {};
  json::array data;
  for (const auto& p : problems) {
    json::object o{{"code", p.code}, {"message", p.message}};
    o["param"] = p.param.empty() ? json::value(nullptr) : json::value(p.param);
    o["line"] = p.line == 0 ? json::value(nullptr) : json::value(p.line);
    data.push_back(std::move(o));
  }
  return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

Result<InputCheck> CheckApiInput(const std::string& path, const std::string& endpoint,
                                 const ModelCheck& model_ok, size_t max_line_bytes) {
  InputCheck check;
  auto problem = [&check](uint64_t line, std::string code, std::string message, std::string param) {
    ++check.problem_count;
    if (check.problems.size() < InputCheck::kMaxProblems) {
      check.problems.push_back({std::move(code), std::move(message), std::move(param), line});
    }
  };
  MM_TRY(auto reader, LineReader::Open(path, max_line_bytes));
  std::unordered_map<std::string, uint64_t> first_line;
  std::unordered_map<std::string, std::string> model_verdicts;
  while (auto line = reader->Next()) {
    const uint64_t n = line->number;
    if (line->too_long) {
      problem(n, "line_too_long", fmt::format("longer than {} bytes", max_line_bytes), {});
      continue;
    }
    if (Blank(line->text)) continue;
    if (IsSimpleForm(line->text)) {
      problem(n, "malformed_line", "not a Batch API request line (custom_id, method, url, body)",
              "custom_id");
      continue;
    }
    auto item = ParseLine(line->text, n, Defaults{});
    if (!item.ok()) {
      problem(n, item.error().code.empty() ? "invalid_request" : item.error().code,
              WithoutLinePrefix(item.error().message, n), item.error().param);
      continue;
    }
    if (item->format != LineFormat::kBatchApi) {
      problem(n, "malformed_line", "not a Batch API request line (custom_id, method, url, body)",
              "custom_id");
      continue;
    }
    const std::string_view url =
        item->endpoint == Endpoint::kChat ? "/v1/chat/completions" : "/v1/embeddings";
    if (url != endpoint) {
      problem(n, "mismatched_url",
              fmt::format("url {} differs from the batch's endpoint {}", url, endpoint), "url");
      continue;
    }
    auto [it, fresh] = first_line.emplace(item->key, n);
    if (!fresh) {
      problem(n, "duplicate_custom_id",
              fmt::format("duplicate custom_id \"{}\" (first on line {})", item->key, it->second),
              "custom_id");
      continue;
    }
    if (model_ok) {
      const std::string& model = item->model();
      auto verdict = model_verdicts.find(model);
      if (verdict == model_verdicts.end()) {
        verdict = model_verdicts.emplace(model, model_ok(model)).first;
      }
      if (!verdict->second.empty()) {
        problem(n, "model_not_found", verdict->second, "body.model");
        continue;
      }
    }
    ++check.requests;
  }
  if (reader->read_error()) return Internal(path + ": read error");
  if (check.requests == 0 && check.problem_count == 0) {
    problem(0, "empty_file", "the input file has no request lines", "input_file_id");
  }
  return check;
}

}  // namespace modelmux::batch
