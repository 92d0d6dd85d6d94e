#include "limits/resp_command.hpp"

#include <charconv>

namespace llmproxy {

Decimal::Decimal(std::int64_t n) {
    size = static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, n).ptr - digits);
}

Decimal::Decimal(std::uint64_t n) {
    size = static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, n).ptr - digits);
}

RespCommand::RespCommand(std::string& out, std::size_t words) : out_(out) {
    header('*', words);
}

void RespCommand::header(char kind, std::size_t n) {
    char text[24] = {kind};
    char* end = std::to_chars(text + 1, text + 21, n).ptr;
    *end++ = '\r';
    *end++ = '\n';
    out_.append(text, static_cast<std::size_t>(end - text));
}

RespCommand& RespCommand::word(std::string_view text) {
    header('$', text.size());
    out_.append(text).append("\r\n");
    return *this;
}

RespCommand& RespCommand::number(std::int64_t n) {
    return word(Decimal(n).text());
}

RespCommand& RespCommand::joined(std::initializer_list<std::string_view> parts) {
    std::size_t size = 0;
    for (std::string_view part : parts)
        size += part.size();
    header('$', size);
    for (std::string_view part : parts)
        out_.append(part);
    out_.append("\r\n");
    return *this;
}

void append_command(std::string& out, std::span<const std::string_view> words) {
    RespCommand command(out, words.size());
    for (std::string_view word : words)
        command.word(word);
}

}  // namespace llmproxy
