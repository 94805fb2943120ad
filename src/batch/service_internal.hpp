#pragma once
// Internal to batch/service*.cpp: the in-memory state of a running job, and OnStore (the store's
// worker thread, resumed on the awaiting coroutine's executor).
//
// GCC 12: pass OnStore a named lambda (std::move(job)), never a lambda temporary written inside
// the co_await expression: GCC 12 copies such a temporary bitwise into the call, and its
// captured strings are then freed twice.

#include <fmt/format.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "batch/service.hpp"

namespace modelmux::batch {

struct BatchService::Running {
  std::unique_ptr<FileJob> job;  // set once prepared (on the job's executor)
  boost::asio::any_io_executor executor;
  std::atomic<bool> cancel{false};
  std::chrono::steady_clock::time_point last_save{};
  bool saving = false;
};

template <class T, class Fn>
boost::asio::awaitable<T> BatchService::OnStore(Fn fn) {
  BatchStore* store = store_.get();
  boost::asio::thread_pool* pool = pool_.get();
  auto initiation = [store, pool, fn = std::move(fn)](auto handler) mutable {
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    boost::asio::post(*pool, [store, fn = std::move(fn), handler = std::move(handler),
                              work = std::move(work)]() mutable {
      auto result = std::make_shared<T>(fn(*store));
      auto ex = work.get_executor();
      boost::asio::post(ex,
                        [handler = std::move(handler), result, work = std::move(work)]() mutable {
                          std::move(handler)(std::move(*result));
                        });
    });
  };
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(
      std::move(initiation), boost::asio::use_awaitable);
}

namespace service_detail {

inline Error NoSuch(std::string_view what, const std::string& id) {
  return NotFound(fmt::format("No such {}: '{}'", what, id), "not_found");
}

inline int64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

}  // namespace service_detail

}  // namespace modelmux::batch
