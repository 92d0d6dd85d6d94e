// json_fields::edit against nlohmann's JSON Patch (RFC 6902) on valid documents: an edit that the
// RFC allows succeeds and gives the document nlohmann's patch gives; one it does not allow (absent
// target or parent, index past the end, malformed pointer, invalid value) fails and changes
// nothing; and an Index filled before the edit still finds every value of the edited text. Also
// append_member() on every object document (check_append).
//
// Input: the document, then (taken from the end by FuzzedDataProvider) four bytes choosing the
// operation, the target pointer and the value: one of the document's own values or a literal.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "json/json_fields.hpp"
#include "strict_json.hpp"

using fuzz::require;
using nlohmann::json;
namespace json_fields = llmproxy::json_fields;
using json_fields::Edit;

namespace {

constexpr std::size_t kMaxPointers = 64;

// Values to add or replace with, besides the document's own: valid ones of every kind, padded
// ones, and invalid ones that every edit must refuse.
constexpr std::array<std::string_view, 18> kLiterals = {
    "null",
    "true",
    "-0.5e+3",
    "\"text\"",
    R"("\u00e9\ud83d\ude00 \"q\" \\")",
    "[]",
    "{}",
    R"( [1, {"k": [false]}] )",
    R"({"model":"m","stream":true})",
    "",
    "{",
    "01",
    "[1,]",
    R"("\ud800")",
    R"({"a":1,"a":2})",
    "nul",
    "1 2",
    "\"\x01\"",
};

// Last reference tokens appended to a pointer of the document: array indexes, the append token,
// new keys (escaped, empty, non-ASCII) and malformed ones.
constexpr std::array<std::string_view, 10> kTokens = {
    "0", "1", "2", "-", "new", "a~0b~1c", "\xC3\xA9", "", "01", "~2",
};

const char* name_of(Edit op) {
    return op == Edit::add ? "add" : op == Edit::replace ? "replace" : "remove";
}

// The document after the edit as RFC 6902 has it, through nlohmann's patch; nullopt when the RFC
// refuses it. nlohmann is looser than the RFC in two places, settled here first: it adds members
// to a null parent, and it ignores a removal from a scalar parent.
std::optional<json> expected_patch(const json& doc, Edit op, const std::string& pointer,
                                   const std::optional<json>& value) {
    try {
        json::json_pointer target(pointer);
        if (!target.empty()) {
            json::json_pointer parent = target.parent_pointer();
            if (!doc.contains(parent) || !(doc.at(parent).is_object() || doc.at(parent).is_array()))
                return std::nullopt;
        }
        json operation = {{"op", name_of(op)}, {"path", pointer}};
        if (op != Edit::remove)
            operation["value"] = *value;
        return doc.patch(json::array({operation}));
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

// append_member() (how llm-proxy asks a stream for its usage) on an object that lacks the member:
// the document gains exactly that member, stays strictly valid, and an index filled before still
// finds every value.
void check_append(const std::string& text, const json& doc,
                  const std::vector<std::string>& pointers) {
    constexpr std::string_view kKey = "stream_options";
    if (!doc.is_object() || doc.contains(kKey))
        return;
    json_fields::Index index;
    std::string appended = text;
    for (const std::string& p : pointers)
        json_fields::get(appended, p, &index);
    json_fields::append_member(appended, kKey, R"({"include_usage":true})", &index);
    json expected = doc;
    expected[std::string(kKey)] = json{{"include_usage", true}};
    require(fuzz::StrictJson::check(appended) == fuzz::Verdict::valid &&
                json::parse(appended) == expected,
            "append_member() adds exactly the member, and the text stays valid");
    std::vector<std::string> after;
    fuzz::collect_pointers(expected, "", after, kMaxPointers);
    for (const std::string& p : after)
        require(json_fields::get(appended, p, &index) == json_fields::get(appended, p),
                "an index stays true through append_member()");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    const auto op = static_cast<Edit>(input.ConsumeIntegralInRange<int>(0, 2));
    const auto target_choice = input.ConsumeIntegral<std::uint8_t>();
    const auto token_choice = input.ConsumeIntegral<std::uint8_t>();
    const auto value_choice = input.ConsumeIntegral<std::uint8_t>();
    const std::string text = input.ConsumeRemainingBytesAsString();
    if (fuzz::StrictJson::check(text) != fuzz::Verdict::valid || !json_fields::valid(text))
        return 0;  // the json target compares verdicts; edits need a valid document
    const json doc = json::parse(text);

    std::vector<std::string> pointers;
    fuzz::collect_pointers(doc, "", pointers, kMaxPointers);
    check_append(text, doc, pointers);
    std::string pointer = pointers[target_choice % pointers.size()];
    if (token_choice < 2 * kTokens.size())  // else: the existing value itself
        pointer += "/" + std::string(kTokens[token_choice % kTokens.size()]);

    const std::size_t values = pointers.size() + kLiterals.size();
    const std::string value_text =
        value_choice % values < pointers.size()
            ? std::string(*json_fields::get(text, pointers[value_choice % values]))
            : std::string(kLiterals[value_choice % values - pointers.size()]);
    const fuzz::Verdict value_verdict = fuzz::StrictJson::check(value_text);
    if (value_verdict == fuzz::Verdict::unknown ||
        json_fields::valid(value_text) != (value_verdict == fuzz::Verdict::valid))
        return 0;  // a verdict the json target reports
    std::optional<json> value;
    if (value_verdict == fuzz::Verdict::valid)
        value = json::parse(value_text);

    std::optional<json> expected;
    if (op == Edit::remove || value)
        expected = expected_patch(doc, op, pointer, value);

    json_fields::Index index;
    std::string edited = text;
    for (const std::string& p : pointers)
        json_fields::get(edited, p, &index);
    const std::string error = json_fields::edit(edited, op, pointer, value_text, &index);
    if (!expected) {
        require(!error.empty() && edited == text,
                "an edit RFC 6902 refuses fails and changes nothing");
        return 0;
    }
    require(error.empty(), "an edit RFC 6902 allows succeeds");
    require(json::accept(edited) && json::parse(edited) == *expected,
            "an edit gives the document nlohmann's patch gives");
    std::vector<std::string> after;
    fuzz::collect_pointers(*expected, "", after, kMaxPointers);
    for (const std::string& p : after)
        require(json_fields::get(edited, p, &index) == json_fields::get(edited, p),
                "an index stays true through an edit");
    return 0;
}
