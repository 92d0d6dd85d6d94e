#include "tracing/trace_context.hpp"

#include <algorithm>
#include <random>

namespace llmproxy {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;  // upper-case hex is invalid in traceparent
}

// Reads text (2 * N lower-case hex digits) into out; false when it is not that.
template <std::size_t N>
bool read_hex(std::string_view text, std::array<std::uint8_t, N>& out) {
    if (text.size() != 2 * N)
        return false;
    for (std::size_t i = 0; i < N; ++i) {
        const int high = hex_value(text[2 * i]);
        const int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        out[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return true;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& id) {
    return std::all_of(id.begin(), id.end(), [](std::uint8_t b) { return b == 0; });
}

template <std::size_t N>
std::string hex_of(const std::array<std::uint8_t, N>& id) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(2 * N, '0');
    for (std::size_t i = 0; i < N; ++i) {
        out[2 * i] = kHex[id[i] >> 4];
        out[2 * i + 1] = kHex[id[i] & 0xF];
    }
    return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> random_id() {
    // Seeded with 256 bits, so that no two threads of a fleet are likely to draw the same ids.
    thread_local std::mt19937_64 random = [] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(),
                           device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }();
    std::array<std::uint8_t, N> id{};
    do {
        for (std::size_t i = 0; i < N; i += 8) {
            std::uint64_t bits = random();
            for (std::size_t j = i; j < i + 8 && j < N; ++j, bits >>= 8)
                id[j] = static_cast<std::uint8_t>(bits);
        }
    } while (all_zero(id));
    return id;
}

}  // namespace

std::optional<TraceParent> parse_traceparent(std::string_view header) {
    // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
    constexpr std::size_t kLength = 55;
    if (header.size() < kLength)
        return std::nullopt;
    std::array<std::uint8_t, 1> version{}, flags{};
    TraceParent parent;
    if (!read_hex(header.substr(0, 2), version) || version[0] == 0xff || header[2] != '-' ||
        !read_hex(header.substr(3, 32), parent.trace_id) || header[35] != '-' ||
        !read_hex(header.substr(36, 16), parent.span_id) || header[52] != '-' ||
        !read_hex(header.substr(53, 2), flags))
        return std::nullopt;
    // Version 00 has exactly these fields; a later one may add some, after a '-'.
    if (header.size() > kLength && (version[0] == 0 || header[kLength] != '-'))
        return std::nullopt;
    if (all_zero(parent.trace_id) || all_zero(parent.span_id))
        return std::nullopt;
    parent.sampled = (flags[0] & 0x01) != 0;
    return parent;
}

std::string format_traceparent(const TraceId& trace, const SpanId& span, bool sampled) {
    return "00-" + hex_of(trace) + '-' + hex_of(span) + (sampled ? "-01" : "-00");
}

std::string to_hex(const TraceId& id) {
    return hex_of(id);
}

std::string to_hex(const SpanId& id) {
    return hex_of(id);
}

TraceId new_trace_id() {
    return random_id<16>();
}

SpanId new_span_id() {
    return random_id<8>();
}

std::optional<std::string> tracestate_to_forward(std::string_view header) {
    constexpr std::size_t kMaxBytes = 512;
    if (header.size() > kMaxBytes)
        return std::nullopt;
    for (char c : header)
        if (c < 0x20 || c > 0x7e)
            return std::nullopt;
    return std::string(header);
}

}  // namespace llmproxy
