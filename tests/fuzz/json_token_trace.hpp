// The anthropic codec's JSON scanner (plugins/anthropic/json_scanner.hpp) and its reference,
// nlohmann::json's strict SAX parse, as traces of the same form, for tests that hold one to the
// other: one line per token ({, }, [, ], k:<key>, s:<string>, i:<integer>, o:<text> for any
// other value, as it stands in the text), strings unescaped.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "anthropic/json_scanner.hpp"

namespace json_trace {

struct ScannerTrace : anthropic::JsonTokens {
    void object_start() override { lines.push_back("{"); }
    void object_end() override { lines.push_back("}"); }
    void array_start() override { lines.push_back("["); }
    void array_end() override { lines.push_back("]"); }
    void key(std::string_view k) override { lines.push_back("k:" + std::string(k)); }
    bool reads_string() override { return true; }
    void string(std::string_view s) override { lines.push_back("s:" + std::string(s)); }
    void integer(std::int64_t i) override { lines.push_back("i:" + std::to_string(i)); }
    void other_value(std::string_view text) override { lines.push_back("o:" + std::string(text)); }
    std::vector<std::string> lines;
};

class ReferenceTrace : public nlohmann::json_sax<nlohmann::json> {
  public:
    // Whether nlohmann accepts `text`, tracing it into `lines`.
    bool parse(std::string_view text) {
        return nlohmann::json::sax_parse(text.begin(), text.end(), this);
    }

    bool null() override { return add("o:null"); }
    bool boolean(bool value) override { return add(value ? "o:true" : "o:false"); }
    bool number_integer(std::int64_t i) override { return add("i:" + std::to_string(i)); }
    bool number_unsigned(std::uint64_t u) override {
        return add(u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                       ? "o:" + std::to_string(u)
                       : "i:" + std::to_string(u));
    }
    bool number_float(double, const std::string& text) override { return add("o:" + text); }
    bool string(std::string& s) override { return add("s:" + s); }
    bool binary(binary_t&) override { return add("o:binary"); }
    bool start_object(std::size_t) override { return open("{"); }
    bool key(std::string& k) override { return add("k:" + k); }
    bool end_object() override { return close("}"); }
    bool start_array(std::size_t) override { return open("["); }
    bool end_array() override { return close("]"); }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& error) override {
        // nlohmann refuses numbers beyond a double's range (1e400), which RFC 8259's grammar
        // allows and the scanner takes: nothing to compare then.
        number_overflow = error.id == 406;
        return false;
    }

    std::vector<std::string> lines;
    std::size_t max_depth = 0;
    bool number_overflow = false;

  private:
    bool add(std::string line) {
        lines.push_back(std::move(line));
        return true;
    }
    bool open(const char* line) {
        max_depth = std::max(max_depth, ++depth_);
        return add(line);
    }
    bool close(const char* line) {
        --depth_;
        return add(line);
    }
    std::size_t depth_ = 0;
};

// What the scanner must do with a text nlohmann accepts or refuses.
enum class Expected { accept, refuse, either };

// nlohmann is looser than RFC 8259 in two ways the scanner is not (it skips a leading byte order
// mark, and a NUL byte ends its text), and stricter in one (numbers beyond a double's range);
// the scanner also refuses nesting deeper than its bound.
inline Expected expected(std::string_view text, const ReferenceTrace& reference, bool accepted) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF" || text.find('\0') != std::string_view::npos)
        return Expected::refuse;
    if (!accepted)
        return reference.number_overflow ? Expected::either : Expected::refuse;
    return reference.max_depth > anthropic::JsonScanner::kMaxDepth ? Expected::refuse
                                                                   : Expected::accept;
}

}  // namespace json_trace
