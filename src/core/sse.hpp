#pragma once
// Incremental Server-Sent Events framing over bytes, per the WHATWG rules: events end at a blank
// line; lines end at CRLF, LF or CR; `:` starts a comment; one optional space after the field's
// colon; several `data:` lines join with '\n'. Bytes may be split anywhere between Feed() calls.
// Pure: no I/O. Used by the upstream stream readers and by the simulator's tests.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace modelmux {

struct SseEvent {
  std::string event;  // "" when the event has no `event:` field
  std::string data;
  std::string id;
  bool has_data = false;
};

class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes = 16 << 20) : max_event_bytes_(max_event_bytes) {}

  // Appends bytes; complete events are appended to `out`. Returns false when one event grew past
  // the size limit (the stream should be treated as broken).
  [[nodiscard]] bool Feed(std::string_view bytes, std::vector<SseEvent>& out);
  // At end of stream: a final event without its blank line is delivered if it has data.
  void Finish(std::vector<SseEvent>& out);
  // Number of comment lines seen (e.g. keep-alives).
  [[nodiscard]] size_t comments() const { return comments_; }

 private:
  void Line(std::string_view line, std::vector<SseEvent>& out);
  void Dispatch(std::vector<SseEvent>& out);

  std::string line_;
  bool last_was_cr_ = false;
  SseEvent cur_;
  size_t cur_bytes_ = 0;
  size_t comments_ = 0;
  size_t max_event_bytes_;
};

// Writes one SSE event: `event: NAME\n` (if given) then one `data:` line per line of `data`.
void AppendSseEvent(std::string& out, std::string_view data, std::string_view event = {});

}  // namespace modelmux
