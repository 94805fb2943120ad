#pragma once
// JSON Lines files as the batch runner reads and appends them.
//
// Reading (LineReader): a stream over a file, one line at a time, so that a file of millions of
// lines is never held in memory. A UTF-8 byte-order mark at the start is skipped, "\r\n" ends a
// line like "\n", a last line without a final newline is still a line, and a line longer than
// max_line_bytes is reported (too_long) without being kept.
//
// Appending (ScanJsonl + the sinks in result_sink.hpp): a line counts only once its "\n" is on
// disk. ScanJsonl reads a results file written by an earlier run, returns the keys of its complete
// lines and cuts a torn last line (a crash in the middle of a write) away.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/result.hpp"

namespace modelmux::batch {

inline constexpr size_t kDefaultMaxLineBytes = 32ull << 20;  // the gateway's chat body limit

class LineReader {
 public:
  struct Line {
    uint64_t number = 0;  // 1-based
    std::string text;     // without the line end; empty when too_long
    bool too_long = false;
  };

  // Errors: kInvalidRequest "file_unreadable" naming the path.
  [[nodiscard]] static Result<std::unique_ptr<LineReader>> Open(const std::string& path,
                                                                size_t max_line_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, or nullopt at the end of the file (or on a read error: see error()).
  [[nodiscard]] std::optional<Line> Next();
  [[nodiscard]] bool read_error() const { return read_error_; }

 private:
  LineReader(std::FILE* file, size_t max_line_bytes) : file_(file), max_(max_line_bytes) {}
  std::FILE* file_;
  size_t max_;
  uint64_t number_ = 0;
  bool at_start_ = true;
  bool read_error_ = false;
};

// The key of one results line (its custom_id, else its id, as a string), or nullopt when the
// line is not a JSON object with one.
[[nodiscard]] std::optional<std::string> ResultKey(std::string_view line);

// The key of an id value as JSON text: a string's own characters, anything else its JSON text.
[[nodiscard]] std::string KeyOfIdJson(std::string_view id_json);

struct ScanResult {
  std::unordered_set<std::string> keys;  // of the complete lines
  uint64_t lines = 0;                    // complete lines read
  uint64_t truncated_bytes = 0;          // the torn tail cut away (0: none)
  uint64_t unreadable_lines = 0;         // complete lines without a key (left in place)
};

// Reads the results file at `path` (a missing file is an empty one) and, when `repair`, truncates
// a last line that has no final "\n". Errors: kInternal naming the path when the file cannot be
// read or truncated.
[[nodiscard]] Result<ScanResult> ScanJsonl(const std::string& path, bool repair);

}  // namespace modelmux::batch
