#include "patterns.hpp"

#include <algorithm>

#include "processor_kit.hpp"

namespace processors {

namespace {

// Cheap tests that rule a built-in pattern out before any regular expression runs: most text
// has no '@', no long run of digits and no key prefix.
bool has_at_sign(std::string_view text) {
    return text.find('@') != std::string_view::npos;
}

bool has_13_digits(std::string_view text) {
    int digits = 0;
    for (char c : text)
        if (c >= '0' && c <= '9' && ++digits >= 13)
            return true;
    return false;
}

bool has_key_prefix(std::string_view text) {
    for (std::string_view prefix : {"sk-", "AKIA", "gh", "xox", "AIza"})
        if (text.find(prefix) != std::string_view::npos)
            return true;
    return false;
}

struct Builtin {
    const char* name;
    const char* expression;
    bool luhn;
    bool (*may_match)(std::string_view);
};

const Builtin kBuiltins[] = {
    {"email", R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})", false,
     has_at_sign},
    {"card", R"(\b(?:\d[ -]?){12,18}\d\b)", true, has_13_digits},
    {"api_key",
     R"(\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b)",
     false, has_key_prefix},
};

bool luhn_valid(std::string_view text) {
    int sum = 0;
    int digits = 0;
    for (auto it = text.rbegin(); it != text.rend(); ++it) {
        if (*it < '0' || *it > '9')
            continue;
        int d = *it - '0';
        if (digits++ % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return digits >= 13 && sum % 10 == 0;
}

}  // namespace

const std::vector<std::string>& PatternSet::builtin_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& b : kBuiltins)
            out.push_back(b.name);
        return out;
    }();
    return names;
}

PatternSet::PatternSet(const std::vector<std::string>& builtin,
                       const std::vector<std::string>& custom, const std::string& config_key) {
    for (const auto& name : builtin) {
        const Builtin* found = nullptr;
        for (const auto& b : kBuiltins)
            if (name == b.name)
                found = &b;
        if (!found)
            throw Error(config_key + ": unknown pattern \"" + name +
                        "\" (built-in patterns: email, card, api_key; use custom for "
                        "your own regular expressions)");
        patterns_.push_back(
            {found->name, std::make_unique<RE2>(found->expression), found->luhn, found->may_match});
    }
    for (const auto& expression : custom) {
        RE2::Options options;
        options.set_log_errors(false);
        auto re = std::make_unique<RE2>(expression, options);
        if (!re->ok())
            throw Error(config_key + ": the regular expression \"" + expression +
                        "\" is invalid: " + re->error());
        patterns_.push_back({"custom", std::move(re), false, nullptr});
    }
}

bool PatternSet::accepts(const Pattern& p, std::string_view match) const {
    return !p.luhn || luhn_valid(match);
}

std::optional<std::string> PatternSet::find(std::string_view text) const {
    re2::StringPiece input(text.data(), text.size());
    for (const auto& p : patterns_) {
        if (p.may_match && !p.may_match(text))
            continue;
        if (!RE2::PartialMatch(input, *p.re))
            continue;  // the fast test, without match bounds
        std::size_t pos = 0;
        re2::StringPiece match;
        while (pos <= text.size() &&
               p.re->Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
            if (!match.empty() && accepts(p, std::string_view(match.data(), match.size())))
                return p.name;
            pos = static_cast<std::size_t>(match.data() - text.data()) +
                  std::max<std::size_t>(match.size(), 1);
        }
    }
    return std::nullopt;
}

std::optional<std::string> PatternSet::redact(std::string_view text, std::string_view mask) const {
    std::string current(text);
    bool changed = false;
    for (const auto& p : patterns_) {
        if (p.may_match && !p.may_match(current))
            continue;
        if (!RE2::PartialMatch(current, *p.re))
            continue;  // the fast test, without match bounds
        std::string out;
        std::size_t pos = 0;
        re2::StringPiece input(current);
        re2::StringPiece match;
        while (pos <= current.size() &&
               p.re->Match(input, pos, current.size(), RE2::UNANCHORED, &match, 1)) {
            std::size_t begin = static_cast<std::size_t>(match.data() - current.data());
            std::size_t end = begin + match.size();
            out.append(current, pos, begin - pos);
            if (accepts(p, std::string_view(match.data(), match.size())) && !match.empty()) {
                out.append(mask);
                changed = true;
            } else {
                out.append(current, begin, match.size());
            }
            pos = match.empty() ? end + 1 : end;
            if (match.empty() && begin < current.size())
                out.push_back(current[begin]);
        }
        if (pos < current.size())
            out.append(current, pos, std::string::npos);
        current = std::move(out);
    }
    if (!changed)
        return std::nullopt;
    return current;
}

}  // namespace processors
