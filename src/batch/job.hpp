#pragma once
// A batch job on files: input JSONL -> results JSONL + errors JSONL, crash-safe and resumable.
// What `modelmux batch` runs, and what the gateway's Batch API will run in the background.
//
//   1. Check (before any spend): every line parses, ids are unique, local images exist and are
//      within limits, models resolve; the estimate of tokens and cost per model.
//   2. Resume: the results and errors files of an earlier run are scanned (a torn last line is cut
//      away); ids already there are skipped, or with retry_failed only the ids in the errors file
//      and not in the results file run.
//   3. Run: the input is streamed again (only ids are kept in memory) through the Runner; outcomes
//      are appended with write() and fdatasync() in groups, so a result counts once it is on disk
//      and a kill at any moment neither loses a flushed result nor writes one twice.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "batch/item.hpp"
#include "batch/jsonl.hpp"
#include "batch/runner.hpp"

namespace modelmux::batch {

struct JobSpec {
  std::string input;
  std::string output;
  std::string errors;  // empty: OUTPUT.errors.jsonl (OUTPUT without a .jsonl suffix)
  Defaults defaults;
  ImageCheck images;
  size_t max_line_bytes = kDefaultMaxLineBytes;
  bool retry_failed = false;  // run only the ids in the errors file that are not in the output
  bool restart = false;       // empty both files first instead of resuming
  RunOptions run;
};

// The errors file for an output path: "out.jsonl" -> "out.errors.jsonl", "out" ->
// "out.errors.jsonl".
[[nodiscard]] std::string DefaultErrorsPath(const std::string& output);

struct ModelEstimate {
  uint64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;  // max_tokens where given, else RunOptions::default_output_tokens
  std::optional<int64_t> cost_micros;  // nullopt: no price known for the model
  telemetry::Currency currency = telemetry::Currency::kUsd;
  bool exact = true;  // every prompt count was exact
};

struct CheckReport {
  uint64_t lines = 0;  // non-empty lines
  uint64_t items = 0;  // valid ones
  uint64_t error_count = 0;
  std::vector<Error> errors;  // the first kMaxListedErrors, in line order
  std::map<std::string, ModelEstimate> models;
  static constexpr size_t kMaxListedErrors = 50;
  [[nodiscard]] bool ok() const { return error_count == 0; }
  [[nodiscard]] std::string ToJson() const;
  [[nodiscard]] std::string Text() const;  // for a person
};

// Pass 1 over the input. `router` (may be null) resolves models and prices. Errors: only an
// unreadable input file; problems of lines are in the report.
[[nodiscard]] Result<CheckReport> CheckInput(const JobSpec& spec, const routing::Router* router);

class FileJob {
 public:
  // Checks the input (failing with kInvalidRequest "batch_input_invalid" and the report's text when
  // a line is bad), repairs and scans the output and errors files, opens them for appending.
  [[nodiscard]] static Result<std::unique_ptr<FileJob>> Prepare(
      JobSpec spec, std::shared_ptr<const routing::Router> router);
  ~FileJob();

  [[nodiscard]] const CheckReport& check() const { return check_; }
  [[nodiscard]] uint64_t skipped() const { return skipped_; }
  [[nodiscard]] uint64_t truncated_bytes() const { return truncated_bytes_; }

  // Runs the job on the current executor (see Runner).
  boost::asio::awaitable<Result<Report>> Run(ProgressFn on_progress = {});
  void Cancel();

 private:
  FileJob() = default;
  class Source;
  class Sink;
  JobSpec spec_;
  std::shared_ptr<const routing::Router> router_;
  CheckReport check_;
  std::unordered_set<std::string> skip_;  // ids not to run
  std::unordered_set<std::string> only_;  // retry_failed: the ids to run
  uint64_t skipped_ = 0;
  uint64_t truncated_bytes_ = 0;
  std::unique_ptr<Source> source_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Runner> runner_;
};

}  // namespace modelmux::batch
