#include "core/sse.hpp"

#include <cstring>

namespace modelmux {

bool SseParser::Feed(std::string_view bytes, std::vector<SseEvent>& out) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    if (last_was_cr_) {
      last_was_cr_ = false;
      if (*p == '\n') {  // CRLF: the CR already ended the line
        ++p;
        continue;
      }
    }
    // Find the next line terminator: memchr for LF (SIMD in glibc), then a CR before it, if any.
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* stop = lf ? lf : end;
    if (const void* cr = std::memchr(p, '\r', static_cast<size_t>(stop - p))) {
      stop = static_cast<const char*>(cr);
    }
    const size_t n = static_cast<size_t>(stop - p);
    cur_bytes_ += n;
    if (cur_bytes_ > max_event_bytes_) return false;
    if (stop == end) {  // no terminator yet: keep the partial line
      line_.append(p, n);
      break;
    }
    last_was_cr_ = *stop == '\r';
    if (line_.empty()) {
      Line(std::string_view(p, n), out);  // the whole line is in this piece: no copy
    } else {
      line_.append(p, n);
      Line(line_, out);
      line_.clear();
    }
    p = stop + 1;
  }
  return true;
}

void SseParser::Finish(std::vector<SseEvent>& out) {
  if (!line_.empty()) {
    Line(line_, out);
    line_.clear();
  }
  if (cur_.has_data) Dispatch(out);
  cur_ = SseEvent{};
}

void SseParser::Line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    Dispatch(out);
    return;
  }
  if (line[0] == ':') {
    ++comments_;
    return;
  }
  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (cur_.has_data) cur_.data.push_back('\n');
    cur_.data.append(value);
    cur_.has_data = true;
  } else if (field == "event") {
    cur_.event.assign(value);
  } else if (field == "id") {
    cur_.id.assign(value);
  }
  // "retry" and unknown fields are ignored.
}

void SseParser::Dispatch(std::vector<SseEvent>& out) {
  if (cur_.has_data) out.push_back(std::move(cur_));
  cur_ = SseEvent{};
  cur_bytes_ = 0;
}

void AppendSseEvent(std::string& out, std::string_view data, std::string_view event) {
  if (!event.empty()) {
    out.append("event: ").append(event).push_back('\n');
  }
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    out.append("data: ");
    if (nl == std::string_view::npos) {
      out.append(data.substr(start));
      out.append("\n\n");
      break;
    }
    out.append(data.substr(start, nl - start)).push_back('\n');
    start = nl + 1;
  }
}

}  // namespace modelmux
