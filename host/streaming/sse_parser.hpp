// Incremental parser for server-sent events (the WHATWG EventSource framing). Bytes may arrive in
// any split: an event, a line or a CRLF pair may straddle two feeds, and one feed may hold many
// events. The parser keeps only the unfinished tail between feeds.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace llmproxy {

struct SseEvent {
    std::string event;  // `event:` field, empty when absent
    std::string data;   // `data:` lines joined with '\n'
    std::string id;     // `id:` field, empty when absent
};

class SseParser {
  public:
    using Sink = std::function<void(const SseEvent&)>;

    // Feeds the next bytes; calls sink for each event completed by them, in order.
    void feed(std::string_view bytes, const Sink& sink);

    // The stream ended: an event whose blank line never came is still delivered (nothing is lost),
    // then the parser is reset. Returns true when such a partial event was delivered.
    bool finish(const Sink& sink);

  private:
    void process_line(std::string_view line, const Sink& sink);

    std::string line_;           // an unfinished line from earlier feeds
    bool skip_next_lf_ = false;  // the last feed ended in '\r'; a leading '\n' belongs to it
    bool seen_first_line_ = false;
    bool has_data_ = false;
    SseEvent pending_;
};

}  // namespace llmproxy
