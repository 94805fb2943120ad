#include "store/redis.hpp"

#include <openssl/evp.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>
#include <unordered_map>

#include "store/redis_node.hpp"

namespace modelmux::store {

using detail::Node;
using detail::Replies;
namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr size_t kSlots = 16384;

std::string Sha1Hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Commands whose second argument is not a key: sent to any node.
bool Keyless(const std::vector<std::string>& args) {
  if (args.size() < 2) return true;
  static const std::set<std::string> kNames{
      "PING",   "INFO",    "SCRIPT",  "CLUSTER", "CONFIG",   "DBSIZE", "FLUSHALL",  "FLUSHDB",
      "TIME",   "ECHO",    "CLIENT",  "COMMAND", "FUNCTION", "SCAN",   "RANDOMKEY", "LASTSAVE",
      "MEMORY", "SLOWLOG", "ACL",     "AUTH",    "SELECT",   "HELLO",  "WAIT",      "PUBLISH",
      "MULTI",  "EXEC",    "DISCARD", "ASKING",  "READONLY"};
  return kNames.count(Upper(args[0])) > 0;
}

// The key a command is routed by: args[1], or the first key of EVAL/EVALSHA/FCALL; none for
// keyless commands.
std::optional<std::string> KeyOf(const std::vector<std::string>& args) {
  if (Keyless(args)) return std::nullopt;
  const std::string name = Upper(args[0]);
  if (name == "EVAL" || name == "EVALSHA" || name == "EVAL_RO" || name == "EVALSHA_RO" ||
      name == "FCALL" || name == "FCALL_RO") {
    if (args.size() > 3 && args[2] != "0") return args[3];
    return std::nullopt;
  }
  return args[1];
}

}  // namespace

struct RedisClient::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(asio::any_io_executor ex, RedisOptions o)
      : shared(std::make_shared<detail::Shared>(ex, std::move(o))),
        cluster(shared->options.cluster) {}

  std::shared_ptr<detail::Shared> shared;
  std::atomic<bool> cluster;
  // Strand-only state.
  std::map<std::string, std::shared_ptr<Node>> nodes;  // by "host:port"
  std::vector<std::shared_ptr<Node>> slots;            // kSlots entries once a map is known
  bool topology_known = false;
  bool refreshing = false;
  std::unordered_map<std::string, std::string> sha1;  // script -> SHA1

  const RedisOptions& options() const { return shared->options; }

  std::shared_ptr<Node> NodeFor(const std::string& address) {
    auto& n = nodes[address];
    if (!n) n = std::make_shared<Node>(shared, address);
    return n;
  }

  std::shared_ptr<Node> AnyNode() {
    if (cluster) {
      for (const auto& n : slots) {
        if (n) return n;
      }
    }
    return NodeFor(options().seeds.front());
  }

  std::shared_ptr<Node> Route(const std::optional<std::string>& key) {
    if (!key || !cluster || slots.empty()) return AnyNode();
    auto n = slots[RedisHashSlot(*key)];
    return n ? n : AnyNode();
  }

  // CLUSTER SLOTS from the seeds, then from the other known nodes; installs the first answer.
  awaitable<Status> RefreshSlots() {
    std::vector<std::string> candidates = options().seeds;
    for (const auto& [addr, node] : nodes) {
      if (std::find(candidates.begin(), candidates.end(), addr) == candidates.end()) {
        candidates.push_back(addr);
      }
    }
    Error last = detail::RedisUnavailable("no redis node to ask for CLUSTER SLOTS");
    for (const auto& addr : candidates) {
      auto node = NodeFor(addr);
      std::string cmd = EncodeRespCommand(std::vector<std::string>{"CLUSTER", "SLOTS"});
      auto r = co_await node->Execute(std::move(cmd), 1);
      if (!r.ok()) {
        last = r.error();
        continue;
      }
      const RedisReply& reply = r->front();
      if (reply.type != RedisReply::Type::kArray) {
        last = detail::RedisUnavailable("CLUSTER SLOTS failed at " + addr + ": " + reply.str);
        continue;
      }
      std::vector<std::shared_ptr<Node>> table(kSlots);
      for (const auto& range : reply.elements) {
        if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) continue;
        const int64_t lo = range.elements[0].integer, hi = range.elements[1].integer;
        const auto& master = range.elements[2].elements;
        std::string host = master[0].str;
        if (host.empty() || host == "?") host = node->host();
        if (host.find(':') != std::string::npos) host = "[" + host + "]";
        auto owner = NodeFor(host + ":" + std::to_string(master[1].integer));
        for (int64_t s = std::max<int64_t>(lo, 0); s <= hi && s < int64_t{kSlots}; ++s) {
          table[static_cast<size_t>(s)] = owner;
        }
      }
      slots = std::move(table);
      cluster = true;
      topology_known = true;
      co_return OkStatus();
    }
    co_return last;
  }

  static awaitable<void> BackgroundRefresh(std::shared_ptr<Impl> self) {
    if (self->refreshing) co_return;
    self->refreshing = true;
    (void)co_await self->RefreshSlots();
    self->refreshing = false;
  }

  // First use: is this a cluster (INFO cluster), and if so which node owns which slot.
  awaitable<Status> EnsureTopology() {
    if (topology_known) co_return OkStatus();
    if (!cluster) {
      auto node = NodeFor(options().seeds.front());
      std::string cmd = EncodeRespCommand(std::vector<std::string>{"INFO", "cluster"});
      auto r = co_await node->Execute(std::move(cmd), 1);
      if (!r.ok()) co_return r.error();
      if (topology_known) co_return OkStatus();
      const RedisReply& info = r->front();
      if (info.type != RedisReply::Type::kString ||
          info.str.find("cluster_enabled:1") == std::string::npos) {
        topology_known = true;
        co_return OkStatus();
      }
      cluster = true;
    }
    co_return co_await RefreshSlots();
  }

  // A MOVED or ASK reply followed once; anything else returned as it is.
  awaitable<Result<RedisReply>> Follow(RedisReply reply, const std::vector<std::string>& args,
                                       const std::shared_ptr<Node>& from) {
    auto redirect = ParseRedirect(reply);
    if (!redirect) co_return reply;
    std::string address = redirect->address;
    if (address.front() == ':') address = from->host() + address;
    auto target = NodeFor(address);
    if (!redirect->ask) {
      ++shared->moved;
      cluster = true;
      if (slots.empty()) slots.resize(kSlots);
      slots[redirect->slot] = target;
      asio::co_spawn(shared->strand, BackgroundRefresh(shared_from_this()), asio::detached);
      auto r = co_await target->Execute(EncodeRespCommand(args), 1);
      if (!r.ok()) co_return r.error();
      co_return std::move(r->front());
    }
    ++shared->ask;
    std::string payload = EncodeRespCommand(std::vector<std::string>{"ASKING"});
    AppendRespCommand(payload, args);
    auto r = co_await target->Execute(std::move(payload), 2);
    if (!r.ok()) co_return r.error();
    co_return std::move((*r)[1]);
  }

  awaitable<Result<RedisReply>> Run(std::optional<std::string> key, std::vector<std::string> args) {
    MM_CO_RETURN_IF_ERROR(co_await EnsureTopology());
    auto node = Route(key);
    auto r = co_await node->Execute(EncodeRespCommand(args), 1);
    if (!r.ok()) co_return r.error();
    co_return co_await Follow(std::move(r->front()), args, node);
  }

  static awaitable<Result<RedisReply>> DoCommand(std::shared_ptr<Impl> self,
                                                 std::optional<std::string> key,
                                                 std::vector<std::string> args) {
    co_return co_await self->Run(std::move(key), std::move(args));
  }

  static awaitable<Result<RedisReply>> DoEval(std::shared_ptr<Impl> self, std::string script,
                                              std::vector<std::string> keys,
                                              std::vector<std::string> args) {
    auto& sha = self->sha1[script];
    if (sha.empty()) sha = Sha1Hex(script);
    std::vector<std::string> cmd{"EVALSHA", sha, std::to_string(keys.size())};
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.insert(cmd.end(), args.begin(), args.end());
    std::optional<std::string> key;
    if (!keys.empty()) key = keys.front();
    auto r = co_await self->Run(key, cmd);
    if (r.ok() && r->is_error() && r->str.rfind("NOSCRIPT", 0) == 0) {
      cmd[0] = "EVAL";
      cmd[1] = std::move(script);
      r = co_await self->Run(key, std::move(cmd));
    }
    co_return r;
  }

  static awaitable<Result<Replies>> DoPipeline(std::shared_ptr<Impl> self,
                                               std::vector<std::vector<std::string>> commands) {
    if (commands.empty()) co_return Replies{};
    MM_CO_RETURN_IF_ERROR(co_await self->EnsureTopology());
    std::optional<std::string> key;  // the first command with a key (MULTI has none)
    for (const auto& c : commands) {
      key = KeyOf(c);
      if (key) break;
    }
    auto node = self->Route(key);
    std::string payload;
    for (const auto& c : commands) AppendRespCommand(payload, c);
    auto r = co_await node->Execute(std::move(payload), commands.size());
    if (!r.ok()) co_return r.error();
    for (size_t i = 0; i < r->size(); ++i) {
      if (!ParseRedirect((*r)[i])) continue;
      auto followed = co_await self->Follow(std::move((*r)[i]), commands[i], node);
      if (!followed.ok()) co_return followed.error();
      (*r)[i] = std::move(followed).value();
    }
    co_return std::move(r).value();
  }

  static awaitable<Result<std::vector<std::string>>> DoMasters(std::shared_ptr<Impl> self) {
    MM_CO_RETURN_IF_ERROR(co_await self->EnsureTopology());
    std::vector<std::string> out;
    if (!self->cluster || self->slots.empty()) {
      out.push_back(self->options().seeds.front());
      co_return out;
    }
    std::set<std::string> seen;
    for (const auto& n : self->slots) {
      if (n && seen.insert(n->address()).second) out.push_back(n->address());
    }
    co_return out;
  }

  static awaitable<Result<Replies>> DoOnNode(std::shared_ptr<Impl> self, std::string address,
                                             std::vector<std::vector<std::string>> commands) {
    if (commands.empty()) co_return Replies{};
    std::string payload;
    for (const auto& c : commands) AppendRespCommand(payload, c);
    co_return co_await self->NodeFor(address)->Execute(std::move(payload), commands.size());
  }

  void Shutdown() {
    for (auto& [addr, node] : nodes) node->Shutdown();
  }
};

RedisClient::RedisClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RedisClient::~RedisClient() {
  // Sockets belong to the strand: close them there.
  asio::post(impl_->shared->strand, [impl = impl_] { impl->Shutdown(); });
}

std::shared_ptr<RedisClient> RedisClient::Create(asio::any_io_executor ex, RedisOptions options) {
  if (options.seeds.empty()) options.seeds.push_back("127.0.0.1:6379");
  if (options.seeds.size() > 1) options.cluster = true;
  auto impl = std::make_shared<Impl>(ex, std::move(options));
  return std::shared_ptr<RedisClient>(new RedisClient(std::move(impl)));
}

awaitable<Result<RedisReply>> RedisClient::Command(std::vector<std::string> args) {
  ++impl_->shared->commands;
  if (args.empty()) co_return InvalidRequest("empty redis command");
  std::optional<std::string> key = KeyOf(args);
  co_return co_await asio::co_spawn(impl_->shared->strand,
                                    Impl::DoCommand(impl_, std::move(key), std::move(args)),
                                    asio::use_awaitable);
}

awaitable<Result<RedisReply>> RedisClient::CommandForKey(std::string key,
                                                         std::vector<std::string> args) {
  ++impl_->shared->commands;
  if (args.empty()) co_return InvalidRequest("empty redis command");
  co_return co_await asio::co_spawn(impl_->shared->strand,
                                    Impl::DoCommand(impl_, std::move(key), std::move(args)),
                                    asio::use_awaitable);
}

awaitable<Result<RedisReply>> RedisClient::Eval(std::string script, std::vector<std::string> keys,
                                                std::vector<std::string> args) {
  ++impl_->shared->commands;
  co_return co_await asio::co_spawn(
      impl_->shared->strand,
      Impl::DoEval(impl_, std::move(script), std::move(keys), std::move(args)),
      asio::use_awaitable);
}

awaitable<Result<Replies>> RedisClient::Pipeline(std::vector<std::vector<std::string>> commands) {
  impl_->shared->commands += commands.size();
  for (const auto& c : commands) {
    if (c.empty()) co_return InvalidRequest("empty redis command in pipeline");
  }
  co_return co_await asio::co_spawn(
      impl_->shared->strand, Impl::DoPipeline(impl_, std::move(commands)), asio::use_awaitable);
}

awaitable<Result<std::vector<std::string>>> RedisClient::Masters() {
  co_return co_await asio::co_spawn(impl_->shared->strand, Impl::DoMasters(impl_),
                                    asio::use_awaitable);
}

awaitable<Result<Replies>> RedisClient::PipelineOnNode(
    std::string node, std::vector<std::vector<std::string>> commands) {
  impl_->shared->commands += commands.size();
  co_return co_await asio::co_spawn(impl_->shared->strand,
                                    Impl::DoOnNode(impl_, std::move(node), std::move(commands)),
                                    asio::use_awaitable);
}

bool RedisClient::healthy() const {
  return impl_->shared->open_breakers.load() == 0;
}

bool RedisClient::cluster() const {
  return impl_->cluster.load();
}

RedisClient::Stats RedisClient::stats() const {
  const auto& s = *impl_->shared;
  return Stats{s.commands.load(), s.errors.load(), s.timeouts.load(),  s.breaker_opens.load(),
               s.moved.load(),    s.ask.load(),    s.reconnects.load()};
}

}  // namespace modelmux::store
