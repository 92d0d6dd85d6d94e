// Finding where a line ends in event-stream text, where LF, CRLF and a lone CR all end a line
// (the WHATWG rule that SSE clients follow). Two memchr scans beat string_view::find_first_of,
// which looks at every byte for each character of its set.
#pragma once

#include <cstring>
#include <string_view>

namespace llmproxy {

// The position of the first CR or LF in text at or after from, or npos.
inline std::size_t find_line_break(std::string_view text, std::size_t from = 0) {
    if (from >= text.size())
        return std::string_view::npos;
    const char* begin = text.data() + from;
    std::size_t left = text.size() - from;
    const void* lf = std::memchr(begin, '\n', left);
    std::size_t before_lf =
        lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - begin) : left;
    const void* cr = std::memchr(begin, '\r', before_lf);
    if (cr)
        return from + static_cast<std::size_t>(static_cast<const char*>(cr) - begin);
    return lf ? from + before_lf : std::string_view::npos;
}

}  // namespace llmproxy
