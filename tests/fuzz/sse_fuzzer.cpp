// SseParser on any stream, fed whole and fed in pieces cut where the fuzzer chooses: both give the
// same events (event, data, id, in order), finish() included, and the same as a reference parser
// of the WHATWG EventSource rules written here; after finish() the parser starts afresh.
//
// Input: the stream, cut as cut_input.hpp says.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cut_input.hpp"
#include "fuzz_check.hpp"
#include "streaming/sse_parser.hpp"

using fuzz::require;
using llmproxy::SseEvent;
using llmproxy::SseParser;

namespace {

struct Parsed {
    std::vector<SseEvent> events;
    bool finish_delivered = false;  // what finish() returned
};

bool operator==(const Parsed& a, const Parsed& b) {
    auto same_event = [](const SseEvent& x, const SseEvent& y) {
        return x.event == y.event && x.data == y.data && x.id == y.id;
    };
    return std::equal(a.events.begin(), a.events.end(), b.events.begin(), b.events.end(),
                      same_event) &&
           a.finish_delivered == b.finish_delivered;
}

Parsed parse(SseParser& parser, const std::vector<std::string_view>& pieces) {
    Parsed out;
    auto sink = [&](const SseEvent& e) { out.events.push_back(e); };
    for (std::string_view piece : pieces)
        parser.feed(piece, sink);
    out.finish_delivered = parser.finish(sink);
    return out;
}

// The WHATWG "interpret an event stream" rules (html.spec.whatwg.org, server-sent events), on
// bytes, with llm-proxy's two documented differences: an event's id is its own `id:` field (not
// the last one seen on the stream), and at the end of the stream an unfinished last line is
// still a line and an event without its blank line is still delivered.
Parsed reference_parse(std::string_view stream) {
    Parsed out;
    if (stream.substr(0, 3) == "\xEF\xBB\xBF")
        stream.remove_prefix(3);
    SseEvent pending;
    std::string data;  // each data line followed by LF
    bool has_data = false;
    auto dispatch = [&] {
        if (has_data) {
            data.pop_back();
            out.events.push_back({pending.event, data, pending.id});
        }
        pending = SseEvent{};
        data.clear();
        has_data = false;
    };
    auto process = [&](std::string_view line) {
        if (line.empty())
            return dispatch();
        if (line[0] == ':')
            return;
        std::size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ')
                value.remove_prefix(1);
        }
        if (field == "data") {
            data.append(value).push_back('\n');
            has_data = true;
        } else if (field == "event") {
            pending.event = value;
        } else if (field == "id") {
            pending.id = value;
        }
    };
    std::size_t at = 0;
    while (at < stream.size()) {
        std::size_t end = stream.find_first_of("\r\n", at);
        if (end == std::string_view::npos) {
            process(stream.substr(at));  // the unfinished last line
            break;
        }
        process(stream.substr(at, end - at));
        at = end + (stream.substr(end, 2) == "\r\n" ? 2 : 1);
    }
    out.finish_delivered = has_data;
    dispatch();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    const fuzz::CutInput stream(input);

    SseParser whole_parser;
    const Parsed whole = parse(whole_parser, {stream.whole()});
    SseParser split_parser;
    require(parse(split_parser, stream.pieces()) == whole,
            "a stream fed in pieces gives the same events");
    require(parse(split_parser, {stream.whole()}) == whole,
            "after finish() the parser starts afresh");
    require(reference_parse(stream.whole()) == whole, "the events are those of the WHATWG rules");
    return 0;
}
