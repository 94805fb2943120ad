// `modelmux usage`: requests, success rate, latency, tokens and cost from usage ledgers; and the
// serve command's telemetry set-up (price table, ledger).

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "telemetry/ledger_report.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::cli {

namespace {

std::string DefaultLedgerPath(const routing::Config& config) {
  if (!config.telemetry.ledger_path.empty()) return config.telemetry.ledger_path;
  return (std::filesystem::path(config.server.data_dir) / "ledger.db").string();
}

}  // namespace

void AddUsageFlags(CLI::App& cmd, UsageArgs& a) {
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
  cmd.add_option("--data-dir", a.config.data_dir,
                 "State directory whose ledger.db to read (default ./modelmux-data)");
  cmd.add_option("--ledger", a.ledgers,
                 "A ledger file to read; repeat for several replicas (their rows are summed)");
  cmd.add_option("--by", a.by, "Group by model (default), key, day (UTC) or provider")
      ->check(CLI::IsMember({"model", "key", "day", "provider"}));
  cmd.add_option("--since", a.since, "From: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z, or 24h / 7d ago");
  cmd.add_option("--until", a.until, "To (a date includes that whole day), same forms as --since");
  cmd.add_option("--key", a.key, "Only the rows of this virtual key id");
  cmd.add_option("--format", a.format, "table (default), csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
}

int RunUsage(const UsageArgs& args) {
  auto by = telemetry::ParseGroupBy(args.by);
  if (!by.ok()) return Fail(by.error());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  telemetry::UsageFilter filter;
  if (!args.since.empty()) {
    auto t = telemetry::ParseTimeBound(args.since, false, now_ms);
    if (!t.ok()) return Fail(t.error());
    filter.since_ms = *t;
  }
  if (!args.until.empty()) {
    auto t = telemetry::ParseTimeBound(args.until, true, now_ms);
    if (!t.ok()) return Fail(t.error());
    filter.until_ms = *t;
  }
  if (!args.key.empty()) filter.key_id = args.key;
  std::vector<std::string> paths = args.ledgers;
  if (paths.empty()) {
    auto cfg = LoadConfig(args.config, false);
    if (!cfg.ok()) return Fail(cfg.error());
    paths.push_back(DefaultLedgerPath(**cfg));
  }
  telemetry::UsageReport report(*by);
  for (const auto& p : paths) {
    if (auto st = report.AddLedgerFile(p, filter); !st.ok()) return Fail(st.error());
  }
  std::string out;
  if (args.format == "json") {
    out = report.Json() + "\n";
  } else if (args.format == "csv") {
    out = report.Csv();
  } else {
    out = report.Table();
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Status InstallPrices(const routing::Config& config) {
  if (config.telemetry.prices_file.empty()) {
    telemetry::PriceTable::SetActive(nullptr);  // the built-in table
    return OkStatus();
  }
  MM_TRY(auto over, telemetry::PriceTable::Load(config.telemetry.prices_file));
  telemetry::PriceTable::SetActive(std::make_shared<const telemetry::PriceTable>(
      telemetry::PriceTable::Merged(telemetry::PriceTable::BuiltIn(), over)));
  return OkStatus();
}

Result<std::unique_ptr<telemetry::Ledger>> OpenServeLedger(const routing::Config& config,
                                                           telemetry::Registry& registry) {
  if (!config.telemetry.ledger) return std::unique_ptr<telemetry::Ledger>();
  telemetry::LedgerOptions o;
  o.path = DefaultLedgerPath(config);
  o.retention_days = static_cast<int>(config.telemetry.ledger_retention_days);
  o.dropped = &registry
                   .AddCounter("modelmux_ledger_dropped_total",
                               "Usage ledger rows refused because the writer's queue was full.", {})
                   .With({});
  return telemetry::Ledger::Open(std::move(o));
}

}  // namespace modelmux::cli
