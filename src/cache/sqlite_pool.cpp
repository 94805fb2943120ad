#include "cache/sqlite_pool.hpp"

namespace modelmux::cache::sqlite {

ReaderPool::ReaderPool(std::vector<Db> connections) : connections_(std::move(connections)) {
  threads_.reserve(connections_.size());
  for (Db& db : connections_) {
    threads_.emplace_back([this, raw = db.get()] { Run(raw); });
  }
}

ReaderPool::~ReaderPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ReaderPool::Submit(Job job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ReaderPool::Run(sqlite3* db) {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    ReaderPool::Deliver deliver = job(db);
    if (deliver) deliver();
  }
}

}  // namespace modelmux::cache::sqlite
