#include "batch/service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "batch/service_internal.hpp"

namespace modelmux::batch {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::awaitable;

namespace {

using service_detail::NoSuch;

Status WriteDurably(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal(path + ": cannot be created (" + std::strerror(errno) + ")");
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Internal(path + ": write failed (" + std::strerror(errno) + ")");
    }
    off += static_cast<size_t>(n);
  }
  const bool synced = ::fdatasync(fd) == 0;
  ::close(fd);
  if (!synced) return Internal(path + ": fdatasync failed");
  return OkStatus();
}

// 400 invalid_jsonl naming the first line that is not a JSON object.
Status CheckJsonl(std::string_view bytes) {
  uint64_t line = 0;
  size_t pos = 0;
  if (bytes.starts_with("\xEF\xBB\xBF")) pos = 3;
  while (pos < bytes.size()) {
    ++line;
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view text = bytes.substr(pos, end - pos);
    pos = end + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) {
      return InvalidRequest(fmt::format("line {} of the file is not a JSON object", line), "file",
                            "invalid_jsonl");
    }
  }
  return OkStatus();
}

bool Visible(const Principal& who, const std::string& owner) {
  return who.sees_all || who.owner == owner;
}

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal(path + ": cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<std::shared_ptr<BatchService>> BatchService::Create(ServiceOptions options) {
  if (options.executors.empty()) return Internal("batch service: no executor");
  auto self = std::shared_ptr<BatchService>(new BatchService(std::move(options)));
  MM_TRY(self->store_, BatchStore::Open(self->options_.data_dir));
  self->pool_ = std::make_unique<asio::thread_pool>(1);
  return self;
}

BatchService::~BatchService() {
  Stop();
}

void BatchService::Stop() {
  stopped_ = true;
  if (pool_) pool_->join();
}

int64_t BatchService::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void BatchService::Start() {
  auto self = shared_from_this();
  asio::co_spawn(
      options_.executors.front(),
      [](std::shared_ptr<BatchService> s) -> awaitable<void> {
        auto job0 = [](BatchStore& st) { return st.Unfinished(); };
        auto unfinished = co_await s->OnStore<Result<std::vector<BatchRecord>>>(std::move(job0));
        if (unfinished.ok()) {
          for (const auto& b : *unfinished) s->Spawn(b.id, {});
        }
        co_await Sweeper(s);
      }(self),
      asio::detached);
}

void BatchService::Spawn(const std::string& batch_id, ModelCheck model_ok) {
  asio::any_io_executor ex;
  {
    std::lock_guard lock(mu_);
    ex = options_.executors[next_executor_++ % options_.executors.size()];
    auto running = std::make_shared<Running>();
    running->executor = ex;
    running_[batch_id] = std::move(running);
  }
  asio::co_spawn(ex, RunJob(shared_from_this(), batch_id, std::move(model_ok)), asio::detached);
}

awaitable<void> BatchService::Sweeper(std::shared_ptr<BatchService> self) {
  auto interval = self->options_.sweep_interval;
  if (interval.count() <= 0) {
    interval = std::clamp<std::chrono::milliseconds>(self->options_.retention / 2,
                                                     std::chrono::milliseconds(500),
                                                     std::chrono::milliseconds(60'000));
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!self->stopped_) {
    (void)co_await self->Sweep();
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

awaitable<Result<BatchStore::Swept>> BatchService::Sweep() {
  const int64_t now = Now();
  auto job1 = [now](BatchStore& st) { return st.Sweep(now); };
  co_return co_await OnStore<Result<BatchStore::Swept>>(std::move(job1));
}

// ---- files --------------------------------------------------------------------------------

awaitable<Result<FileRecord>> BatchService::CreateFile(Principal who, std::string filename,
                                                       std::string purpose, std::string bytes) {
  if (purpose != "batch") {
    co_return InvalidRequest("purpose must be 'batch' (the only purpose this gateway stores)",
                             "purpose", "invalid_purpose");
  }
  FileRecord f;
  f.id = NewObjectId("file-");
  f.owner = who.owner;
  f.filename = filename.empty() ? "upload.jsonl" : std::move(filename);
  f.purpose = std::move(purpose);
  f.bytes = static_cast<int64_t>(bytes.size());
  f.created_at = Now();
  f.expires_at = f.created_at + options_.retention.count() / 1000;
  auto shared = std::make_shared<std::string>(std::move(bytes));
  auto job2 = [f = std::move(f), shared](BatchStore& st) mutable -> Result<FileRecord> {
    MM_RETURN_IF_ERROR(CheckJsonl(*shared));
    f.path = st.UploadPath(f.id);
    MM_RETURN_IF_ERROR(WriteDurably(f.path, *shared));
    MM_RETURN_IF_ERROR(st.PutFile(f));
    return f;
  };
  co_return co_await OnStore<Result<FileRecord>>(std::move(job2));
}

awaitable<Result<FileRecord>> BatchService::GetFile(Principal who, std::string id) {
  auto job3 = [id](BatchStore& st) { return st.GetFile(id); };
  auto found = co_await OnStore<Result<std::optional<FileRecord>>>(std::move(job3));
  if (!found.ok()) co_return found.error();
  if (!*found || !Visible(who, (*found)->owner)) co_return NoSuch("file", id);
  co_return std::move(**found);
}

awaitable<Result<Page<FileRecord>>> BatchService::ListFiles(Principal who, ListQuery query) {
  query.owner = who.sees_all ? "" : who.owner;
  auto job4 = [query](BatchStore& st) { return st.ListFiles(query); };
  co_return co_await OnStore<Result<Page<FileRecord>>>(std::move(job4));
}

awaitable<Status> BatchService::DeleteFile(Principal who, std::string id) {
  auto found = co_await GetFile(who, id);
  if (!found.ok()) co_return found.error();
  auto job5 = [id](BatchStore& st) { return st.DeleteFile(id); };
  auto gone = co_await OnStore<Result<bool>>(std::move(job5));
  if (!gone.ok()) co_return gone.error();
  if (!*gone) co_return NoSuch("file", id);
  co_return OkStatus();
}

awaitable<Result<std::string>> BatchService::FileContent(Principal who, std::string id) {
  auto found = co_await GetFile(who, id);
  if (!found.ok()) co_return found.error();
  const std::string path = found->path;
  auto job6 = [path](BatchStore&) { return ReadWhole(path); };
  co_return co_await OnStore<Result<std::string>>(std::move(job6));
}

// ---- batches ------------------------------------------------------------------------------

awaitable<Result<BatchRecord>> BatchService::CreateBatch(Principal who, BatchRecord draft,
                                                         ModelCheck model_ok) {
  auto input = co_await GetFile(who, draft.input_file_id);
  if (!input.ok()) co_return input.error();
  if (input->purpose != "batch") {
    co_return InvalidRequest("the input file's purpose must be 'batch'", "input_file_id",
                             "invalid_input_file");
  }
  BatchRecord b = std::move(draft);
  b.id = NewObjectId("batch_");
  b.owner = who.owner;
  b.status = "validating";
  b.created_at = Now();
  b.expires_at = b.created_at + options_.retention.count() / 1000;
  auto job7 = [b](BatchStore& st) { return st.PutBatch(b); };
  auto put = co_await OnStore<Status>(std::move(job7));
  if (!put.ok()) co_return put.error();
  Spawn(b.id, std::move(model_ok));
  co_return b;
}

awaitable<Result<BatchRecord>> BatchService::GetBatch(Principal who, std::string id) {
  auto job8 = [id](BatchStore& st) { return st.GetBatch(id); };
  auto found = co_await OnStore<Result<std::optional<BatchRecord>>>(std::move(job8));
  if (!found.ok()) co_return found.error();
  if (!*found || !Visible(who, (*found)->owner)) co_return NoSuch("batch", id);
  co_return std::move(**found);
}

awaitable<Result<Page<BatchRecord>>> BatchService::ListBatches(Principal who, ListQuery query) {
  query.owner = who.sees_all ? "" : who.owner;
  auto job9 = [query](BatchStore& st) { return st.ListBatches(query); };
  co_return co_await OnStore<Result<Page<BatchRecord>>>(std::move(job9));
}

awaitable<Result<BatchRecord>> BatchService::CancelBatch(Principal who, std::string id) {
  auto found = co_await GetBatch(who, id);
  if (!found.ok()) co_return found.error();
  const int64_t now = Now();
  // Read-modify-write on the store's thread, so that it cannot interleave with the job's own.
  auto job10 = [id, now](BatchStore& st) -> Result<BatchRecord> {
    MM_TRY(auto b, st.GetBatch(id));
    if (!b) return NoSuch("batch", id);
    if (b->status == "validating" || b->status == "in_progress") {
      b->status = "cancelling";
      b->cancelling_at = now;
      MM_RETURN_IF_ERROR(st.PutBatch(*b));
    } else if (b->status != "cancelling" && b->status != "cancelled") {
      return InvalidRequest("batch " + id + " is " + b->status + " and cannot be cancelled", {},
                            "batch_not_cancellable");
    }
    return std::move(*b);
  };
  auto marked = co_await OnStore<Result<BatchRecord>>(std::move(job10));
  if (!marked.ok()) co_return marked.error();
  std::shared_ptr<Running> running;
  {
    std::lock_guard lock(mu_);
    if (auto it = running_.find(id); it != running_.end()) running = it->second;
  }
  if (running) {
    running->cancel = true;
    asio::post(running->executor, [running] {
      if (running->job) running->job->Cancel();
    });
  }
  co_return marked;
}

awaitable<void> BatchService::SaveCounts(std::string batch_id, Progress p, uint64_t base_ok,
                                         uint64_t base_failed) {
  auto job11 = [batch_id, p, base_ok, base_failed](BatchStore& st) -> Status {
    MM_TRY(auto b, st.GetBatch(batch_id));
    if (!b || b->Finished()) return OkStatus();
    b->completed = base_ok + p.ok;
    b->failed = base_failed + p.failed;
    return st.PutBatch(*b);
  };
  (void)co_await OnStore<Status>(std::move(job11));
}

}  // namespace modelmux::batch
