#include "http/headers.hpp"

#include <array>

#include <strings.h>

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace llmproxy {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const std::string* find_header(const HeaderList& headers, std::string_view name) {
    for (const auto& [n, v] : headers)
        if (equals_ignoring_case(n, name))
            return &v;
    return nullptr;
}

void set_header(HeaderList& headers, std::string_view name, std::string_view value) {
    auto same = [&](const auto& header) { return equals_ignoring_case(header.first, name); };
    auto first = std::find_if(headers.begin(), headers.end(), same);
    if (first == headers.end()) {
        headers.emplace_back(name, value);
        return;
    }
    first->second.assign(value);
    headers.erase(std::remove_if(first + 1, headers.end(), same), headers.end());
}

std::string_view trim_whitespace(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::size_t find_head_end(std::string_view data, std::size_t from) {
    for (std::size_t i = from; i + 1 < data.size(); ++i) {
        if (data[i] != '\n')
            continue;
        if (data[i + 1] == '\n')
            return i + 2;
        if (data[i + 1] == '\r' && i + 2 < data.size() && data[i + 2] == '\n')
            return i + 3;
    }
    return std::string_view::npos;
}

std::string_view take_line(std::string_view& text) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

bool lists_token(std::string_view value, std::string_view token) {
    bool found = false;
    for_each_list_element(value, [&](std::string_view element) {
        found = found || equals_ignoring_case(element, token);
    });
    return found;
}

namespace {

// RFC 9110 tchar, as a table: one load per character.
constexpr std::array<bool, 256> kTokenChars = [] {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c)
        table[c] = true;
    for (int c = 'a'; c <= 'z'; ++c)
        table[c] = table[c - 'a' + 'A'] = true;
    for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~"))
        table[c] = true;
    return table;
}();

}  // namespace

bool is_token(std::string_view s) {
    bool token = !s.empty();
    for (unsigned char c : s)
        token &= kTokenChars[c];
    return token;
}

bool has_control_character(std::string_view value) {
    auto control = [](unsigned char c) { return (c < ' ' && c != '\t') || c == 0x7f; };
    std::size_t i = 0;
#if defined(__SSE2__)
    // Header values are checked on every request and every answer: 16 bytes at a time.
    const __m128i space = _mm_set1_epi8(' ');
    const __m128i tab = _mm_set1_epi8('\t');
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i minus_one = _mm_set1_epi8(-1);
    for (; i + 16 <= value.size(); i += 16) {
        __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(value.data() + i));
        // Signed comparisons: 0 <= byte < 0x20 leaves out the bytes from 0x80 on.
        __m128i below_space =
            _mm_and_si128(_mm_cmplt_epi8(bytes, space), _mm_cmpgt_epi8(bytes, minus_one));
        __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab), below_space),
                                   _mm_cmpeq_epi8(bytes, del));
        if (_mm_movemask_epi8(bad) != 0)
            return true;
    }
#endif
    for (; i < value.size(); ++i)
        if (control(static_cast<unsigned char>(value[i])))
            return true;
    return false;
}

}  // namespace llmproxy
