// Redis commands in RESP, written straight into a string: "*N\r\n", then each word as a bulk
// string "$LENGTH\r\nBYTES\r\n" (binary-safe). Nothing is allocated but the string's growth, so
// a request's command costs one pass over its words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace llmproxy {

class RespCommand {
  public:
    // Starts a command of `words` words at the end of out; exactly that many must follow before
    // out is sent.
    RespCommand(std::string& out, std::size_t words);

    RespCommand& word(std::string_view text);
    // A word: n in decimal.
    RespCommand& number(std::int64_t n);
    // One word: the parts one after another.
    RespCommand& joined(std::initializer_list<std::string_view> parts);

  private:
    // "*COUNT\r\n" (kind '*') before the words, "$LENGTH\r\n" (kind '$') before each.
    void header(char kind, std::size_t n);

    std::string& out_;
};

// Appends a command (its words) to out.
void append_command(std::string& out, std::span<const std::string_view> words);
inline void append_command(std::string& out, std::initializer_list<std::string_view> words) {
    append_command(out, std::span<const std::string_view>(words.begin(), words.size()));
}

// A number's decimal text, in a buffer of the caller's.
struct Decimal {
    explicit Decimal(std::int64_t n);
    explicit Decimal(std::uint64_t n);
    std::string_view text() const { return {digits, size}; }

    char digits[20];
    std::size_t size;
};

}  // namespace llmproxy
