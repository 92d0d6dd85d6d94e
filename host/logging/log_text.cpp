#include "logging/log_text.hpp"

#include "logging/log_context.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

namespace llmproxy {

namespace {

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

void append_hex(std::string& out, unsigned char c) {
    static const char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
}

void append_escaped(std::string& out, unsigned char c) {
    switch (c) {
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            append_hex(out, c);
    }
}

// spdlog's pattern formatter, given messages with their control characters escaped, and the
// current request's id before them.
class EscapingFormatter final : public spdlog::formatter {
  public:
    explicit EscapingFormatter(std::unique_ptr<spdlog::formatter> inner)
        : inner_(std::move(inner)) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string_view payload(msg.payload.data(), msg.payload.size());
        const std::string* request_id = current_request_id();
        const bool clean = std::none_of(payload.begin(), payload.end(), [](char c) {
            return is_control(static_cast<unsigned char>(c));
        });
        if (clean && !request_id)
            return inner_->format(msg, dest);
        // Request ids are checked when taken (printable, no spaces): they need no escaping.
        std::string escaped = request_id ? "request_id=" + *request_id + ' ' : std::string();
        escaped += clean ? std::string(payload) : escape_controls(payload);
        spdlog::details::log_msg copy = msg;
        copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
        inner_->format(copy, dest);
        msg.color_range_start = copy.color_range_start;  // mutable: the sink colours by them
        msg.color_range_end = copy.color_range_end;
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<EscapingFormatter>(inner_->clone());
    }

  private:
    std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (char c : text) {
        if (is_control(static_cast<unsigned char>(c)))
            append_escaped(out, static_cast<unsigned char>(c));
        else
            out += c;
    }
    return out;
}

std::string printable(std::string_view value, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < value.size() && i < max; ++i) {
        auto c = static_cast<unsigned char>(value[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c >= 0x20 && c < 0x7f) {
            out.push_back(static_cast<char>(c));
        } else {
            append_hex(out, c);
        }
    }
    if (value.size() > max)
        out += "...";
    return out;
}

std::string utc_timestamp() {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return text;
}

void escape_controls_in_log(const std::string& pattern) {
    spdlog::default_logger()->set_formatter(
        std::make_unique<EscapingFormatter>(std::make_unique<spdlog::pattern_formatter>(pattern)));
}

}  // namespace llmproxy
