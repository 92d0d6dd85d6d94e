// Outside bytes (a plugin's value, a client's model name) shown in a message or a log line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace llmproxy {

// `value` fit for a message or a log line: printable ASCII stays, '"' and '\' are escaped, every
// other byte becomes \xHH; longer values are cut after max bytes, marked with "...".
std::string printable(std::string_view value, std::size_t max = 120);

}  // namespace llmproxy
