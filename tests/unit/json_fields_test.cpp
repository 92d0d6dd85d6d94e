#include "json/json_fields.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace jf = llmproxy::json_fields;
using jf::Edit;

namespace {

const std::string kBody =
    R"( { "model" : "gpt-4o", "messages": [ {"role":"system","content":"be \"brief\""},
    {"role":"user","content":"hi \u00e9 {[,]}"} ], "a/b": {"m~n": 1}, "stream": false, "n": null } )";

// Applies an edit and returns the document, checking it is still valid JSON.
std::string edited(std::string json, Edit op, std::string_view pointer,
                   std::string_view value = "") {
    std::string error = jf::edit(json, op, pointer, value);
    REQUIRE_MESSAGE(error.empty(), error);
    REQUIRE(nlohmann::json::accept(json));
    return nlohmann::json::parse(json).dump();
}

std::string edit_error(std::string json, Edit op, std::string_view pointer,
                       std::string_view value = "") {
    std::string before = json;
    std::string error = jf::edit(json, op, pointer, value);
    CHECK(json == before);
    return error;
}

}  // namespace

TEST_CASE("fields are found by JSON pointer without disturbing strings that look like JSON") {
    CHECK(jf::get(kBody, "/model") == "\"gpt-4o\"");
    CHECK(jf::get_string(kBody, "/model") == "gpt-4o");
    CHECK(jf::get(kBody, "/messages/1/role") == "\"user\"");
    CHECK(jf::get_string(kBody, "/messages/1/content") == "hi \u00e9 {[,]}");
    CHECK(jf::get_string(kBody, "/messages/0/content") == "be \"brief\"");
    CHECK(jf::get(kBody, "/a~1b/m~0n") == "1");
    CHECK(jf::get(kBody, "/stream") == "false");
    CHECK(jf::get(kBody, "/n") == "null");
    CHECK(nlohmann::json::parse(*jf::get(kBody, "/messages")).size() == 2);
    CHECK(nlohmann::json::parse(*jf::get(kBody, "")) == nlohmann::json::parse(kBody));
}

TEST_CASE("escaped quotes and backslashes inside strings are skipped correctly") {
    const std::string json = R"({"a":"x\\","q":"say \"hi\" \\\"","b":[1,"]"],"c":2})";
    CHECK(jf::get(json, "/c") == "2");
    CHECK(jf::get_string(json, "/a") == "x\\");
    CHECK(jf::get_string(json, "/q") == "say \"hi\" \\\"");
    CHECK(jf::get(json, "/b/1") == "\"]\"");
}

TEST_CASE("absent fields and malformed pointers are nullopt") {
    CHECK_FALSE(jf::get(kBody, "/missing"));
    CHECK_FALSE(jf::get(kBody, "/messages/2"));
    CHECK_FALSE(jf::get(kBody, "/messages/01"));
    CHECK_FALSE(jf::get(kBody, "/messages/x"));
    CHECK_FALSE(jf::get(kBody, "/model/0"));
    CHECK_FALSE(jf::get(kBody, "model"));
    CHECK_FALSE(jf::get(kBody, "/a~2b"));
    CHECK_FALSE(jf::get_string(kBody, "/stream"));
}

TEST_CASE("replace and add overwrite an existing value in place") {
    auto expected = nlohmann::json::parse(kBody);
    expected["model"] = "gpt-4o-mini";
    CHECK(edited(kBody, Edit::replace, "/model", "\"gpt-4o-mini\"") == expected.dump());
    CHECK(edited(kBody, Edit::add, "/model", "\"gpt-4o-mini\"") == expected.dump());
    expected = nlohmann::json::parse(kBody);
    expected["messages"][1]["content"] = {{{"type", "text"}, {"text", "x"}}};
    CHECK(edited(kBody, Edit::replace, "/messages/1/content", R"([{"type":"text","text":"x"}])") ==
          expected.dump());
}

TEST_CASE("add creates object members and inserts into arrays") {
    auto expected = nlohmann::json::parse(kBody);
    expected["temperature"] = 0.5;
    CHECK(edited(kBody, Edit::add, "/temperature", "0.5") == expected.dump());

    expected = nlohmann::json::parse(kBody);
    nlohmann::json system = {{"role", "system"}, {"content", "new"}};
    expected["messages"].insert(expected["messages"].begin(), system);
    CHECK(edited(kBody, Edit::add, "/messages/0", R"({"role":"system","content":"new"})") ==
          expected.dump());

    expected = nlohmann::json::parse(kBody);
    expected["messages"].push_back(1);
    CHECK(edited(kBody, Edit::add, "/messages/-", "1") == expected.dump());
    CHECK(edited(kBody, Edit::add, "/messages/2", "1") == expected.dump());

    CHECK(edited("{}", Edit::add, "/a", "[]") == R"({"a":[]})");
    CHECK(edited(R"({"a":[ ]})", Edit::add, "/a/0", "7") == R"({"a":[7]})");
    CHECK(edited(R"({"a":[ ]})", Edit::add, "/a/-", "7") == R"({"a":[7]})");
}

TEST_CASE("remove takes the value and one separating comma") {
    for (const char* key : {"/model", "/n", "/stream", "/a~1b"}) {
        auto expected = nlohmann::json::parse(kBody);
        expected.erase(std::string(key + 1) == "a~1b" ? "a/b" : std::string(key + 1));
        CHECK(edited(kBody, Edit::remove, key) == expected.dump());
    }
    auto expected = nlohmann::json::parse(kBody);
    expected["messages"].erase(0);
    CHECK(edited(kBody, Edit::remove, "/messages/0") == expected.dump());
    expected = nlohmann::json::parse(kBody);
    expected["messages"].erase(1);
    CHECK(edited(kBody, Edit::remove, "/messages/1") == expected.dump());
    CHECK(edited(R"({"only":1})", Edit::remove, "/only") == "{}");
}

TEST_CASE("impossible edits change nothing and say why") {
    CHECK(edit_error(kBody, Edit::replace, "/missing", "1") == "'/missing' does not exist");
    CHECK(edit_error(kBody, Edit::remove, "/messages/5") == "'/messages/5' does not exist");
    CHECK(edit_error(kBody, Edit::add, "/x/y", "1") == "'/x/y': the parent does not exist");
    CHECK(edit_error(kBody, Edit::add, "/messages/9", "1") ==
          "'/messages/9': index past the end of the array");
    CHECK(edit_error(kBody, Edit::add, "/model/x", "1") ==
          "'/model/x': the parent is not an object or array");
    CHECK(edit_error(kBody, Edit::add, "/t", "{bad") ==
          "the value for '/t' is not valid JSON: an object member must start with a quoted key (at "
          "byte 1)");
    CHECK(edit_error(kBody, Edit::add, "t", "1") == "malformed JSON pointer 't'");
    CHECK(edit_error(kBody, Edit::remove, "") == "cannot remove the whole document");
}

TEST_CASE("the validator accepts exactly RFC 8259 values") {
    for (const char* good : {"0", "-1.5e+10", "\"a\\u00e9\\n\"", "true", " null ", "[]", "{}",
                             R"({"a":[1,{"b":null}],"c":"\\\""})", "[ 1 , 2 ]", "1E3", "0.5"})
        CHECK_MESSAGE(jf::valid(good), good);
    for (const char* bad : {"",
                            "01",
                            "1.",
                            ".5",
                            "-",
                            "+1",
                            "\"unterminated",
                            "\"bad \\x\"",
                            "\"\\u12\"",
                            "[1,]",
                            "{\"a\"}",
                            "{\"a\":1,}",
                            "[1 2]",
                            "tru",
                            "nul",
                            "{a:1}",
                            "1 2",
                            "\"tab\there\"",
                            "[",
                            "{\"a\":1"})
        CHECK_MESSAGE(!jf::valid(bad), bad);
    std::string deep(300, '[');
    deep += std::string(300, ']');
    CHECK_FALSE(jf::valid(deep));
}

TEST_CASE("a key twice in one object makes the text invalid, however the key is written") {
    // What a check reads must be what the upstream reads: parsers disagree on which duplicate wins.
    for (const char* bad : {R"({"model":"a","model":"b"})", R"({"model":"a","mod\u0065l":"b"})",
                            R"({"m\u006fdel":1,"model":2})", R"({"a":{"x":1,"x":2}})",
                            R"([{"stream":false,"n":1,"stream":true}])", R"({"":1,"":2})",
                            R"({"\ud83d\ude00":1,"😀":2})", R"({"a\/b":1,"a/b":2})"})
        CHECK_MESSAGE(!jf::valid(bad), bad);
    // The same key in different objects, or at different depths, is fine.
    for (const char* good :
         {R"({"a":{"a":1},"b":{"a":2}})", R"([{"x":1},{"x":2}])",
          R"({"model":"a","Model":"b","model ":"c"})", R"({"a":{"b":1},"b":{"a":{"b":2}}})"})
        CHECK_MESSAGE(jf::valid(good), good);
    CHECK(jf::check(R"({"messages":[],"model":"a","mod\u0065l":"b"})") ==
          "the key \"model\" appears twice in one object (at byte 27)");
}

TEST_CASE("objects with many keys are checked for duplicates past the linear search") {
    std::string many = "{";
    for (int i = 0; i < 1000; ++i)
        many += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    CHECK(jf::valid(many + "}"));
    CHECK_FALSE(jf::valid(many + ",\"k5\":0}"));        // a duplicate of an early key
    CHECK_FALSE(jf::valid(many + ",\"k\\u0039\":0}"));  // "k9", escaped
    CHECK_FALSE(jf::valid(many + ",\"k999\":0}"));
}

TEST_CASE("a \\u escape must be a whole UTF-16 character: lone surrogates are invalid") {
    for (const char* bad :
         {R"("\ud800")", R"("\udc00")", R"("a\ud800b")", R"("\ud800\u0041")", R"("\udbff\udbff")",
          R"("\ude00\ud83d")", R"("\ud800\")", R"({"content":"x\uD800"})", R"("\ud83d\ude0")"})
        CHECK_MESSAGE(!jf::valid(bad), bad);
    for (const char* good : {R"("\ud83d\ude00")", R"("\uD83D\uDE00")", R"("\u0000")", R"("\uffff")",
                             R"("\ud7ff\ue000")"})
        CHECK_MESSAGE(jf::valid(good), good);
    CHECK(jf::check(R"({"content":"x\ud800"})").find("high surrogate") != std::string::npos);
}

TEST_CASE("strings are unescaped exactly as a JSON parser reads them") {
    const std::string json =
        R"({"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac\ud83d\ude00\u0000z","k\u0065y":1})";
    REQUIRE(jf::valid(json));
    auto expected = nlohmann::json::parse(json);
    CHECK(jf::get_string(json, "/s") == expected["s"].get<std::string>());
    CHECK(jf::get(json, "/key") == "1");
}

TEST_CASE("long strings are checked at every position, whatever the block a byte falls in") {
    // Plain text is skipped in blocks of 16 bytes: put each kind of byte the validator must see
    // at every offset of a 50-byte string, across block boundaries and in the tail.
    struct Case {
        std::string bytes;
        bool valid;
    };
    const Case cases[] = {{"\\n", true},          {"\\u00e9", true},   {"\xc3\xa9", true},
                          {"\xe2\x82\xac", true}, {"\\\"", true},      {"\t", false},
                          {"\x01", false},        {"\\x", false},      {"\xc3", false},
                          {"\xff", false},        {"\xc3\x28", false}, {"\x7f", true}};
    for (const auto& c : cases) {
        for (std::size_t at = 0; at <= 50; ++at) {
            std::string text =
                "\"" + std::string(at, 'a') + c.bytes + std::string(50 - at, 'b') + "\"";
            CHECK_MESSAGE(jf::valid(text) == c.valid, "byte(s) at offset ", at);
            // An unescaped quote ends the string there: what follows must then be JSON.
            std::string cut = "\"" + std::string(at, 'a') + "\"" + std::string(50 - at, 'b') + "\"";
            CHECK_FALSE(jf::valid(cut));
        }
    }
}

TEST_CASE("an index stays true through every kind of edit") {
    // After each edit made through the index, every lookup through it must agree with a fresh
    // scan of the text.
    const std::vector<std::string> probes = {"",
                                             "/model",
                                             "/messages",
                                             "/messages/0",
                                             "/messages/0/role",
                                             "/messages/0/content",
                                             "/messages/1",
                                             "/messages/1/content",
                                             "/messages/1/content/0/text",
                                             "/messages/2",
                                             "/messages/2/content",
                                             "/messages/3",
                                             "/a~1b",
                                             "/a~1b/m~0n",
                                             "/stream",
                                             "/n",
                                             "/t"};
    struct Step {
        Edit op;
        const char* pointer;
        const char* value;
    };
    const std::vector<Step> steps = {
        {Edit::replace, "/model", "\"gpt-4o-mini-long-name\""},
        {Edit::add, "/messages/0", R"({"role":"system","content":"new first"})"},
        {Edit::replace, "/messages/1/content", "\"x\""},
        {Edit::add, "/t", "0.5"},
        {Edit::replace, "/messages/2/content", R"([{"type":"text","text":"parts"}])"},
        {Edit::add, "/messages/-", R"({"role":"user","content":"appended"})"},
        {Edit::remove, "/messages/0", ""},
        {Edit::add, "/a~1b/m~0n", "[1,2,3]"},
        {Edit::remove, "/n", ""},
        {Edit::replace, "/messages/1/content/0/text", "\"changed\""},
        {Edit::add, "/model", "\"m\""},
    };
    std::string json = kBody;
    jf::Index index;
    for (const auto& probe : probes)
        jf::find(json, probe, &index);  // fill the index
    for (const auto& step : steps) {
        CAPTURE(step.pointer);
        std::string error = jf::edit(json, step.op, step.pointer, step.value, &index);
        REQUIRE_MESSAGE(error.empty(), error);
        REQUIRE(jf::valid(json));
        for (const auto& probe : probes) {
            CAPTURE(probe);
            auto indexed = jf::get(json, probe, &index);
            auto scanned = jf::get(json, probe);
            CHECK(indexed.has_value() == scanned.has_value());
            if (indexed && scanned)
                CHECK(*indexed == *scanned);
        }
    }
    auto result = nlohmann::json::parse(json);
    CHECK(result["model"] == "m");
    CHECK(result["messages"].size() == 3);
    CHECK(result["messages"][1]["content"][0]["text"] == "changed");
}

TEST_CASE("one pass finds the top-level members asked for, and no nested look-alike") {
    const std::vector<std::string_view> keys = {"stream", "model", "absent", "m~n", "role"};
    std::vector<std::optional<jf::Span>> spans(keys.size());
    jf::Index index;
    jf::find_members(kBody, keys, spans, &index);
    const auto text = [&](std::size_t i) {
        return spans[i]
                   ? std::string(kBody.substr(spans[i]->begin, spans[i]->end - spans[i]->begin))
                   : std::string("(none)");
    };
    CHECK(text(0) == "false");
    CHECK(text(1) == "\"gpt-4o\"");
    CHECK(text(2) == "(none)");
    CHECK(text(3) == "(none)");  // only inside "a/b"
    CHECK(text(4) == "(none)");  // only inside messages
    // What it found, the index answers for; a later lookup agrees with a fresh scan.
    CHECK(jf::get(kBody, "/model", &index) == jf::get(kBody, "/model"));
    CHECK(jf::get(kBody, "/stream", &index) == "false");

    // An escaped key is the name it spells; anything but an object has no members.
    std::vector<std::optional<jf::Span>> one(1);
    const std::vector<std::string_view> model = {"model"};
    jf::find_members(R"({"mod\u0065l":"x"})", model, one);
    CHECK(one[0].has_value());
    jf::find_members(R"(["model","x"])", model, one);
    CHECK_FALSE(one[0].has_value());
}

TEST_CASE("a member appended at the end of an object keeps the text valid and its index true") {
    for (std::string json : {std::string(kBody), std::string("{ }"), std::string("{}")}) {
        CAPTURE(json);
        jf::Index index;
        for (const char* probe : {"", "/model", "/messages/1/content", "/n"})
            jf::find(json, probe, &index);
        jf::append_member(json, "stream_options", R"({"include_usage":true})", &index);
        REQUIRE(jf::valid(json));
        CHECK(jf::get(json, "/stream_options/include_usage") == "true");
        for (const char* probe : {"", "/model", "/messages/1/content", "/n", "/stream_options"})
            CHECK(jf::get(json, probe, &index) == jf::get(json, probe));
    }
}
