// Text patterns for redact, guard and logger: built-in kinds (email, card, api_key) and custom
// regular expressions. RE2 runs in linear time, so no message can make a pattern hang.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace processors {

class PatternSet {
  public:
    // builtin: names among "email", "card" (Luhn-checked), "api_key"; custom: RE2 expressions.
    // Throws llm_proxy::Error naming config_key for an unknown name or an invalid expression.
    PatternSet(const std::vector<std::string>& builtin, const std::vector<std::string>& custom,
               const std::string& config_key);

    static const std::vector<std::string>& builtin_names();

    bool empty() const { return patterns_.empty(); }
    // The name of the first pattern found in text ("custom" for custom ones), or nullopt.
    std::optional<std::string> find(std::string_view text) const;
    // text with every match replaced by mask; nullopt when nothing matched.
    std::optional<std::string> redact(std::string_view text, std::string_view mask) const;

  private:
    struct Pattern {
        std::string name;
        std::unique_ptr<RE2> re;
        bool luhn = false;  // a match counts only if its digits pass the Luhn check
        bool (*may_match)(std::string_view) = nullptr;  // false rules the pattern out cheaply
    };
    bool accepts(const Pattern& p, std::string_view match) const;
    std::vector<Pattern> patterns_;
};

}  // namespace processors
