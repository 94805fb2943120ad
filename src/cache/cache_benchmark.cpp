// Micro benchmarks of the cache backends: a Get hit (16 KiB value) and Put throughput, on memory
// and on SQLite. Each benchmark runs its loop inside one coroutine on a private io_context, so a
// SQLite Get includes the hop to a reader thread and back.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "cache/memory.hpp"
#include "cache/sqlite.hpp"

namespace {

namespace asio = boost::asio;
using modelmux::cache::Backend;
using modelmux::cache::Entry;
using modelmux::cache::MemoryBackend;
using modelmux::cache::SqliteBackend;
using modelmux::cache::SqliteOptions;

constexpr size_t kValueBytes = 16 * 1024;
constexpr int kKeys = 1024;

Entry MakeEntry() {
  Entry e;
  e.meta.ns = "default";
  e.meta.model = "sim/echo";
  e.meta.provider = "sim";
  e.meta.created_unix_ms = 1;
  e.meta.expires_unix_ms = 0;
  e.value = std::string(kValueBytes, 'v');
  return e;
}

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) {
    // The shape of a real key: 64 hex digits.
    std::string k = std::to_string(i);
    keys.push_back(std::string(64 - k.size(), '0') + k);
  }
  return keys;
}

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "mm-cache-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

asio::awaitable<void> GetLoop(benchmark::State& state, Backend& backend,
                              const std::vector<std::string>& keys) {
  size_t i = 0;
  int64_t misses = 0;
  for (auto _ : state) {
    auto got = co_await backend.Get(keys[i++ % keys.size()]);
    if (!got.ok() || !got->has_value()) ++misses;
    benchmark::DoNotOptimize(got);
  }
  state.counters["misses"] = static_cast<double>(misses);
}

asio::awaitable<void> PutLoop(benchmark::State& state, Backend& backend,
                              const std::vector<std::string>& keys, const Entry& entry) {
  size_t i = 0;
  int64_t refused = 0;
  for (auto _ : state) {
    auto put = co_await backend.Put(keys[i++ % keys.size()], entry);
    if (!put.ok()) ++refused;
  }
  state.counters["refused"] = static_cast<double>(refused);
}

void RunLoop(asio::awaitable<void> loop) {
  asio::io_context io;
  asio::co_spawn(io, std::move(loop), asio::detached);
  io.run();
}

void SetThroughput(benchmark::State& state) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kValueBytes));
}

void BM_MemoryGetHit(benchmark::State& state) {
  MemoryBackend mem(size_t{256} << 20);
  const auto keys = Keys();
  for (const auto& k : keys) mem.PutNow(k, MakeEntry());
  RunLoop(GetLoop(state, mem, keys));
  SetThroughput(state);
}
BENCHMARK(BM_MemoryGetHit);

void BM_MemoryPut(benchmark::State& state) {
  MemoryBackend mem(size_t{256} << 20);
  const auto keys = Keys();
  const Entry entry = MakeEntry();
  RunLoop(PutLoop(state, mem, keys, entry));
  SetThroughput(state);
}
BENCHMARK(BM_MemoryPut);

// Written and closed first, then reopened: every Get reads the file through the reader pool.
void BM_SqliteGetHit(benchmark::State& state) {
  const std::string dir = TempDir();
  const std::string path = SqliteBackend::DefaultPath(dir);
  const auto keys = Keys();
  {
    auto db = std::move(SqliteBackend::Open(path, SqliteOptions{})).value();
    asio::io_context io;
    asio::co_spawn(
        io,
        [](SqliteBackend& b, const std::vector<std::string>& ks) -> asio::awaitable<void> {
          for (const auto& k : ks) (void)co_await b.Put(k, MakeEntry());
        }(*db, keys),
        asio::detached);
    io.run();
  }
  auto db = std::move(SqliteBackend::Open(path, SqliteOptions{})).value();
  RunLoop(GetLoop(state, *db, keys));
  SetThroughput(state);
  db.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SqliteGetHit)->UseRealTime();

// Put returns once queued: this is the cost on the caller's loop.
void BM_SqlitePutQueued(benchmark::State& state) {
  const std::string dir = TempDir();
  auto db =
      std::move(SqliteBackend::Open(SqliteBackend::DefaultPath(dir), SqliteOptions{})).value();
  const auto keys = Keys();
  const Entry entry = MakeEntry();
  RunLoop(PutLoop(state, *db, keys, entry));
  SetThroughput(state);
  db.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SqlitePutQueued)->UseRealTime();

// Batches of 256 Puts, each followed by Flush: the sustained rate the writer commits.
void BM_SqlitePutCommitted(benchmark::State& state) {
  const std::string dir = TempDir();
  auto db =
      std::move(SqliteBackend::Open(SqliteBackend::DefaultPath(dir), SqliteOptions{})).value();
  const auto keys = Keys();
  const Entry entry = MakeEntry();
  asio::io_context io;
  size_t i = 0;
  int64_t refused = 0;
  for (auto _ : state) {
    asio::co_spawn(
        io,
        [](SqliteBackend& b, const std::vector<std::string>& ks, const Entry& e, size_t first,
           int64_t& bad) -> asio::awaitable<void> {
          for (size_t n = 0; n < 256; ++n) {
            if (!(co_await b.Put(ks[(first + n) % ks.size()], e)).ok()) ++bad;
          }
        }(*db, keys, entry, i, refused),
        asio::detached);
    io.restart();
    io.run();
    db->Flush();
    i += 256;
  }
  state.counters["refused"] = static_cast<double>(refused);
  state.SetItemsProcessed(state.iterations() * 256);
  state.SetBytesProcessed(state.iterations() * 256 * static_cast<int64_t>(kValueBytes));
  db.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SqlitePutCommitted)->UseRealTime();

}  // namespace
