// modelmux: the gateway, the simulator and the command-line client in one binary.
// main only wires subcommands; each lives in its own file.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace modelmux::cli;
  CLI::App app{
      "modelmux: one gateway, SDK and CLI for OpenAI, Anthropic, Gemini, Qwen, ERNIE, GLM, "
      "DeepSeek, Moonshot, Bedrock, Azure and local models"};
  app.set_version_flag("--version", std::string("modelmux ") + MODELMUX_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  ServeArgs serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the gateway (OpenAI-compatible HTTP API)");
  AddServeFlags(*serve_cmd, serve);

  SimArgs sim;
  auto* sim_cmd =
      app.add_subcommand("sim", "Run the provider simulator (for tests and benchmarks)");
  AddSimFlags(*sim_cmd, sim);

  ChatArgs chat;
  auto* chat_cmd = app.add_subcommand("chat", "Send one chat request and print the answer");
  AddChatFlags(*chat_cmd, chat);

  BatchArgs batch;
  auto* batch_cmd = app.add_subcommand(
      "batch", "Run a JSONL file of requests (OpenAI Batch API or simple lines), resumable");
  AddBatchFlags(*batch_cmd, batch);

  UsageArgs usage;
  auto* usage_cmd = app.add_subcommand(
      "usage", "Requests, success rate, latency, tokens and cost from usage ledgers");
  AddUsageFlags(*usage_cmd, usage);

  DescribeArgs describe;
  auto* describe_cmd = app.add_subcommand(
      "describe", "Caption, read (OCR) or answer a question about an image or a video");
  AddDescribeFlags(*describe_cmd, describe);

  TokensArgs tokens;
  auto* tokens_cmd = app.add_subcommand(
      "tokens", "Count a text file's tokens for a model (exact for OpenAI models)");
  AddTokensFlags(*tokens_cmd, tokens);

  CacheArgs cache;
  auto* cache_cmd = app.add_subcommand(
      "cache", "Response cache clean-up: stats, list or purge entries (by model, age, namespace)");
  AddCacheFlags(*cache_cmd, cache);

  KeysArgs keys;
  auto* keys_cmd = app.add_subcommand(
      "keys", "Virtual keys on a running gateway: create, list, show, update, revoke");
  AddKeysFlags(*keys_cmd, keys);

  ProvidersArgs providers;
  auto* providers_cmd = app.add_subcommand(
      "providers", "List configured providers and where each credential comes from");
  AddProvidersFlags(*providers_cmd, providers);

  DoctorArgs doctor;
  auto* doctor_cmd = app.add_subcommand(
      "doctor", "Make one cheap call per provider and explain any failure (401/403 ...)");
  AddDoctorFlags(*doctor_cmd, doctor);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (serve_cmd->parsed()) return RunServe(serve);
    if (sim_cmd->parsed()) return RunSim(sim);
    if (chat_cmd->parsed()) return RunChat(chat);
    if (batch_cmd->parsed()) return RunBatch(batch);
    if (describe_cmd->parsed()) return RunDescribe(describe);
    if (usage_cmd->parsed()) return RunUsage(usage);
    if (cache_cmd->parsed()) return RunCache(cache);
    if (keys_cmd->parsed()) return RunKeys(keys);
    if (tokens_cmd->parsed()) return RunTokens(tokens);
    if (providers_cmd->parsed()) return RunProviders(providers);
    if (doctor_cmd->parsed()) return RunDoctor(doctor);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "modelmux: %s\n", e.what());
    return 1;
  }
  return 0;
}
