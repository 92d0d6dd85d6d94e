// The anthropic codec's JSON scanner, against nlohmann::json's parser as the reference
// (tests/fuzz/json_token_trace.hpp): the same texts accepted, the same tokens in the same order
// with the same unescaped strings, on hand-picked texts and on a bounded number of random
// mutations of a real chunk. The documents the codec reads through it (parse_document) and
// writes (compact_json) are held to nlohmann's parse and dump the same way.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "../fuzz/json_token_trace.hpp"
#include "anthropic/json_scanner.hpp"
#include "anthropic/json_text.hpp"

namespace {

using json_trace::Expected;

// Whether the scanner does with `text` what the reference says: refuses it, or accepts it with
// the same tokens.
void check_agrees(const std::string& text) {
    json_trace::ScannerTrace trace;
    anthropic::JsonScanner scanner;
    const bool accepted = scanner.scan(text, trace);
    json_trace::ReferenceTrace reference;
    const Expected expected = json_trace::expected(text, reference, reference.parse(text));
    INFO("text: " << nlohmann::json(text).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace));
    if (expected == Expected::either)
        return;
    REQUIRE(accepted == (expected == Expected::accept));
    if (accepted)
        CHECK(trace.lines == reference.lines);
    const anthropic::Json document = anthropic::parse_document(text);
    REQUIRE(document.is_discarded() == !accepted);
    if (accepted) {
        const auto reference_document = anthropic::Json::parse(text);
        CHECK(document == reference_document);
        CHECK(anthropic::compact_json(document) == reference_document.dump());
    }
}

const std::string kChunk =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1770933892,"model":"gpt-x","choices":[{"index":0,"delta":{"content":"caf\u00e9 \"q\" \n","tool_calls":[{"index":1,"id":"call_1","function":{"name":"f","arguments":"{\"a\":[1,-2.5e3,true,null]}"}}]},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":12,"completion_tokens":-3,"total_tokens":18446744073709551615}})";

}  // namespace

TEST_CASE("anthropic json scanner: agrees with the reference on hand-picked texts") {
    const char* texts[] = {
        "{}", "[]", " {\"a\" : [ 1 , 2 ] } ", "\"x\"", "0", "-0", "12", "-12", "1.5", "1e5", "1E+5",
        "1e-5", "true", "false", "null", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "[[[[[]]]]]",
        R"({"a":{"b":{"c":[{"d":"e"}]}}})", R"("\"\\\/\b\f\n\r\t")", R"("\u0041\u00e9\u20ac")",
        R"("\ud83d\ude00")", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", R"("\u0000")",
        // refused
        "", " ", "{", "}", "[", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[,1]", "{,}",
        "{\"a\":1 \"b\":2}", "01", "-", "1.", ".5", "1e", "+1", "tru", "nul", "True", "[1 2]",
        "{} {}", "{}x", "\"abc", "\"a\x01\"", R"("\x")", R"("\u12")", R"("\u12g4")", R"("\ud83d")",
        R"("\ude00")", R"("\ud83d\u0041")", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xe0\x80\xaf\"", "\"\xf0\x80\x80\xaf\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"", "\"\x80\"",
        "{1:2}", "{\"a\":1}}", "[1]]", "NaN", "[-]", "\"\xe2\x82\"", "\xEF\xBB\xBF{}",
        // accepted or not: the reference refuses what a double cannot hold
        "1e999", "[-1e400]"};
    for (const char* text : texts)
        check_agrees(text);
    check_agrees(kChunk);
}

TEST_CASE("anthropic json scanner: finds what ends a run of plain bytes at every offset") {
    // Runs are read and written sixteen bytes at a time (string_runs.hpp): each thing that ends
    // one, at each place in and around a block, in a text whose end falls in and out of blocks.
    const char* enders[] = {R"(\")",    R"(\\)",        R"(\n)", R"(\u0001)", R"(\u001f)", "\x7f",
                            "\xc3\xa9", "\xe2\x82\xac", "\x01",  "\x1f",      "\x80",      "\xc3"};
    for (const char* ender : enders)
        for (std::size_t before = 0; before <= 33; ++before)
            for (std::size_t after : {0, 1, 15, 16, 17})
                check_agrees("[\"" + std::string(before, 'a') + ender + std::string(after, 'b') +
                             "\"]");
}

TEST_CASE("anthropic json scanner: refuses nesting deeper than its bound, and takes it up to") {
    const std::size_t depth = anthropic::JsonScanner::kMaxDepth;
    json_trace::ScannerTrace trace;
    anthropic::JsonScanner scanner;
    CHECK(scanner.scan(std::string(depth, '[') + std::string(depth, ']'), trace));
    CHECK_FALSE(scanner.scan(std::string(depth + 1, '[') + std::string(depth + 1, ']'), trace));
}

TEST_CASE("anthropic json scanner: hands over only the strings it is asked for") {
    struct KeysOnly : json_trace::ScannerTrace {
        bool reads_string() override { return false; }
    } keys_only;
    anthropic::JsonScanner scanner;
    REQUIRE(scanner.scan(R"({"a":"x\n","b":["y"]})", keys_only));
    CHECK(keys_only.lines == std::vector<std::string>{"{", "k:a", "k:b", "[", "]", "}"});
}

TEST_CASE("anthropic json scanner: agrees with the reference on random mutations of a chunk") {
    std::mt19937 random(20261129);  // fixed: the same texts every run
    const std::string alphabet = "{}[]\",:\\u0123456789.eE+-tfnrl \x01\x80\xc3\xa9\xed\xf0";
    for (int i = 0; i < 20000; ++i) {
        std::string text = kChunk;
        const int edits = 1 + static_cast<int>(random() % 3);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = random() % text.size();
            const char c = alphabet[random() % alphabet.size()];
            switch (random() % 3) {
                case 0:
                    text[at] = c;
                    break;
                case 1:
                    text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
                    break;
                default:
                    text.erase(at, 1);
            }
        }
        check_agrees(text);
    }
}

TEST_CASE("anthropic json scanner: is_json_object takes one object and nothing else") {
    for (const char* yes : {"{}", " {\"a\":[1,{\"b\":null}]} \n", "{\"\":\"\\u00e9\"}"})
        CHECK_MESSAGE(anthropic::is_json_object(yes), yes);
    for (const char* no :
         {"", " ", "[]", "\"{}\"", "1", "{\"a\":tru}", "{\"a\" 1}", "{} {}", "{}]"})
        CHECK_FALSE_MESSAGE(anthropic::is_json_object(no), no);
}
