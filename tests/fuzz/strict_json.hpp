// The reference the JSON fuzz targets hold json_fields to: nlohmann's strict parser (RFC 8259,
// strings in well-formed UTF-8, \u escapes that pair surrogates) through its SAX interface, with
// the rules llm-proxy adds: no two members of an object with the same key (compared after
// unescaping, so "a" and "\u0061" are the same key), and at most 256 levels of nesting (as
// json_fields::valid). Where nlohmann is looser than RFC 8259 (it skips a leading byte order mark,
// and a NUL byte ends its text), the text is invalid here.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

enum class Verdict {
    valid,
    invalid,
    // nlohmann refuses numbers beyond a double's range (1e400), which RFC 8259's grammar allows
    // and json_fields accepts: nothing to compare.
    unknown,
};

class StrictJson : public nlohmann::json_sax<nlohmann::json> {
  public:
    static Verdict check(std::string_view text) {
        if (text.substr(0, 3) == "\xEF\xBB\xBF" || text.find('\0') != std::string_view::npos)
            return Verdict::invalid;
        StrictJson sax;
        bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &sax,
                                            nlohmann::json::input_format_t::json, true);
        if (sax.overflow_)
            return Verdict::unknown;
        return ok ? Verdict::valid : Verdict::invalid;
    }

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool start_object(std::size_t) override { return open(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool key(string_t& key) override { return levels_.back().insert(key).second; }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& error) override {
        overflow_ = error.id == 406;  // "number overflow"
        return false;
    }

  private:
    static constexpr std::size_t kMaxDepth = 256;

    // A value begins inside levels_.size() containers.
    bool value() const { return levels_.size() <= kMaxDepth; }
    bool open() {
        if (!value())
            return false;
        levels_.emplace_back();
        return true;
    }
    bool close() {
        levels_.pop_back();
        return true;
    }

    std::vector<std::set<std::string>> levels_;  // per open container: an object's keys so far
    bool overflow_ = false;
};

// The JSON Pointer (RFC 6901) of an object member's key, appended to a parent pointer.
inline std::string child_pointer(const std::string& parent, const std::string& key) {
    std::string out = parent + "/";
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

// The pointers of doc's values, the root first, then depth first in document order for arrays
// (nlohmann keeps object members sorted by key), at most `max` of them.
inline void collect_pointers(const nlohmann::json& doc, const std::string& at,
                             std::vector<std::string>& out, std::size_t max) {
    if (out.size() >= max)
        return;
    out.push_back(at);
    if (doc.is_object()) {
        for (const auto& [key, value] : doc.items())
            collect_pointers(value, child_pointer(at, key), out, max);
    } else if (doc.is_array()) {
        for (std::size_t i = 0; i < doc.size(); ++i)
            collect_pointers(doc[i], at + "/" + std::to_string(i), out, max);
    }
}

}  // namespace fuzz
