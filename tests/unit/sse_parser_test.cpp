#include "streaming/sse_parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using llmproxy::SseEvent;
using llmproxy::SseParser;

namespace {

std::vector<SseEvent> parse_in_pieces(const std::vector<std::string_view>& pieces,
                                      bool finish = true) {
    SseParser parser;
    std::vector<SseEvent> events;
    auto sink = [&](const SseEvent& e) { events.push_back(e); };
    for (auto piece : pieces)
        parser.feed(piece, sink);
    if (finish)
        parser.finish(sink);
    return events;
}

std::vector<std::string> datas(const std::vector<SseEvent>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
        out.push_back(e.data);
    return out;
}

// An OpenAI-like stream with every framing feature: CRLF and LF and CR line ends, a comment,
// event names and ids, a multi-line data field, fields without a space after the colon.
const std::string kStream =
    ": keep-alive\r\n\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: delta\nid: 7\ndata: {\"b\":2}\n\n"
    "data:first line\ndata: second line\r\r"
    "data: [DONE]\n\n";

const std::vector<std::string> kExpected = {"{\"a\":1}", "{\"b\":2}", "first line\nsecond line",
                                            "[DONE]"};

}  // namespace

TEST_CASE("a whole stream in one piece gives every event in order") {
    auto events = parse_in_pieces({kStream});
    CHECK(datas(events) == kExpected);
    CHECK(events[1].event == "delta");
    CHECK(events[1].id == "7");
    CHECK(events[0].event.empty());
}

TEST_CASE("a stream split at every byte position gives the same events") {
    for (std::size_t cut = 0; cut <= kStream.size(); ++cut) {
        std::string_view all(kStream);
        auto events = parse_in_pieces({all.substr(0, cut), all.substr(cut)});
        CAPTURE(cut);
        CHECK(datas(events) == kExpected);
    }
}

TEST_CASE("a stream split at every pair of byte positions gives the same events") {
    std::string_view all(kStream);
    for (std::size_t a = 0; a <= all.size(); ++a)
        for (std::size_t b = a; b <= all.size(); ++b) {
            auto events = parse_in_pieces({all.substr(0, a), all.substr(a, b - a), all.substr(b)});
            if (datas(events) != kExpected)
                FAIL("split at " << a << " and " << b);
        }
}

TEST_CASE("a stream fed one byte at a time gives the same events") {
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < kStream.size(); ++i)
        bytes.push_back(std::string_view(kStream).substr(i, 1));
    CHECK(datas(parse_in_pieces(bytes)) == kExpected);
}

TEST_CASE("events are delivered as soon as their blank line arrives") {
    SseParser parser;
    std::vector<std::string> seen;
    auto sink = [&](const SseEvent& e) { seen.push_back(e.data); };
    parser.feed("data: one\n", sink);
    CHECK(seen.empty());
    parser.feed("\ndata: tw", sink);
    CHECK(seen == std::vector<std::string>{"one"});
    parser.feed("o\n\n", sink);
    CHECK(seen == std::vector<std::string>{"one", "two"});
}

TEST_CASE("an event cut off by the end of the stream is still delivered by finish") {
    SseParser parser;
    std::vector<std::string> seen;
    auto sink = [&](const SseEvent& e) { seen.push_back(e.data); };
    parser.feed("data: whole\n\ndata: partial", sink);
    CHECK(parser.finish(sink));
    CHECK(seen == std::vector<std::string>{"whole", "partial"});
    CHECK_FALSE(parser.finish(sink));
}

TEST_CASE("comments, empty events and unknown fields produce nothing") {
    CHECK(parse_in_pieces({": ping\n\n\n\nretry: 100\nfoo: bar\n\n"}).empty());
}

TEST_CASE("a leading byte order mark is ignored") {
    CHECK(datas(parse_in_pieces({"\xEF\xBB\xBF"
                                 "data: x\n\n"})) == std::vector<std::string>{"x"});
}

TEST_CASE("an event larger than the limit stops the parser, however its bytes arrive") {
    using llmproxy::SseEventTooLarge;
    std::vector<std::string> data;
    auto sink = [&](const llmproxy::SseEvent& e) { data.push_back(e.data); };
    // One line that never ends, fed in pieces: refused once it passes the limit, not at its end.
    llmproxy::SseParser endless(1024);
    endless.feed("data: ok\n\n", sink);
    std::string piece(100, 'x');
    int fed = 0;
    CHECK_THROWS_AS(
        [&] {
            for (; fed < 1000; ++fed)
                endless.feed(piece, sink);
        }(),
        SseEventTooLarge);
    CHECK(fed == 10);  // the 11th piece passes 1024 bytes
    CHECK(data == std::vector<std::string>{"ok"});
    // Many short data lines that add up, in one feed.
    llmproxy::SseParser lines(1024);
    std::string many;
    for (int i = 0; i < 200; ++i)
        many += "data: 0123456789\n";
    CHECK_THROWS_AS(lines.feed(many, sink), SseEventTooLarge);
    // Up to the limit is fine.
    llmproxy::SseParser exact(1024);
    data.clear();
    exact.feed("data: " + std::string(1000, 'y') + "\n\n", sink);
    REQUIRE(data.size() == 1);
    CHECK(data[0].size() == 1000);
}
