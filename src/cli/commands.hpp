#pragma once
// The subcommands of the modelmux binary: flags and entry points.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/runtime.hpp"

namespace modelmux::cli {

struct ServeArgs {
  ConfigOverrides config;
  unsigned threads = 0;
  bool no_access_log = false;
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
  bool show_media = false;  // print what the media stage did (stderr)
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

// Prints "modelmux: <message>" to stderr and returns the exit code for it.
int Fail(const Error& e);

}  // namespace modelmux::cli
