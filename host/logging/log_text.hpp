// Log lines that outside text cannot forge. Values from clients, upstreams and plugins (a model
// name, an error message) end up in log lines; a line break inside one would start a line of the
// sender's choosing, and a terminal escape would rewrite what an operator sees.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmproxy {

// text with every control character (below 0x20, and 0x7f) written as an escape: \n, \r, \t,
// or \xNN. Bytes from 0x80 on are left as they are.
std::string escape_controls(std::string_view text);

// value fit for a message or a quoted log field: printable ASCII stays, '"' and '\\' are
// escaped (so the value cannot close its quotes and add fields of its own), every other byte
// becomes \xHH (control characters, and bytes that may not be UTF-8); longer values are cut after
// max bytes, marked with "...".
std::string printable(std::string_view value, std::size_t max = 120);

// Now, in UTC, as ISO 8601 with milliseconds: "2026-11-30T08:37:26.227Z".
std::string utc_timestamp();

// Makes the default logger escape control characters in every message it writes, and begin it
// with "request_id=ID " while a request is current (logging/log_context.hpp); the pattern is
// spdlog's. Call it once, after the default logger is set.
void escape_controls_in_log(const std::string& pattern);

}  // namespace llmproxy
