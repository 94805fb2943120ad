#pragma once
// The one JSON string escaper for code that writes JSON text by hand (log lines, JWT claims, the
// token counter's serialisation): the escapes RFC 8259 requires, nothing else.

#include <string>
#include <string_view>

namespace modelmux {

// Appends `s` escaped for the inside of a JSON string literal (no quotes added): \" \\ \n \r \t,
// other control characters as \u00XX; every other byte as it is (UTF-8 passes through).
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace modelmux
