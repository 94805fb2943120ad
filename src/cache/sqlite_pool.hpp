#pragma once
// ReaderPool: a few threads, each owning one SQLite connection, running read jobs in FIFO order;
// and RunOff, which runs a job on such a thread and resumes the awaiting coroutine on its own
// executor.

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "cache/sqlite_db.hpp"

namespace modelmux::cache::sqlite {

class ReaderPool {
 public:
  // A job reads with the connection it is given and returns what delivers its result (run at
  // once here; the writer of cache/sqlite.cpp runs it only after its transaction commits).
  using Deliver = std::function<void()>;
  using Job = std::function<Deliver(sqlite3*)>;

  // Takes one connection per thread and starts the threads.
  explicit ReaderPool(std::vector<Db> connections);
  // Runs the jobs already queued, then joins.
  ~ReaderPool();
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  void Submit(Job job);

 private:
  void Run(sqlite3* db);

  std::vector<Db> connections_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// Hands `fn(sqlite3*) -> T` to `submit` (which runs it on some thread with a connection) and
// completes with its value on the awaiting coroutine's executor, kept alive meanwhile by a work
// guard. `submit` takes a ReaderPool::Job.
// The job is held through a shared_ptr so that the initiation carries only pointers.
template <class T, class Submit, class Fn>
boost::asio::awaitable<T> RunOff(Submit submit, Fn fn) {
  auto job_fn = std::make_shared<Fn>(std::move(fn));
  auto initiation = [submit, job_fn](auto handler) mutable {
    using Handler = decltype(handler);
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    auto shared = std::make_shared<Handler>(std::move(handler));
    auto shared_work = std::make_shared<decltype(work)>(std::move(work));
    submit([shared, shared_work, job_fn](sqlite3* db) {
      auto result = std::make_shared<T>((*job_fn)(db));
      return ReaderPool::Deliver([shared, shared_work, result] {
        boost::asio::post(shared_work->get_executor(), [shared, shared_work, result]() mutable {
          std::move (*shared)(std::move(*result));
          shared_work->reset();
        });
      });
    });
  };
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      std::move(initiation), boost::asio::use_awaitable);
}

}  // namespace modelmux::cache::sqlite
