#include "cache/redis_backend.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <charconv>
#include <chrono>
#include <map>

namespace modelmux::cache {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using store::RedisReply;

constexpr size_t kScanCount = 500;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ToInt(const std::string& s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string GlobEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The metadata fields, in the order HMGET asks for them.
const std::vector<std::string> kMetaFields{"ns",      "model", "provider", "stream", "created",
                                           "expires", "pt",    "ct",       "cost",   "cur"};

EntryMeta MetaFrom(const std::vector<const std::string*>& v) {
  EntryMeta m;
  m.ns = *v[0];
  m.model = *v[1];
  m.provider = *v[2];
  m.stream = *v[3] == "1";
  m.created_unix_ms = ToInt(*v[4]);
  m.expires_unix_ms = ToInt(*v[5]);
  m.prompt_tokens = ToInt(*v[6]);
  m.completion_tokens = ToInt(*v[7]);
  m.cost = v[8]->empty() ? 0 : std::strtod(v[8]->c_str(), nullptr);
  m.currency = *v[9];
  return m;
}

bool Matches(const Filter& f, const EntryMeta& m, int64_t now_ms) {
  if (f.model && m.model != *f.model) return false;
  if (f.ns && m.ns != *f.ns) return false;
  if (f.created_before_unix_ms && m.created_unix_ms >= *f.created_before_unix_ms) return false;
  if (f.expired_only && (m.expires_unix_ms == 0 || m.expires_unix_ms > now_ms)) return false;
  return true;
}

Error BadReply(const RedisReply& r) {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.code = "redis_error";
  e.message =
      "redis answered: " + (r.type == RedisReply::Type::kError ? r.str : "unexpected reply");
  return e;
}

awaitable<void> Bump(std::shared_ptr<store::RedisClient> client, std::string key,
                     std::string field) {
  std::vector<std::string> cmd{"HINCRBY", std::move(key), std::move(field), "1"};
  (void)co_await client->Command(std::move(cmd));
}

}  // namespace

RedisBackend::RedisBackend(std::shared_ptr<store::RedisClient> client, std::string key_prefix)
    : client_(std::move(client)), prefix_(std::move(key_prefix) + "v1:") {}

std::string RedisBackend::RedisKey(std::string_view key) const {
  return prefix_ + "e:" + std::string(key);
}

awaitable<Result<std::optional<Entry>>> RedisBackend::Get(std::string key) {
  std::vector<std::string> cmd{"HGETALL", RedisKey(key)};
  auto r = co_await client_->Command(std::move(cmd));
  if (!r.ok()) {
    ++errors_;
    co_return r.error();
  }
  if (r->type != RedisReply::Type::kArray) {
    ++errors_;
    co_return BadReply(*r);
  }
  auto ex = co_await asio::this_coro::executor;
  if (r->elements.empty()) {
    asio::co_spawn(ex, Bump(client_, prefix_ + "stats", "misses"), asio::detached);
    co_return std::optional<Entry>();
  }
  static const std::string kEmpty;
  std::vector<const std::string*> meta(kMetaFields.size(), &kEmpty);
  Entry e;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    const std::string& field = r->elements[i].str;
    if (field == "v") {
      e.value = std::move(r->elements[i + 1].str);
      continue;
    }
    for (size_t j = 0; j < kMetaFields.size(); ++j) {
      if (field == kMetaFields[j]) meta[j] = &r->elements[i + 1].str;
    }
  }
  e.meta = MetaFrom(meta);
  if (e.meta.expires_unix_ms != 0 && e.meta.expires_unix_ms <= NowMs()) {
    asio::co_spawn(ex, Bump(client_, prefix_ + "stats", "misses"), asio::detached);
    co_return std::optional<Entry>();  // Redis' own expiry has not run yet
  }
  asio::co_spawn(ex, Bump(client_, prefix_ + "stats", "hits"), asio::detached);
  co_return std::optional<Entry>(std::move(e));
}

awaitable<Status> RedisBackend::Put(std::string key, Entry entry) {
  const std::string rk = RedisKey(key);
  const auto& m = entry.meta;
  std::vector<std::string> hset{"HSET",     rk,
                                "v",        std::move(entry.value),
                                "ns",       m.ns,
                                "model",    m.model,
                                "provider", m.provider,
                                "stream",   m.stream ? "1" : "0",
                                "created",  std::to_string(m.created_unix_ms),
                                "expires",  std::to_string(m.expires_unix_ms),
                                "pt",       std::to_string(m.prompt_tokens),
                                "ct",       std::to_string(m.completion_tokens),
                                "cost",     std::to_string(m.cost),
                                "cur",      m.currency};
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back({"MULTI"});
  cmds.push_back({"DEL", rk});
  cmds.push_back(std::move(hset));
  if (m.expires_unix_ms > 0) {
    cmds.push_back({"PEXPIREAT", rk, std::to_string(m.expires_unix_ms)});
  }
  cmds.push_back({"EXEC"});
  auto r = co_await client_->Pipeline(std::move(cmds));
  if (!r.ok()) {
    ++errors_;
    co_return r.error();
  }
  const RedisReply& exec = r->back();
  if (exec.type != RedisReply::Type::kArray) {
    ++errors_;
    co_return BadReply(exec);
  }
  for (const auto& each : exec.elements) {
    if (each.is_error()) co_return BadReply(each);
  }
  co_return OkStatus();
}

awaitable<Status> RedisBackend::Erase(std::string key) {
  std::vector<std::string> cmd{"DEL", RedisKey(key)};
  auto r = co_await client_->Command(std::move(cmd));
  if (!r.ok()) {
    ++errors_;
    co_return r.error();
  }
  if (r->is_error()) co_return BadReply(*r);
  co_return OkStatus();
}

awaitable<Result<std::vector<RedisBackend::Scanned>>> RedisBackend::Scan(Filter filter,
                                                                         size_t limit) {
  auto masters = co_await client_->Masters();
  if (!masters.ok()) {
    ++errors_;
    co_return masters.error();
  }
  const std::string pattern = GlobEscape(prefix_ + "e:") + "*";
  const size_t strip = prefix_.size() + 2;
  const int64_t now = NowMs();
  std::vector<Scanned> out;
  for (const auto& node : *masters) {
    std::string cursor = "0";
    do {
      std::vector<std::vector<std::string>> scan{
          {"SCAN", cursor, "MATCH", pattern, "COUNT", std::to_string(kScanCount)}};
      auto r = co_await client_->PipelineOnNode(node, std::move(scan));
      if (!r.ok()) {
        ++errors_;
        co_return r.error();
      }
      const RedisReply& page = r->front();
      if (page.type != RedisReply::Type::kArray || page.elements.size() != 2) {
        co_return BadReply(page);
      }
      cursor = page.elements[0].str;
      const auto& keys = page.elements[1].elements;
      if (keys.empty()) continue;
      std::vector<std::vector<std::string>> cmds;
      for (const auto& k : keys) {
        std::vector<std::string> hmget{"HMGET", k.str};
        hmget.insert(hmget.end(), kMetaFields.begin(), kMetaFields.end());
        cmds.push_back(std::move(hmget));
        cmds.push_back({"HSTRLEN", k.str, "v"});
      }
      auto details = co_await client_->PipelineOnNode(node, std::move(cmds));
      if (!details.ok()) {
        ++errors_;
        co_return details.error();
      }
      for (size_t i = 0; i < keys.size(); ++i) {
        const RedisReply& fields = (*details)[2 * i];
        if (fields.type != RedisReply::Type::kArray ||
            fields.elements.size() != kMetaFields.size() || fields.elements[1].is_nil()) {
          continue;  // gone meanwhile
        }
        std::vector<const std::string*> meta;
        for (const auto& f : fields.elements) meta.push_back(&f.str);
        Scanned s;
        s.meta = MetaFrom(meta);
        if (!Matches(filter, s.meta, now)) continue;
        s.node = node;
        s.key = keys[i].str.substr(std::min(strip, keys[i].str.size()));
        s.bytes = static_cast<size_t>((*details)[2 * i + 1].integer);
        out.push_back(std::move(s));
        if (out.size() >= limit) co_return out;
      }
    } while (cursor != "0");
  }
  co_return out;
}

awaitable<Result<std::vector<ListedEntry>>> RedisBackend::List(Filter filter) {
  const size_t limit = filter.limit;
  auto scanned = co_await Scan(std::move(filter), limit);
  if (!scanned.ok()) co_return scanned.error();
  std::vector<ListedEntry> out;
  for (auto& s : *scanned) out.push_back(ListedEntry{std::move(s.key), std::move(s.meta), s.bytes});
  co_return out;
}

awaitable<Result<uint64_t>> RedisBackend::Purge(Filter filter) {
  auto scanned = co_await Scan(std::move(filter), SIZE_MAX);
  if (!scanned.ok()) co_return scanned.error();
  uint64_t removed = 0;
  // One pipeline of DELs per node (a node answers for every slot it owns).
  std::map<std::string, std::vector<std::vector<std::string>>> by_node;
  for (const auto& s : *scanned) by_node[s.node].push_back({"DEL", RedisKey(s.key)});
  for (auto& [node, dels] : by_node) {
    auto r = co_await client_->PipelineOnNode(node, std::move(dels));
    if (!r.ok()) {
      ++errors_;
      co_return r.error();
    }
    for (const auto& each : *r)
      removed += static_cast<uint64_t>(std::max<int64_t>(0, each.integer));
  }
  co_return removed;
}

awaitable<Result<BackendStats>> RedisBackend::Stats() {
  BackendStats st;
  auto scanned = co_await Scan(Filter{}, SIZE_MAX);
  if (!scanned.ok()) {
    st.errors = errors_.load();
    co_return scanned.error();
  }
  st.entries = scanned->size();
  for (const auto& s : *scanned) st.bytes += s.bytes;
  std::vector<std::string> cmd{"HMGET", prefix_ + "stats", "hits", "misses"};
  auto r = co_await client_->Command(std::move(cmd));
  if (!r.ok()) {
    ++errors_;
    co_return r.error();
  }
  if (r->type == RedisReply::Type::kArray && r->elements.size() == 2) {
    st.hits = static_cast<uint64_t>(ToInt(r->elements[0].str));
    st.misses = static_cast<uint64_t>(ToInt(r->elements[1].str));
  }
  st.errors = errors_.load();
  co_return st;
}

}  // namespace modelmux::cache
