#pragma once
// The subcommands of the modelmux binary: flags and entry points.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/runtime.hpp"
#include "telemetry/ledger.hpp"
#include "telemetry/metrics.hpp"

namespace modelmux::cli {

struct ServeArgs {
  ConfigOverrides config;
  unsigned threads = 0;
  bool no_access_log = false;
  std::string tls_cert;     // --tls-cert or MODELMUX_TLS_CERT: PEM chain; TLS with tls_key
  std::string tls_key;      // --tls-key or MODELMUX_TLS_KEY
  bool log_bodies = false;  // --log-bodies: telemetry.log_bodies on
  bool no_ledger = false;   // --no-ledger: telemetry.ledger off
  std::string prices_file;  // --prices: telemetry.prices_file
};
void AddServeFlags(CLI::App& cmd, ServeArgs& args);
int RunServe(const ServeArgs& args);

struct SimArgs {
  std::string host = "127.0.0.1";
  int port = 9090;
  unsigned threads = 0;
  int64_t ttft_ms = 0, latency_ms = 0, rpm = 0, tpm = 0, window_s = 60;
  double tokens_per_s = 0, fail_rate = 0;
  std::optional<uint64_t> seed;
  int fail_status = 500;
  std::optional<double> retry_after;
  std::optional<int64_t> retry_after_ms;
  std::string require_key;
};
void AddSimFlags(CLI::App& cmd, SimArgs& args);
int RunSim(const SimArgs& args);

struct ChatArgs {
  ConfigOverrides config;
  std::string model = "sim/echo";
  std::string system;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  bool stream = false;
  bool json = false;
  std::vector<std::string> images;  // files or URLs
  std::vector<std::string> videos;
  std::string detail;
  bool show_media = false;       // print what the media stage did (stderr)
  bool split_sentences = false;  // the split_sentences extension (docs/TEXT.md)
  std::string context;           // the context extension: text, or @FILE
  std::string prompt;
};
void AddChatFlags(CLI::App& cmd, ChatArgs& args);
int RunChat(const ChatArgs& args);

struct DescribeArgs {
  ConfigOverrides config;
  std::string media;  // a file or a URL
  std::string task = "caption";
  std::string question;
  std::string model;
  std::string language;
  std::optional<int64_t> max_tokens;
  bool video = false;  // set by --video, or when the file is sniffed as a video
  bool json = false;
};
void AddDescribeFlags(CLI::App& cmd, DescribeArgs& args);
int RunDescribe(const DescribeArgs& args);

struct TokensArgs {
  std::string file;  // a path, or "-" for standard input
  std::string model = "gpt-4o";
  bool split = false;
  bool json = false;
};
void AddTokensFlags(CLI::App& cmd, TokensArgs& args);
int RunTokens(const TokensArgs& args);

struct ProvidersArgs {
  ConfigOverrides config;
  bool json = false;
};
void AddProvidersFlags(CLI::App& cmd, ProvidersArgs& args);
int RunProviders(const ProvidersArgs& args);

struct DoctorArgs {
  ConfigOverrides config;
  std::vector<std::string> providers;
  std::string model;
  int timeout_s = 20;
};
void AddDoctorFlags(CLI::App& cmd, DoctorArgs& args);
int RunDoctor(const DoctorArgs& args);

struct CacheArgs {
  ConfigOverrides config;
  std::string action;  // stats | list | purge
  std::string model, ns, older_than;
  bool expired_only = false;
  size_t limit = 100;
};
void AddCacheFlags(CLI::App& cmd, CacheArgs& args);
int RunCache(const CacheArgs& args);

// `modelmux keys create|list|show|update|revoke`: the admin API of a running gateway
// (/admin/keys), with the master key from MODELMUX_MASTER_KEY or MODELMUX_MASTER_KEY_FILE.
struct KeysArgs {
  std::string action;  // create | list | show | update | revoke
  std::string id;      // show | update | revoke
  std::string url;     // --url or MODELMUX_URL; default http://127.0.0.1:8080
  std::optional<std::string> name;
  std::vector<std::string> models, tasks, ip_allowlist, tags;
  std::optional<int64_t> max_tokens, rpm, tpm, expires_in;
  std::optional<std::string> budget_daily, budget_monthly, budget_total, currency;
  std::optional<int64_t> default_max_tokens;  // --default-max-tokens
  std::optional<std::string> context;         // --context TEXT | @FILE ("" clears it)
};
void AddKeysFlags(CLI::App& cmd, KeysArgs& args);
int RunKeys(const KeysArgs& args);

struct BatchArgs {
  ConfigOverrides config;
  std::string input, output, errors, report;
  std::string model = "sim/echo";
  std::string system;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  std::optional<size_t> concurrency;  // default: batch.concurrency (64)
  uint64_t rpm = 0, tpm = 0;
  double window_s = 60;
  bool dry_run = false, resume = false, restart = false, retry_failed = false, quiet = false;
  double progress_interval_s = 5;
  std::optional<size_t> flush_every;
  std::optional<int64_t> flush_ms;
  std::optional<uint64_t> max_image_bytes;
  std::vector<std::string> headers;
};
void AddBatchFlags(CLI::App& cmd, BatchArgs& args);
int RunBatch(const BatchArgs& args);

struct UsageArgs {
  ConfigOverrides config;            // for the data dir's ledger.db when no --ledger is given
  std::vector<std::string> ledgers;  // --ledger PATH (repeatable: replicas, summed)
  std::string by = "model";          // model | key | day | provider
  std::string since, until;
  std::string key;               // --key ID: one key's rows only
  std::string format = "table";  // table | csv | json
};
void AddUsageFlags(CLI::App& cmd, UsageArgs& args);
int RunUsage(const UsageArgs& args);

// Serve's telemetry set-up (usage_cmd.cpp): installs the price table (the built-in one merged
// with telemetry.prices_file) and opens the usage ledger the config asks for (nullptr when
// telemetry.ledger is false), with its dropped-rows counter in `registry`.
[[nodiscard]] Status InstallPrices(const routing::Config& config);
[[nodiscard]] Result<std::unique_ptr<telemetry::Ledger>> OpenServeLedger(
    const routing::Config& config, telemetry::Registry& registry);

// Prints "modelmux: <message>" to stderr and returns the exit code for it.
int Fail(const Error& e);

}  // namespace modelmux::cli
