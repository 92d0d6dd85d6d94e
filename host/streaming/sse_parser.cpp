#include "streaming/sse_parser.hpp"

#include "streaming/line_breaks.hpp"

namespace llmproxy {

namespace {

// What an event's data buffer may keep from event to event (bigger ones are freed).
constexpr std::size_t kKeptDataCapacity = 64 * 1024;

}  // namespace

void SseParser::feed(std::string_view bytes, const Sink& sink) {
    std::size_t pos = 0;
    if (skip_next_lf_ && !bytes.empty()) {
        skip_next_lf_ = false;
        if (bytes[0] == '\n')
            pos = 1;
    }
    while (pos < bytes.size()) {
        std::size_t end = find_line_break(bytes, pos);
        if (end == std::string_view::npos) {
            check_size(line_.size() + (bytes.size() - pos));
            line_.append(bytes.substr(pos));
            return;
        }
        std::string_view line = bytes.substr(pos, end - pos);
        if (!line_.empty()) {
            line_.append(line);
            process_line(line_, sink);
            line_.clear();
        } else {
            process_line(line, sink);
        }
        pos = end + 1;
        if (bytes[end] == '\r') {
            if (pos < bytes.size()) {
                if (bytes[pos] == '\n')
                    ++pos;
            } else {
                skip_next_lf_ = true;
            }
        }
    }
}

bool SseParser::finish(const Sink& sink) {
    if (!line_.empty()) {
        std::string last = std::move(line_);
        line_.clear();
        process_line(last, sink);
    }
    bool delivered = has_data_;
    if (has_data_)
        sink(pending_);
    pending_ = SseEvent{};
    has_data_ = false;
    skip_next_lf_ = false;
    seen_first_line_ = false;
    return delivered;
}

void SseParser::check_size(std::size_t more) const {
    std::size_t held = pending_.data.size() + pending_.event.size() + pending_.id.size();
    if (held + more > max_event_bytes_)
        throw SseEventTooLarge("an event of the upstream's stream is larger than " +
                               std::to_string(max_event_bytes_) + " bytes");
}

void SseParser::process_line(std::string_view line, const Sink& sink) {
    if (!seen_first_line_) {
        seen_first_line_ = true;
        if (line.substr(0, 3) == "\xEF\xBB\xBF")
            line.remove_prefix(3);  // UTF-8 byte order mark
    }
    if (line.empty()) {
        if (has_data_)
            sink(pending_);
        // Cleared, not replaced: the strings keep their capacity for the next event, unless one
        // event was unusually large.
        if (pending_.data.capacity() > kKeptDataCapacity)
            pending_.data = std::string();
        pending_.data.clear();
        pending_.event.clear();
        pending_.id.clear();
        has_data_ = false;
        return;
    }
    if (line[0] == ':')
        return;  // a comment (often a keep-alive)
    std::string_view field = line;
    std::string_view value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
        field = line.substr(0, colon);
        value = line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ')
            value.remove_prefix(1);
    }
    check_size(value.size() + 1);
    if (field == "data") {
        if (has_data_)
            pending_.data.push_back('\n');
        pending_.data.append(value);
        has_data_ = true;
    } else if (field == "event") {
        pending_.event.assign(value);
    } else if (field == "id") {
        pending_.id.assign(value);
    }
}

}  // namespace llmproxy
