#pragma once
// The Batch API's objects as OpenAI shapes them (file, batch, list, deletion), and the check of
// a batch's input file before a job starts. Pure, except CheckApiInput, which reads the file.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "batch/store.hpp"
#include "core/result.hpp"

namespace modelmux::batch {

// {"id","object":"file","bytes","created_at","expires_at","filename","purpose","status",...}
[[nodiscard]] std::string FileJson(const FileRecord& f);
// {"id","object":"batch","endpoint","errors",...,"request_counts":{...},"metadata"}
[[nodiscard]] std::string BatchJson(const BatchRecord& b);
// {"object":"list","data":[...],"first_id","last_id","has_more"}
[[nodiscard]] std::string FileListJson(const Page<FileRecord>& page);
[[nodiscard]] std::string BatchListJson(const Page<BatchRecord>& page);
// {"id","object":"file","deleted":true}
[[nodiscard]] std::string FileDeletedJson(const std::string& id);

// One problem of an input line, as the batch object's errors.data[] lists it.
struct LineProblem {
  std::string code;
  std::string message;
  std::string param;
  uint64_t line = 0;  // 1-based; 0: the file as a whole
};
// {"object":"list","data":[{"code","message","param","line"},...]}; "" when `problems` is empty.
[[nodiscard]] std::string ErrorsJson(const std::vector<LineProblem>& problems);

struct InputCheck {
  uint64_t requests = 0;              // valid request lines
  std::vector<LineProblem> problems;  // in line order, at most kMaxProblems
  uint64_t problem_count = 0;
  static constexpr size_t kMaxProblems = 1000;
  [[nodiscard]] bool ok() const { return problem_count == 0 && requests > 0; }
};

// Checks the input of a gateway batch: every non-blank line is a Batch API request line
// ({"custom_id","method":"POST","url","body"}; the simple form is refused: it may name local
// files), its url is `endpoint`, custom_ids are unique, and `model_ok` (may be empty) accepts the
// body's model (it returns "" or the reason, e.g. the router's model_not_found).
// Errors: only an unreadable file.
using ModelCheck = std::function<std::string(const std::string& model)>;
[[nodiscard]] Result<InputCheck> CheckApiInput(const std::string& path, const std::string& endpoint,
                                               const ModelCheck& model_ok, size_t max_line_bytes);

}  // namespace modelmux::batch
