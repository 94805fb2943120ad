#include "resilience/shared_window.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "store/redis.hpp"

namespace modelmux::resilience {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// The GCRA schedule of RateLimiter, in Redis. KEYS: request TAT, token TAT (microseconds since
// the epoch). ARGV: now_us ("" = the server's TIME), request interval us, token interval us per
// token (a float), tokens, max_wait us, ttl ms. Returns {admitted, wait_or_retry_us}.
constexpr const char* kPacedScript = R"lua(
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local ri = tonumber(ARGV[2])
local ti = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local maxw = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local start = now
if ri > 0 then
  local rt = tonumber(redis.call('GET', KEYS[1]) or '0')
  if rt > start then start = rt end
end
if ti > 0 then
  local tt = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tt > start then start = tt end
end
local wait = start - now
if wait > maxw then return {0, wait - maxw} end
if ri > 0 then
  redis.call('SET', KEYS[1], string.format('%d', start + ri), 'PX', ttl)
end
if ti > 0 then
  redis.call('SET', KEYS[2], string.format('%d', start + math.floor(ti * tokens)), 'PX', ttl)
end
return {1, wait}
)lua";

// Moves existing TATs back by ARGV[1] (KEYS[1]) and ARGV[2] (KEYS[2]) microseconds; missing
// (expired) keys stay missing.
constexpr const char* kPacedAdjustScript = R"lua(
for i = 1, 2 do
  local d = tonumber(ARGV[i])
  if d ~= 0 then
    local v = redis.call('GET', KEYS[i])
    if v then redis.call('SET', KEYS[i], string.format('%d', tonumber(v) - d), 'KEEPTTL') end
  end
end
return 1
)lua";

// The sliding log. KEYS: log (zset uid -> time us), tokens (hash uid -> tokens), sum (string).
// ARGV: now_us, window_us, rpm, tpm, tokens, uid, ttl_ms. Returns {admitted, retry_us, by_tokens}.
constexpr const char* kSlidingScript = R"lua(
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local ttl = tonumber(ARGV[7])
local cutoff = string.format('%d', now - win)
local sum = tonumber(redis.call('GET', KEYS[3]) or '0')
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
for _, id in ipairs(old) do
  sum = sum - tonumber(redis.call('HGET', KEYS[2], id) or '0')
  redis.call('HDEL', KEYS[2], id)
end
if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff) end
if sum < 0 then sum = 0 end
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then sum = 0 end
redis.call('SET', KEYS[3], string.format('%d', sum), 'PX', ttl)
if rpm > 0 and n + 1 > rpm then
  local blocking = redis.call('ZRANGE', KEYS[1], n - rpm, n - rpm, 'WITHSCORES')
  return {0, tonumber(blocking[2]) + win - now, 0}
end
if tpm > 0 and n > 0 and sum + tokens > tpm then
  local need = sum + tokens - tpm
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local freed = 0
  local at = now
  for i = 1, #entries, 2 do
    freed = freed + tonumber(redis.call('HGET', KEYS[2], entries[i]) or '0')
    at = tonumber(entries[i + 1])
    if freed >= need then break end
  end
  return {0, at + win - now, 1}
end
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[6])
redis.call('HSET', KEYS[2], ARGV[6], tokens)
redis.call('SET', KEYS[3], string.format('%d', sum + tokens), 'PX', ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {1, 0, 0}
)lua";

// Settle (ARGV[2] = actual tokens) or release (ARGV[2] = "release") one entry of the log.
constexpr const char* kSlidingAdjustScript = R"lua(
local t = redis.call('HGET', KEYS[2], ARGV[1])
if not t then return 0 end
local delta
if ARGV[2] == 'release' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  delta = -tonumber(t)
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  delta = tonumber(ARGV[2]) - tonumber(t)
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local s = tonumber(redis.call('GET', KEYS[3])) + delta
  if s < 0 then s = 0 end
  redis.call('SET', KEYS[3], string.format('%d', s), 'KEEPTTL')
end
return 1
)lua";

milliseconds CeilMs(int64_t us) {
  return std::chrono::ceil<milliseconds>(microseconds(std::max<int64_t>(us, 0)));
}

std::vector<std::string> Args2(std::string a, std::string b) {
  std::vector<std::string> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  return v;
}

int64_t ReplyInt(const store::RedisReply& r) {
  if (r.type == store::RedisReply::Type::kInteger) return r.integer;
  if (r.type == store::RedisReply::Type::kString) return std::atoll(r.str.c_str());
  return 0;
}

// The schedule's pace, as RateLimiter computes it (window * 1.01 / limit).
int64_t RequestIntervalUs(const RateLimits& l) {
  if (l.rpm == 0) return 0;
  const int64_t w = std::chrono::duration_cast<microseconds>(l.window).count();
  const int64_t paced = w + w / 100;
  const auto rpm = static_cast<int64_t>(l.rpm);
  return (paced + rpm - 1) / rpm;
}

double TokenIntervalUs(const RateLimits& l) {
  if (l.tpm == 0) return 0;
  const int64_t w = std::chrono::duration_cast<microseconds>(l.window).count();
  return static_cast<double>(w + w / 100) / static_cast<double>(l.tpm);
}

}  // namespace

std::shared_ptr<SharedWindow> SharedWindow::Create(std::shared_ptr<store::RedisClient> redis,
                                                   SharedWindowOptions options) {
  return std::shared_ptr<SharedWindow>(new SharedWindow(std::move(redis), std::move(options)));
}

SharedWindow::SharedWindow(std::shared_ptr<store::RedisClient> redis, SharedWindowOptions options)
    : redis_(std::move(redis)), options_(std::move(options)), paced_(options_.limits) {
  std::random_device rd;
  id_salt_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

SharedWindow::~SharedWindow() = default;

std::vector<std::string> SharedWindow::PacedKeys() const {
  std::vector<std::string> v;
  v.push_back(KeyName("req"));
  v.push_back(KeyName("tok"));
  return v;
}

std::vector<std::string> SharedWindow::SlidingKeys() const {
  std::vector<std::string> v;
  v.push_back(KeyName("log"));
  v.push_back(KeyName("tokens"));
  v.push_back(KeyName("sum"));
  return v;
}

std::string SharedWindow::KeyName(std::string_view part) const {
  return options_.prefix + ":" + options_.scope + ":{" + options_.id + "}:" + std::string(part);
}

SharedWindow::Stats SharedWindow::stats() const {
  return {shared_.load(), fallbacks_.load(), refused_.load()};
}

std::string SharedWindow::NewId() {
  uint64_t n;
  {
    std::lock_guard lock(mu_);
    n = ++next_id_;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%llx", static_cast<unsigned long long>(id_salt_),
                static_cast<unsigned long long>(n));
  return buf;
}

int64_t SharedWindow::NowMicros() const {
  const auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<microseconds>(now.time_since_epoch()).count();
}

SharedWindow::Ticket SharedWindow::LocalReserve(int64_t tokens) {
  Ticket t;
  t.tokens = tokens;
  if (options_.mode == SharedWindowOptions::Mode::kPaced) {
    auto p = paced_.Reserve(tokens, RateLimiter::Clock::now());
    t.admitted = p.admitted;
    t.wait = p.wait;
    t.retry_after = p.retry_after;
    return t;
  }
  const auto& l = options_.limits;
  const int64_t now = NowMicros();
  const int64_t win = std::chrono::duration_cast<microseconds>(l.window).count();
  std::lock_guard lock(mu_);
  while (!log_.empty() && log_.front().at_us <= now - win) {
    log_tokens_ -= log_.front().tokens;
    log_.pop_front();
  }
  if (log_.empty()) log_tokens_ = 0;
  const auto n = static_cast<int64_t>(log_.size());
  if (l.rpm > 0 && n + 1 > static_cast<int64_t>(l.rpm)) {
    t.retry_after =
        CeilMs(log_[static_cast<size_t>(n - static_cast<int64_t>(l.rpm))].at_us + win - now);
    return t;
  }
  if (l.tpm > 0 && n > 0 && log_tokens_ + tokens > static_cast<int64_t>(l.tpm)) {
    const int64_t need = log_tokens_ + tokens - static_cast<int64_t>(l.tpm);
    int64_t freed = 0, at = now;
    for (const auto& e : log_) {
      freed += e.tokens;
      at = e.at_us;
      if (freed >= need) break;
    }
    t.retry_after = CeilMs(at + win - now);
    t.by_tokens = true;
    return t;
  }
  t.id = "l" + std::to_string(++next_id_);
  log_.push_back({now, tokens, t.id});
  log_tokens_ += tokens;
  t.admitted = true;
  return t;
}

void SharedWindow::LocalSettle(const Ticket& t, int64_t actual) {
  if (options_.mode == SharedWindowOptions::Mode::kPaced) {
    paced_.Settle(t.tokens, actual);
    return;
  }
  std::lock_guard lock(mu_);
  for (auto& e : log_) {
    if (e.id != t.id) continue;
    log_tokens_ += actual - e.tokens;
    e.tokens = actual;
    return;
  }
}

void SharedWindow::LocalRelease(const Ticket& t) {
  if (options_.mode == SharedWindowOptions::Mode::kPaced) {
    paced_.Release(t.tokens);
    return;
  }
  std::lock_guard lock(mu_);
  for (auto it = log_.begin(); it != log_.end(); ++it) {
    if (it->id != t.id) continue;
    log_tokens_ -= it->tokens;
    log_.erase(it);
    return;
  }
}

boost::asio::awaitable<SharedWindow::Ticket> SharedWindow::Reserve(int64_t tokens) {
  tokens = std::max<int64_t>(tokens, 0);
  Ticket t;
  t.tokens = tokens;
  if (!limited()) {
    t.admitted = true;
    co_return t;
  }
  if (!redis_) {
    t = LocalReserve(tokens);
    if (!t.admitted) ++refused_;
    co_return t;
  }
  const auto& l = options_.limits;
  const int64_t ttl_ms = l.window.count() + l.max_wait.count() + 1000;
  Result<store::RedisReply> r;
  if (options_.mode == SharedWindowOptions::Mode::kPaced) {
    char ti[64];
    std::snprintf(ti, sizeof ti, "%.6f", TokenIntervalUs(l));
    const std::string now = options_.clock ? std::to_string(NowMicros()) : std::string();
    std::vector<std::string> keys = PacedKeys();
    std::vector<std::string> args{
        now,
        std::to_string(RequestIntervalUs(l)),
        ti,
        std::to_string(tokens),
        std::to_string(std::chrono::duration_cast<microseconds>(l.max_wait).count()),
        std::to_string(ttl_ms)};
    r = co_await redis_->Eval(kPacedScript, std::move(keys), std::move(args));
  } else {
    t.id = NewId();
    std::vector<std::string> keys = SlidingKeys();
    std::vector<std::string> args{
        std::to_string(NowMicros()),
        std::to_string(std::chrono::duration_cast<microseconds>(l.window).count()),
        std::to_string(l.rpm),
        std::to_string(l.tpm),
        std::to_string(tokens),
        t.id,
        std::to_string(l.window.count() + 1000)};
    r = co_await redis_->Eval(kSlidingScript, std::move(keys), std::move(args));
  }
  if (!r.ok() || r->type != store::RedisReply::Type::kArray || r->elements.size() < 2) {
    ++fallbacks_;
    t = LocalReserve(tokens);
    if (!t.admitted) ++refused_;
    co_return t;
  }
  ++shared_;
  t.shared = true;
  t.admitted = ReplyInt(r->elements[0]) == 1;
  const int64_t us = ReplyInt(r->elements[1]);
  if (t.admitted) {
    t.wait = CeilMs(us);
  } else {
    ++refused_;
    t.retry_after = std::max(CeilMs(us), milliseconds(1));
    t.by_tokens = r->elements.size() > 2 && ReplyInt(r->elements[2]) == 1;
  }
  co_return t;
}

boost::asio::awaitable<void> SharedWindow::Adjust(const char* script, std::vector<std::string> keys,
                                                  std::vector<std::string> args) {
  auto r = co_await redis_->Eval(script, std::move(keys), std::move(args));
  if (!r.ok()) ++fallbacks_;  // the adjustment is lost; the window's keys expire soon
}

boost::asio::awaitable<void> SharedWindow::Settle(Ticket t, int64_t actual_tokens) {
  actual_tokens = std::max<int64_t>(actual_tokens, 0);
  if (!t.admitted || !limited() || actual_tokens == t.tokens) co_return;
  if (!t.shared) {
    LocalSettle(t, actual_tokens);
    co_return;
  }
  if (options_.mode == SharedWindowOptions::Mode::kPaced) {
    if (options_.limits.tpm == 0) co_return;
    const auto d = static_cast<int64_t>(std::llround(
        TokenIntervalUs(options_.limits) * static_cast<double>(t.tokens - actual_tokens)));
    co_await Adjust(kPacedAdjustScript, PacedKeys(), Args2("0", std::to_string(d)));
  } else {
    co_await Adjust(kSlidingAdjustScript, SlidingKeys(),
                    Args2(t.id, std::to_string(actual_tokens)));
  }
}

boost::asio::awaitable<void> SharedWindow::Release(Ticket t) {
  if (!t.admitted || !limited()) co_return;
  if (!t.shared) {
    LocalRelease(t);
    co_return;
  }
  if (options_.mode == SharedWindowOptions::Mode::kPaced) {
    const auto d = static_cast<int64_t>(
        std::llround(TokenIntervalUs(options_.limits) * static_cast<double>(t.tokens)));
    co_await Adjust(kPacedAdjustScript, PacedKeys(),
                    Args2(std::to_string(RequestIntervalUs(options_.limits)), std::to_string(d)));
  } else {
    co_await Adjust(kSlidingAdjustScript, SlidingKeys(), Args2(t.id, "release"));
  }
}

}  // namespace modelmux::resilience
