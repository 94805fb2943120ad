// BatchService: the life of one job (validating -> in_progress -> finalizing -> the end), a
// coroutine on one of the gateway's event loops; the store is touched only through OnStore.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "batch/service.hpp"
#include "batch/service_internal.hpp"

namespace modelmux::batch {

namespace asio = boost::asio;
using asio::awaitable;
using service_detail::FileSize;
using service_detail::NoSuch;

namespace {

struct Prepared {
  std::unique_ptr<FileJob> job;
  uint64_t base_ok = 0, base_failed = 0;  // lines already in the results and errors files
};

// Ends a job that cannot run: failed, with its problems as errors.data[].
Status FailJob(BatchStore& st, const std::string& id, std::vector<LineProblem> problems,
               int64_t now) {
  MM_TRY(auto b, st.GetBatch(id));
  if (!b || b->Finished()) return OkStatus();
  b->status = "failed";
  b->failed_at = now;
  b->errors_json = ErrorsJson(problems);
  return st.PutBatch(*b);
}

uint64_t LinesOf(const std::string& path) {
  auto scanned = ScanJsonl(path, false);
  return scanned.ok() ? scanned->lines : 0;
}

// The results or errors file of a finished job as a file object (nullopt when it is empty).
std::optional<FileRecord> OutputFile(const BatchRecord& b, const std::string& path,
                                     std::string_view suffix, int64_t now) {
  const int64_t bytes = FileSize(path);
  if (bytes == 0) return std::nullopt;
  FileRecord f;
  f.id = NewObjectId("file-");
  f.owner = b.owner;
  f.filename = b.id + std::string(suffix);
  f.purpose = "batch_output";
  f.bytes = bytes;
  f.created_at = now;
  f.expires_at = b.expires_at;
  f.path = path;
  return f;
}

// finalizing -> completed | cancelled (| failed when the run broke off with `run_error`).
Status FinishJob(BatchStore& st, const std::string& id, bool cancelled,
                 const std::optional<Error>& run_error, int64_t now) {
  MM_TRY(auto b, st.GetBatch(id));
  if (!b || b->Finished()) return OkStatus();
  MM_TRY(const std::string dir, st.JobDir(id));
  const std::string results = dir + "/results.jsonl", errors = dir + "/errors.jsonl";
  b->finalizing_at = now;
  b->completed = LinesOf(results);
  b->failed = LinesOf(errors);
  if (auto f = OutputFile(*b, results, "_output.jsonl", now)) {
    MM_RETURN_IF_ERROR(st.PutFile(*f));
    b->output_file_id = f->id;
  }
  if (auto f = OutputFile(*b, errors, "_error.jsonl", now)) {
    MM_RETURN_IF_ERROR(st.PutFile(*f));
    b->error_file_id = f->id;
  }
  if (run_error) {
    b->status = "failed";
    b->failed_at = now;
    b->errors_json = ErrorsJson({{"batch_run_failed", run_error->message, {}, 0}});
  } else if (cancelled || b->status == "cancelling") {
    b->status = "cancelled";
    b->cancelled_at = now;
  } else {
    b->status = "completed";
    b->completed_at = now;
  }
  return st.PutBatch(*b);
}

}  // namespace

awaitable<void> BatchService::RunJob(std::shared_ptr<BatchService> self, std::string id,
                                     ModelCheck model_ok) {
  std::shared_ptr<Running> running;
  {
    std::lock_guard lock(self->mu_);
    running = self->running_[id];
  }
  auto forget = [&self, &id] {
    std::lock_guard lock(self->mu_);
    self->running_.erase(id);
  };
  auto job12 = [id](BatchStore& st) { return st.GetBatch(id); };
  auto loaded = co_await self->OnStore<Result<std::optional<BatchRecord>>>(std::move(job12));
  if (!loaded.ok() || !*loaded) co_return forget();
  BatchRecord b = std::move(**loaded);
  auto job13 = [fid = b.input_file_id](BatchStore& st) { return st.GetFile(fid); };
  auto input = co_await self->OnStore<Result<std::optional<FileRecord>>>(std::move(job13));
  std::string input_path;
  if (input.ok() && *input) input_path = (*input)->path;
  const auto router = self->options_.router();
  const int64_t started = self->Now();

  if (b.status == "validating" || b.status == "in_progress") {
    if (input_path.empty()) {
      auto job14 = [id, started](BatchStore& st) {
        return FailJob(st, id,
                       {{"input_file_missing", "the input file is gone", "input_file_id", 0}},
                       started);
      };
      (void)co_await self->OnStore<Status>(std::move(job14));
      co_return forget();
    }
  }
  if (b.status == "validating") {
    const size_t max_line = self->options_.max_line_bytes;
    auto job15 = [input_path, endpoint = b.endpoint, router, model_ok, max_line](BatchStore&) {
      ModelCheck combined = [&](const std::string& model) -> std::string {
        if (model_ok) {
          if (auto why = model_ok(model); !why.empty()) return why;
        }
        if (!router) return {};
        auto plan = router->MakePlan(model);
        return plan.ok() ? std::string() : plan.error().message;
      };
      return CheckApiInput(input_path, endpoint, combined, max_line);
    };
    auto checked = co_await self->OnStore<Result<InputCheck>>(std::move(job15));
    std::vector<LineProblem> problems;
    uint64_t total = 0;
    if (!checked.ok()) {
      problems.push_back({"input_unreadable", checked.error().message, "input_file_id", 0});
    } else if (!checked->ok()) {
      problems = std::move(checked->problems);
    } else {
      total = checked->requests;
    }
    const int64_t now = self->Now();
    auto job16 = [id, problems = std::move(problems), total,
                  now](BatchStore& st) -> Result<BatchRecord> {
      if (!problems.empty()) MM_RETURN_IF_ERROR(FailJob(st, id, problems, now));
      MM_TRY(auto rec, st.GetBatch(id));
      if (!rec) return NoSuch("batch", id);
      if (rec->status == "validating") {
        rec->status = "in_progress";
        rec->in_progress_at = now;
        rec->total = total;
        MM_RETURN_IF_ERROR(st.PutBatch(*rec));
      }
      return std::move(*rec);
    };
    auto next = co_await self->OnStore<Result<BatchRecord>>(std::move(job16));
    if (!next.ok()) co_return forget();
    b = std::move(next).value();
  }

  bool cancelled = b.status == "cancelling" || running->cancel;
  std::optional<Error> run_error;
  if (b.status == "in_progress" && !cancelled) {
    JobSpec spec;
    spec.input = input_path;
    spec.run = self->options_.run;
    if (self->options_.gate_for) spec.run.gate = self->options_.gate_for(b.owner, id);
    spec.max_line_bytes = self->options_.max_line_bytes;
    auto job17 = [id, spec = std::move(spec), router](BatchStore& st) mutable -> Result<Prepared> {
      MM_TRY(const std::string dir, st.JobDir(id));
      spec.output = dir + "/results.jsonl";
      spec.errors = dir + "/errors.jsonl";
      Prepared p;
      MM_TRY(p.job, FileJob::Prepare(std::move(spec), router));
      p.base_ok = LinesOf(dir + "/results.jsonl");
      p.base_failed = LinesOf(dir + "/errors.jsonl");
      return p;
    };
    auto prepared = co_await self->OnStore<Result<Prepared>>(std::move(job17));
    if (!prepared.ok()) {
      const Error e = prepared.error();
      auto job18 = [id, e, started](BatchStore& st) {
        return FailJob(st, id,
                       {{e.code.empty() ? "batch_prepare_failed" : e.code, e.message, {}, 0}},
                       started);
      };
      (void)co_await self->OnStore<Status>(std::move(job18));
      co_return forget();
    }
    running->job = std::move(prepared->job);
    const uint64_t base_ok = prepared->base_ok, base_failed = prepared->base_failed;
    auto on_progress = [self, running, id, base_ok, base_failed](const Progress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (running->saving || now - running->last_save < std::chrono::seconds(1)) return;
      running->saving = true;
      running->last_save = now;
      asio::co_spawn(
          running->executor,
          [](std::shared_ptr<BatchService> s, std::shared_ptr<Running> r, std::string bid,
             Progress pr, uint64_t ok0, uint64_t failed0) -> awaitable<void> {
            co_await s->SaveCounts(std::move(bid), pr, ok0, failed0);
            r->saving = false;
          }(self, running, id, p, base_ok, base_failed),
          asio::detached);
    };
    // A cancel that came while preparing: Run would not see it (the runner did not exist).
    if (!running->cancel) {
      auto report = co_await running->job->Run(std::move(on_progress));
      if (!report.ok()) {
        run_error = report.error();
      } else {
        cancelled = report->cancelled;
      }
    }
    cancelled = cancelled || running->cancel;
  }
  const int64_t now = self->Now();
  auto job19 = [id, cancelled, run_error, now](BatchStore& st) {
    return FinishJob(st, id, cancelled, run_error, now);
  };
  (void)co_await self->OnStore<Status>(std::move(job19));
  // The runner's files are closed before the job is forgotten.
  running->job.reset();
  forget();
}

}  // namespace modelmux::batch
