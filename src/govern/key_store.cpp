#include "govern/key_store.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

#include "store/redis.hpp"
#include "store/sqlite.hpp"

namespace modelmux::govern {

namespace asio = boost::asio;
using asio::awaitable;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(CREATE TABLE keys (
      id TEXT PRIMARY KEY,
      digest TEXT NOT NULL UNIQUE,
      record TEXT NOT NULL,
      created INTEGER NOT NULL,
      updated INTEGER NOT NULL
    );)sql",
};

constexpr size_t kMaxCached = 100'000;

Error StoreDown(std::string_view what) {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.code = "key_store_unavailable";
  e.message = "the key store is unavailable: " + std::string(what);
  return e;
}

// Runs fn() on `pool` and resumes the awaiting coroutine on its own executor with the result.
template <class T, class Fn>
awaitable<T> OnPool(asio::thread_pool& pool, Fn fn) {
  auto initiation = [&pool, fn = std::move(fn)](auto handler) mutable {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(
        pool, [fn = std::move(fn), handler = std::move(handler), work = std::move(work)]() mutable {
          auto result = std::make_shared<T>(fn());
          auto ex = work.get_executor();
          asio::post(ex, [handler = std::move(handler), result, work = std::move(work)]() mutable {
            std::move(handler)(std::move(*result));
          });
        });
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(std::move(initiation),
                                                                       asio::use_awaitable);
}

std::vector<KeyRecord> Sorted(std::vector<KeyRecord> keys) {
  std::sort(keys.begin(), keys.end(), [](const KeyRecord& a, const KeyRecord& b) {
    return a.created != b.created ? a.created > b.created : a.id < b.id;
  });
  return keys;
}

}  // namespace

struct KeyStore::Impl {
  KeyStoreOptions options;

  // SQLite backend: the database (touched only on `pool`) and the in-memory copy.
  store::sqlite::Db db;
  std::unique_ptr<asio::thread_pool> pool;
  mutable std::shared_mutex mu;
  std::unordered_map<std::string, KeyRecord> by_digest;  // SQLite: every key
  std::unordered_map<std::string, std::string> id_to_digest;

  // Redis backend: lookups cached for cache_ttl (fresh) and stale_ttl (while Redis is down).
  struct Entry {
    std::optional<KeyRecord> record;
    SteadyTime fetched;
  };
  std::mutex cache_mu;
  std::unordered_map<std::string, Entry> cache;

  [[nodiscard]] std::string RecordKey(std::string_view digest) const {
    return options.prefix + ":key:" + std::string(digest);
  }
  [[nodiscard]] std::string IndexKey() const { return options.prefix + ":keys"; }

  Status LoadAll() {
    MM_TRY(auto q, store::sqlite::Query::Prepare(db.get(), "SELECT record FROM keys"));
    while (true) {
      MM_TRY(bool row, q.Step());
      if (!row) break;
      MM_TRY(auto rec, FromStoredJson(q.Text(0)));
      id_to_digest[rec.id] = rec.digest_hex;
      by_digest[rec.digest_hex] = std::move(rec);
    }
    return OkStatus();
  }

  Status WriteSqlite(const KeyRecord& r) {
    MM_TRY(auto tx, store::sqlite::Transaction::Begin(db.get()));
    MM_TRY(auto q, store::sqlite::Query::Prepare(
                       db.get(),
                       "INSERT INTO keys (id, digest, record, created, updated) VALUES (?,?,?,?,?) "
                       "ON CONFLICT(id) DO UPDATE SET record = excluded.record, "
                       "updated = excluded.updated"));
    const std::string record = ToStoredJson(r);  // bound by pointer: must outlive Run()
    q.Bind(1, std::string_view(r.id))
        .Bind(2, std::string_view(r.digest_hex))
        .Bind(3, std::string_view(record))
        .Bind(4, static_cast<int64_t>(r.created.time_since_epoch().count()))
        .Bind(5, static_cast<int64_t>(r.updated.time_since_epoch().count()));
    MM_RETURN_IF_ERROR(q.Run());
    return tx.Commit();
  }

  void Remember(const std::string& digest, std::optional<KeyRecord> record) {
    std::lock_guard lock(cache_mu);
    if (cache.size() >= kMaxCached) cache.clear();  // bounded: unknown digests cannot grow it
    cache[digest] = Entry{std::move(record), options.clock()};
  }
  void Forget(const std::string& digest) {
    std::lock_guard lock(cache_mu);
    cache.erase(digest);
  }
  // The cached lookup if younger than `ttl`.
  std::optional<std::optional<KeyRecord>> Lookup(const std::string& digest,
                                                 std::chrono::milliseconds ttl) {
    std::lock_guard lock(cache_mu);
    auto it = cache.find(digest);
    if (it == cache.end() || options.clock() - it->second.fetched > ttl) return std::nullopt;
    return it->second.record;
  }

  awaitable<Result<std::optional<KeyRecord>>> RedisFetch(std::string digest) {
    std::vector<std::string> cmd = {"HGET", RecordKey(digest), "record"};
    auto reply = co_await options.redis->Command(std::move(cmd));
    if (!reply.ok()) co_return StoreDown("redis: " + reply.error().message);
    if (reply->is_error()) co_return StoreDown("redis: " + reply->str);
    if (reply->is_nil()) co_return std::optional<KeyRecord>();
    auto rec = FromStoredJson(reply->str);
    if (!rec.ok()) co_return rec.error();
    co_return std::optional<KeyRecord>(std::move(rec).value());
  }
};

Result<std::shared_ptr<KeyStore>> KeyStore::Open(KeyStoreOptions options) {
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  if (!impl->options.redis) {
    store::sqlite::OpenOptions o;
    o.synchronous = store::sqlite::Synchronous::kFull;
    MM_TRY(impl->db, store::sqlite::Open(impl->options.sqlite_path, o));
    MM_RETURN_IF_ERROR(store::sqlite::Migrate(impl->db.get(), kMigrations));
    MM_RETURN_IF_ERROR(impl->LoadAll());
    impl->pool = std::make_unique<asio::thread_pool>(1);
  }
  return std::shared_ptr<KeyStore>(new KeyStore(std::move(impl)));
}

KeyStore::~KeyStore() {
  if (impl_->pool) impl_->pool->join();
}

bool KeyStore::shared() const {
  return impl_->options.redis != nullptr;
}

awaitable<Result<std::optional<KeyRecord>>> KeyStore::FindByDigest(std::string digest) {
  auto& impl = *impl_;
  std::optional<KeyRecord> found;
  if (!impl.options.redis) {
    std::shared_lock lock(impl.mu);
    if (auto it = impl.by_digest.find(digest); it != impl.by_digest.end()) found = it->second;
  } else if (auto cached = impl.Lookup(digest, impl.options.cache_ttl)) {
    found = std::move(*cached);
  } else {
    auto fetched = co_await impl.RedisFetch(digest);
    if (!fetched.ok()) {
      if (fetched.error().code != "key_store_unavailable") co_return fetched.error();
      auto stale = impl.Lookup(digest, impl.options.stale_ttl);
      if (!stale) co_return fetched.error();
      found = std::move(*stale);
    } else {
      found = *fetched;
      impl.Remember(digest, std::move(fetched).value());
    }
  }
  // The map lookup found the record by digest; confirm it in constant time all the same.
  if (found && !DigestEquals(found->digest_hex, digest)) found.reset();
  co_return found;
}

awaitable<Result<std::optional<KeyRecord>>> KeyStore::FindById(std::string id) {
  auto& impl = *impl_;
  if (!impl.options.redis) {
    std::shared_lock lock(impl.mu);
    auto it = impl.id_to_digest.find(id);
    if (it == impl.id_to_digest.end()) co_return std::optional<KeyRecord>();
    co_return std::optional<KeyRecord>(impl.by_digest.at(it->second));
  }
  std::vector<std::string> cmd = {"HGET", impl.IndexKey(), id};
  auto digest = co_await impl.options.redis->Command(std::move(cmd));
  if (!digest.ok()) co_return StoreDown("redis: " + digest.error().message);
  if (digest->is_error()) co_return StoreDown("redis: " + digest->str);
  if (digest->is_nil()) co_return std::optional<KeyRecord>();
  co_return co_await impl.RedisFetch(digest->str);
}

awaitable<Result<std::vector<KeyRecord>>> KeyStore::List() {
  auto& impl = *impl_;
  std::vector<KeyRecord> out;
  if (!impl.options.redis) {
    std::shared_lock lock(impl.mu);
    for (const auto& [digest, rec] : impl.by_digest) out.push_back(rec);
    co_return Sorted(std::move(out));
  }
  std::vector<std::string> cmd = {"HGETALL", impl.IndexKey()};
  auto all = co_await impl.options.redis->Command(std::move(cmd));
  if (!all.ok()) co_return StoreDown("redis: " + all.error().message);
  if (all->is_error()) co_return StoreDown("redis: " + all->str);
  for (size_t i = 1; i < all->elements.size(); i += 2) {
    auto rec = co_await impl.RedisFetch(all->elements[i].str);
    if (!rec.ok()) co_return rec.error();
    if (*rec) out.push_back(std::move(**rec));
  }
  co_return Sorted(std::move(out));
}

awaitable<Status> KeyStore::Put(KeyRecord record) {
  auto& impl = *impl_;
  if (!impl.options.redis) {
    Impl* p = &impl;
    // The job and its awaitable are named locals: GCC 12 mishandles temporaries with
    // destructors inside a co_await expression.
    auto job = [p, record]() { return p->WriteSqlite(record); };
    auto op = OnPool<Status>(*impl.pool, std::move(job));
    auto written = co_await std::move(op);
    if (!written.ok()) co_return written;
    std::unique_lock lock(impl.mu);
    impl.id_to_digest[record.id] = record.digest_hex;
    impl.by_digest[record.digest_hex] = std::move(record);
    co_return OkStatus();
  }
  const std::string digest = record.digest_hex;
  std::vector<std::string> set_cmd = {
      "HSET", impl.RecordKey(digest), "record", ToStoredJson(record), "id", record.id};
  auto set = co_await impl.options.redis->Command(std::move(set_cmd));
  if (!set.ok()) co_return StoreDown("redis: " + set.error().message);
  if (set->is_error()) co_return StoreDown("redis: " + set->str);
  std::vector<std::string> index_cmd = {"HSET", impl.IndexKey(), record.id, digest};
  auto index = co_await impl.options.redis->Command(std::move(index_cmd));
  if (!index.ok()) co_return StoreDown("redis: " + index.error().message);
  if (index->is_error()) co_return StoreDown("redis: " + index->str);
  impl.Forget(digest);
  co_return OkStatus();
}

}  // namespace modelmux::govern
