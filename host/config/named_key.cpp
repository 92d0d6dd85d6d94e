#include "config/named_key.hpp"

#include <algorithm>
#include <cctype>

namespace llmproxy {

std::optional<NamedKey> key_named_in(std::string_view message, const KeyLines& lines,
                                     std::string_view ignore) {
    auto key_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    };
    std::optional<NamedKey> best;
    std::size_t best_levels = 0;
    for (std::size_t i = 0; i < message.size();) {
        if (!key_char(message[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < message.size() && key_char(message[end]))
            ++end;
        std::string_view word = message.substr(i, end - i);
        i = end;
        while (!word.empty() && word.back() == '.')  // the end of a sentence
            word.remove_suffix(1);
        if (word == ignore)
            continue;
        // The longest dotted prefix of word that is a key.
        for (std::string_view prefix = word; !prefix.empty();) {
            if (auto it = lines.find(prefix); it != lines.end()) {
                std::size_t levels = std::count(prefix.begin(), prefix.end(), '.') + 1;
                if (levels > best_levels) {
                    best_levels = levels;
                    best = NamedKey{std::string(word), it->second};
                }
                break;
            }
            std::size_t dot = prefix.rfind('.');
            prefix = dot == std::string_view::npos ? std::string_view() : prefix.substr(0, dot);
        }
    }
    return best;
}

}  // namespace llmproxy
