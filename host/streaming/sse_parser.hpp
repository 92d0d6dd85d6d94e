// Incremental parser for server-sent events (the WHATWG EventSource framing). Bytes may arrive in
// any split: an event, a line or a CRLF pair may straddle two feeds, and one feed may hold many
// events. The parser keeps only the unfinished tail between feeds.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace llmproxy {

struct SseEvent {
    std::string event;  // `event:` field, empty when absent
    std::string data;   // `data:` lines joined with '\n'
    std::string id;     // `id:` field, empty when absent
};

// An event (or a line of one) grew past the parser's limit: the stream cannot be relayed.
struct SseEventTooLarge : std::length_error {
    using std::length_error::length_error;
};

class SseParser {
  public:
    using Sink = std::function<void(const SseEvent&)>;

    static constexpr std::size_t kDefaultMaxEventBytes = 8u << 20;

    // max_event_bytes bounds what one event may hold (its fields, and a line still arriving), so
    // that memory follows a bound, not an upstream's line that never ends.
    explicit SseParser(std::size_t max_event_bytes = kDefaultMaxEventBytes)
        : max_event_bytes_(max_event_bytes) {}

    // Feeds the next bytes; calls sink for each event completed by them, in order. Throws
    // SseEventTooLarge when an event passes max_event_bytes (the parser is then unusable).
    void feed(std::string_view bytes, const Sink& sink);

    // The stream ended: an event whose blank line never came is still delivered (nothing is lost),
    // then the parser is reset. Returns true when such a partial event was delivered.
    bool finish(const Sink& sink);

  private:
    void process_line(std::string_view line, const Sink& sink);
    // Throws SseEventTooLarge when the event being built, plus `more` bytes, passes the limit.
    void check_size(std::size_t more) const;

    std::size_t max_event_bytes_;
    std::string line_;           // an unfinished line from earlier feeds
    bool skip_next_lf_ = false;  // the last feed ended in '\r'; a leading '\n' belongs to it
    bool seen_first_line_ = false;
    bool has_data_ = false;
    SseEvent pending_;
};

}  // namespace llmproxy
