// `modelmux batch IN.jsonl -o OUT.jsonl`: a JSONL file of requests through the same routing as the
// gateway, at the provider's rate limit, resumable after a crash (src/batch/job.hpp).

#include <unistd.h>

#include <fmt/format.h>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "batch/job.hpp"
#include "cli/commands.hpp"

namespace modelmux::cli {
namespace asio = boost::asio;

void AddBatchFlags(CLI::App& cmd, BatchArgs& a) {
  cmd.add_option("input", a.input, "Input JSONL (OpenAI Batch API lines or simple lines)")
      ->required();
  cmd.add_option("--output,-o", a.output, "Results JSONL (appended; resumed when it exists)")
      ->required();
  cmd.add_option("--errors", a.errors, "Failures JSONL (default OUT.errors.jsonl)");
  cmd.add_option("--model,-m", a.model, "Model for lines that name none");
  cmd.add_option("--system,-s", a.system, "System prompt for lines that have none");
  cmd.add_option("--max-tokens", a.max_tokens, "max_tokens for lines that set none");
  cmd.add_option("--temperature", a.temperature, "Temperature for lines that set none")
      ->check(CLI::Range(0.0, 2.0));
  cmd.add_option("--concurrency,-c", a.concurrency, "Calls in flight at most (default 64)");
  cmd.add_option("--rpm", a.rpm, "Requests per window at most (client-side)");
  cmd.add_option("--tpm", a.tpm, "Tokens per window at most (client-side)");
  cmd.add_option("--window-s", a.window_s, "The rate-limit window in seconds")
      ->capture_default_str();
  cmd.add_flag("--dry-run", a.dry_run, "Check the input, print estimated tokens and cost, exit");
  cmd.add_flag("--resume", a.resume, "Skip ids already in the output (the default)");
  cmd.add_flag("--restart", a.restart, "Empty the output and errors files and start over");
  cmd.add_flag("--retry-failed", a.retry_failed,
               "Run only the ids in the errors file that are not in the output");
  cmd.add_option("--report", a.report, "Write the final report as JSON to this file");
  cmd.add_option("--progress-interval", a.progress_interval_s,
                 "Seconds between progress lines when stderr is not a terminal")
      ->capture_default_str();
  cmd.add_option("--flush-every", a.flush_every, "Results per durable write at most");
  cmd.add_option("--flush-ms", a.flush_ms, "Milliseconds between durable writes at most");
  cmd.add_option("--max-image-bytes", a.max_image_bytes, "Largest local image file accepted");
  cmd.add_option("--header", a.headers,
                 "Extra request header NAME:VALUE (x-sim-* for the simulator)");
  cmd.add_flag("--quiet,-q", a.quiet, "No progress, only the summary");
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
}

namespace {

std::atomic<batch::FileJob*> g_job{nullptr};
std::atomic<int> g_signals{0};

void OnSignal(int) {
  // Second Ctrl-C: leave at once (flushed results are safe; the rest is redone on resume).
  if (g_signals.fetch_add(1) > 0) _exit(130);
  if (auto* job = g_job.load()) job->Cancel();
}

std::string Duration(std::chrono::seconds s) {
  const auto n = s.count();
  if (n >= 3600) return fmt::format("{}h{:02}m", n / 3600, (n / 60) % 60);
  if (n >= 60) return fmt::format("{}m{:02}s", n / 60, n % 60);
  return fmt::format("{}s", n);
}

std::string ProgressText(const batch::Progress& p, bool bar) {
  const uint64_t to_run = p.to_run();
  const double frac = to_run == 0 ? 1.0 : static_cast<double>(p.done) / static_cast<double>(to_run);
  std::string s;
  if (bar) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(frac * kWidth);
    s = "[" + std::string(static_cast<size_t>(filled), '#') +
        std::string(static_cast<size_t>(kWidth - filled), '.') + "] ";
  }
  s += fmt::format(
      "{}/{} ({:.0f}%) {:.1f}/s ETA {} | tokens {} in {} out | cost ${:.4f} | errors {}", p.done,
      to_run, frac * 100, p.rate(), Duration(p.eta()), p.prompt_tokens, p.completion_tokens,
      static_cast<double>(p.cost_micros_usd) / 1e6, p.failed);
  if (p.rate_limited > 0) s += fmt::format(" | 429s {}", p.rate_limited);
  if (p.skipped > 0) s += fmt::format(" | skipped {}", p.skipped);
  return s;
}

std::string EstimateText(const batch::CheckReport& c) {
  std::string s = fmt::format("{} requests, all lines valid\n", c.items);
  int64_t total_in = 0, total_out = 0;
  for (const auto& [model, m] : c.models) {
    total_in += m.prompt_tokens;
    total_out += m.output_tokens;
    s +=
        fmt::format("  {}: {} requests, ~{} prompt tokens{}, <= {} output tokens, cost {}\n", model,
                    m.requests, m.prompt_tokens, m.exact ? "" : " (estimated)", m.output_tokens,
                    m.cost_micros ? "<= " + telemetry::FormatMoney({*m.cost_micros, m.currency})
                                  : std::string("unknown (no price)"));
  }
  s += fmt::format("  total: ~{} prompt tokens, <= {} output tokens\n", total_in, total_out);
  return s;
}

}  // namespace

int RunBatch(const BatchArgs& a) {
  auto cfg = LoadConfig(a.config, false);
  if (!cfg.ok()) return Fail(cfg.error());
  net::EventLoops loops(1);
  auto rt = Runtime::Start(*cfg, loops);
  if (!rt.ok()) return Fail(rt.error());
  auto router = (*rt)->router();
  if ((*cfg)->using_simulator && !a.quiet) {
    std::fprintf(stderr, "modelmux: no provider configured: answers come from the simulator\n");
  }

  batch::JobSpec spec;
  spec.input = a.input;
  spec.output = a.output;
  spec.errors = a.errors;
  spec.defaults.model = a.model;
  spec.defaults.system = a.system;
  spec.defaults.max_tokens = a.max_tokens;
  spec.defaults.temperature = a.temperature;
  spec.retry_failed = a.retry_failed;
  spec.restart = a.restart;
  const auto& bc = (*cfg)->batch;
  spec.run.concurrency = a.concurrency.value_or(bc.concurrency);
  spec.run.rpm = a.rpm;
  spec.run.tpm = a.tpm;
  spec.run.window = std::chrono::milliseconds(static_cast<int64_t>(a.window_s * 1000));
  spec.run.flush_every = a.flush_every.value_or(bc.flush_every);
  spec.run.flush_interval = a.flush_ms ? std::chrono::milliseconds(*a.flush_ms) : bc.flush_interval;
  spec.images.max_bytes = a.max_image_bytes.value_or(bc.max_image_bytes);
  for (const auto& h : a.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos) {
      return Fail(InvalidRequest("--header must be NAME:VALUE", "header"));
    }
    std::string value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    spec.run.forward.Add(h.substr(0, colon), value);
  }

  if (a.dry_run) {
    if (spec.errors.empty()) spec.errors = batch::DefaultErrorsPath(spec.output);
    auto check = batch::CheckInput(spec, router.get());
    if (!check.ok()) return Fail(check.error());
    if (!check->ok()) {
      std::fprintf(stderr, "%s", check->Text().c_str());
      return 2;
    }
    std::printf("%s", EstimateText(*check).c_str());
    if (!a.report.empty()) {
      std::ofstream(a.report) << check->ToJson() << "\n";
    }
    return 0;
  }

  auto job = batch::FileJob::Prepare(spec, router);
  if (!job.ok()) {
    if (job.error().code == "batch_input_invalid") {
      std::fprintf(stderr, "modelmux: %s", job.error().message.c_str());
      return 2;
    }
    return Fail(job.error());
  }
  if ((*job)->truncated_bytes() > 0 && !a.quiet) {
    std::fprintf(stderr, "modelmux: cut a torn last line (%llu bytes) left by an interrupted run\n",
                 static_cast<unsigned long long>((*job)->truncated_bytes()));
  }

  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto last_line = std::chrono::steady_clock::now();
  const auto line_every =
      std::chrono::milliseconds(static_cast<int64_t>(a.progress_interval_s * 1000));
  batch::ProgressFn on_progress;
  if (!a.quiet) {
    on_progress = [tty, &last_line, line_every](const batch::Progress& p) {
      if (tty) {
        std::fprintf(stderr, "\r\033[2K%s", ProgressText(p, true).c_str());
        std::fflush(stderr);
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_line < line_every) return;
      last_line = now;
      std::fprintf(stderr, "%s\n", ProgressText(p, false).c_str());
    };
  }

  g_job = job->get();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  loops.Start();
  auto fut = asio::co_spawn(loops.loop(0), (*job)->Run(on_progress), asio::use_future);
  auto report = fut.get();
  g_job = nullptr;
  loops.Stop();
  loops.Join();
  if (tty && !a.quiet) std::fprintf(stderr, "\n");
  if (!report.ok()) return Fail(report.error());
  std::fprintf(stderr, "%s", report->Summary().c_str());
  if (!a.report.empty()) {
    std::ofstream out(a.report);
    out << report->ToJson() << "\n";
    if (!out) return Fail(Internal(a.report + ": cannot be written"));
  }
  if (report->cancelled) return 130;
  return report->progress.failed > 0 ? 3 : 0;
}

}  // namespace modelmux::cli
