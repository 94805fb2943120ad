#include "batch/job.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace modelmux::batch {
namespace json = boost::json;
namespace asio = boost::asio;

std::string DefaultErrorsPath(const std::string& output) {
  std::string base = output;
  if (base.ends_with(".jsonl")) base.resize(base.size() - 6);
  return base + ".errors.jsonl";
}

namespace {

bool Blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

struct PriceInfo {
  const telemetry::ModelPrice* price = nullptr;
};

}  // namespace

std::string CheckReport::ToJson() const {
  json::array errs;
  for (const auto& e : errors) {
    errs.push_back(json::object{{"message", e.message}, {"code", e.code}, {"param", e.param}});
  }
  json::object ms;
  for (const auto& [name, m] : models) {
    json::object mj{{"requests", m.requests},
                    {"prompt_tokens", m.prompt_tokens},
                    {"output_tokens", m.output_tokens},
                    {"exact", m.exact}};
    if (m.cost_micros) {
      mj["cost"] = telemetry::FormatMoney({*m.cost_micros, m.currency});
      mj["cost_micros"] = *m.cost_micros;
    } else {
      mj["cost"] = nullptr;
    }
    ms[name] = std::move(mj);
  }
  return json::serialize(json::object{{"lines", lines},
                                      {"items", items},
                                      {"error_count", error_count},
                                      {"errors", std::move(errs)},
                                      {"models", std::move(ms)}});
}

std::string CheckReport::Text() const {
  std::string s;
  for (const auto& e : errors)
    s += "  " + e.message + (e.code.empty() ? "" : " [" + e.code + "]") + "\n";
  if (error_count > errors.size()) {
    s += fmt::format("  ... and {} more\n", error_count - errors.size());
  }
  if (error_count > 0) {
    s += fmt::format("{} of {} lines are invalid; nothing was sent\n", error_count, lines);
  }
  return s;
}

Result<CheckReport> CheckInput(const JobSpec& spec, const routing::Router* router) {
  CheckReport report;
  MM_TRY(auto reader, LineReader::Open(spec.input, spec.max_line_bytes));
  std::unordered_map<std::string, uint64_t> first_line;
  std::map<std::string, PriceInfo, std::less<>> prices;
  const auto price_table = telemetry::PriceTable::Active();  // holds the entries found below
  auto fail = [&report](Error e) {
    ++report.error_count;
    if (report.errors.size() < CheckReport::kMaxListedErrors) report.errors.push_back(std::move(e));
  };
  while (auto line = reader->Next()) {
    if (line->too_long) {
      ++report.lines;
      fail(InvalidRequest(
          fmt::format("line {}: longer than {} bytes", line->number, spec.max_line_bytes), {},
          "line_too_long"));
      continue;
    }
    if (Blank(line->text)) continue;
    ++report.lines;
    auto item = ParseLine(line->text, line->number, spec.defaults);
    if (!item.ok()) {
      fail(item.error());
      continue;
    }
    auto [it, fresh] = first_line.emplace(item->key, line->number);
    if (!fresh) {
      fail(InvalidRequest(fmt::format("line {}: duplicate id \"{}\" (first on line {})",
                                      line->number, item->key, it->second),
                          "id", "duplicate_id"));
      continue;
    }
    if (auto st = CheckImages(*item, spec.images); !st.ok()) {
      fail(st.error());
      continue;
    }
    const std::string& model = item->model();
    auto pit = prices.find(model);
    if (pit == prices.end() && router != nullptr) {
      auto plan = router->MakePlan(model);
      if (!plan.ok()) {
        fail(InvalidRequest(fmt::format("line {}: {}", line->number, plan.error().message), "model",
                            plan.error().code.empty() ? "model_not_found" : plan.error().code));
        continue;
      }
      PriceInfo info;
      if (plan->provider != nullptr) {
        info.price = price_table->Find(plan->provider->spec().name, plan->provider->spec().type,
                                       plan->resolved.model);
      }
      pit = prices.emplace(model, info).first;
    }
    ++report.items;
    ModelEstimate& est = report.models[model];
    ++est.requests;
    const int64_t prompt = EstimatePromptTokens(*item);
    const int64_t output = item->endpoint == Endpoint::kChat
                               ? item->chat.max_tokens.value_or(spec.run.default_output_tokens)
                               : 0;
    est.prompt_tokens += prompt;
    est.output_tokens += output;
    if (item->endpoint == Endpoint::kChat && !item->image_files.empty()) est.exact = false;
    if (pit != prices.end() && pit->second.price != nullptr) {
      Usage u;
      u.prompt_tokens = prompt;
      u.completion_tokens = output;
      if (auto cost = telemetry::Cost(*pit->second.price, u)) {
        est.cost_micros = est.cost_micros.value_or(0) + cost->micros;
        est.currency = cost->currency;
      }
    }
  }
  if (reader->read_error()) return Internal(spec.input + ": read error");
  return report;
}

// ---- the job's source and sink ------------------------------------------------------------

class FileJob::Source final : public ItemSource {
 public:
  Source(std::unique_ptr<LineReader> reader, const FileJob& job)
      : reader_(std::move(reader)), job_(job) {}
  std::optional<Result<WorkItem>> Next() override {
    while (auto line = reader_->Next()) {
      if (line->too_long || Blank(line->text)) continue;
      auto item = ParseLine(line->text, line->number, job_.spec_.defaults);
      if (!item.ok()) return Result<WorkItem>(item.error());
      if (job_.spec_.retry_failed ? !job_.only_.contains(item->key)
                                  : job_.skip_.contains(item->key)) {
        continue;
      }
      return item;
    }
    return std::nullopt;
  }

 private:
  std::unique_ptr<LineReader> reader_;
  const FileJob& job_;
};

class FileJob::Sink final : public ResultSink {
 public:
  ~Sink() override {
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }
  Status Open(const std::string& out, const std::string& err, bool truncate) {
    out_path_ = out;
    err_path_ = err;
    const int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
    out_fd_ = ::open(out.c_str(), flags, 0644);
    if (out_fd_ < 0) return Internal(out + ": cannot be opened (" + std::strerror(errno) + ")");
    err_fd_ = ::open(err.c_str(), flags, 0644);
    if (err_fd_ < 0) return Internal(err + ": cannot be opened (" + std::strerror(errno) + ")");
    return OkStatus();
  }
  void Put(const Outcome& o) override {
    const std::string unique = fmt::format("{:016x}{:08x}", random_(), ++count_);
    (o.error ? err_buf_ : out_buf_) += EncodeOutcome(o, unique);
    ++pending_;
  }
  [[nodiscard]] size_t Pending() const override { return pending_; }
  Status Flush() override {
    MM_RETURN_IF_ERROR(WriteAll(out_fd_, out_buf_, out_path_));
    MM_RETURN_IF_ERROR(WriteAll(err_fd_, err_buf_, err_path_));
    pending_ = 0;
    return OkStatus();
  }

 private:
  static Status WriteAll(int fd, std::string& buf, const std::string& path) {
    if (buf.empty()) return OkStatus();
    size_t off = 0;
    while (off < buf.size()) {
      ssize_t n = ::write(fd, buf.data() + off, buf.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Internal(path + ": write failed (" + std::strerror(errno) + ")");
      off += static_cast<size_t>(n);
    }
    if (::fdatasync(fd) != 0)
      return Internal(path + ": fdatasync failed (" + std::strerror(errno) + ")");
    buf.clear();
    return OkStatus();
  }
  std::string out_path_, err_path_;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_buf_, err_buf_;
  size_t pending_ = 0;
  uint32_t count_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
};

// ---- the job ------------------------------------------------------------------------------

FileJob::~FileJob() = default;

Result<std::unique_ptr<FileJob>> FileJob::Prepare(JobSpec spec,
                                                  std::shared_ptr<const routing::Router> router) {
  auto job = std::unique_ptr<FileJob>(new FileJob());
  if (spec.errors.empty()) spec.errors = DefaultErrorsPath(spec.output);
  job->spec_ = std::move(spec);
  job->router_ = std::move(router);
  const JobSpec& s = job->spec_;
  MM_TRY(job->check_, CheckInput(s, job->router_.get()));
  if (!job->check_.ok()) {
    return InvalidRequest("the batch input is invalid:\n" + job->check_.Text(), "input",
                          "batch_input_invalid");
  }
  if (!s.restart) {
    MM_TRY(auto out, ScanJsonl(s.output, true));
    MM_TRY(auto err, ScanJsonl(s.errors, true));
    job->truncated_bytes_ = out.truncated_bytes + err.truncated_bytes;
    if (s.retry_failed) {
      for (const auto& k : err.keys) {
        if (!out.keys.contains(k)) job->only_.insert(k);
      }
    } else {
      job->skip_ = std::move(out.keys);
      job->skip_.merge(err.keys);
    }
  } else if (s.retry_failed) {
    return InvalidRequest("--retry-failed needs the errors of an earlier run", "retry_failed");
  }
  // Count what will be skipped: one more pass over the ids (cheap next to the check).
  MM_TRY(auto reader, LineReader::Open(s.input, s.max_line_bytes));
  uint64_t to_run = 0;
  while (auto line = reader->Next()) {
    if (line->too_long || Blank(line->text)) continue;
    auto item = ParseLine(line->text, line->number, s.defaults);
    if (!item.ok()) continue;
    if (s.retry_failed ? job->only_.contains(item->key) : !job->skip_.contains(item->key)) ++to_run;
  }
  job->skipped_ = job->check_.items - to_run;
  MM_TRY(auto run_reader, LineReader::Open(s.input, s.max_line_bytes));
  job->source_ = std::make_unique<Source>(std::move(run_reader), *job);
  job->sink_ = std::make_unique<Sink>();
  MM_RETURN_IF_ERROR(job->sink_->Open(s.output, s.errors, s.restart));
  return job;
}

asio::awaitable<Result<Report>> FileJob::Run(ProgressFn on_progress) {
  Progress initial;
  initial.total = check_.items;
  initial.skipped = skipped_;
  runner_ = std::make_unique<Runner>(router_, spec_.run, *source_, *sink_, initial,
                                     std::move(on_progress));
  co_return co_await runner_->Run();
}

void FileJob::Cancel() {
  if (runner_) runner_->Cancel();
}

}  // namespace modelmux::batch
