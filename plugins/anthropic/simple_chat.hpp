// The fast paths of both request translators (simple_request.hpp, OpenAI to Anthropic, and
// simple_client_request.hpp, Anthropic to OpenAI) read the request most clients send through
// one scan of its text (json_scanner.hpp), without building a document: building one was most of
// what translating a request cost. This is that reading.
//
// A simple chat is one JSON object whose members are scalars (strings, numbers, true, false),
// except "messages": an array of objects with exactly a "role" (system, developer, user or
// assistant) and a string "content". Nulls, other containers, duplicate members and any text
// that is not valid JSON make it not simple.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anthropic {

struct SimpleChat {
    // A top-level member other than messages. Views are into the request's text.
    struct Member {
        enum class Kind { string, integer, number, boolean };
        std::string_view key;
        Kind kind;
        std::string_view text;     // as written: a string's quotes and escapes included
        std::int64_t integer = 0;  // Kind::integer: its value
    };
    enum class Role { system, developer, user, assistant };
    struct Message {
        Role role;
        std::string_view content;  // the string literal, as written
        bool blank;                // content is empty or only whitespace
    };

    std::vector<Member> members;
    std::vector<Message> messages;
    bool has_messages = false;
    std::string model;  // the "model" member's value, unescaped, when it is a string

    // The member named `key`, or nullptr.
    const Member* member(std::string_view key) const;

    // Appends ,"key":value for each of `keys` that is a member, in that order, the value as
    // written.
    void append_members(std::string& out, std::initializer_list<std::string_view> keys) const;
};

// `text` as a simple chat with messages whose every other member `takes` accepts, or nullopt.
std::optional<SimpleChat> read_simple_chat(std::string_view text,
                                           bool (*takes)(const SimpleChat::Member&));

}  // namespace anthropic
