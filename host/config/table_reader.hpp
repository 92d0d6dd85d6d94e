// Reading TOML tables the way every llm-proxy file is read: each key checked for its type and
// range, every problem recorded with its line (not only the first), and unknown keys refused.
// Shared by the configuration and the keys file.
#pragma once

// TOML 1.1 (unreleased in toml++ 3.3) allows newlines inside inline tables, which the original
// README's `additional_config = { ... }` example uses across several lines. Every file including
// toml++ does so through this header, so that its settings agree.
#define TOML_HEADER_ONLY 1
#define TOML_ENABLE_UNRELEASED_FEATURES 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace llmproxy {

// A scalar (number, boolean, date or time) in its TOML spelling.
std::string scalar_text(const toml::node& node);

// A TOML value as JSON; dates and times become their TOML spelling.
nlohmann::json toml_to_json(const toml::node& node);

// The line of every key of `table` (nested keys dotted, after prefix) into lines.
void record_key_lines(const toml::table& table, const std::string& prefix, KeyLines& lines);

// Reads one table's keys, recording every problem in `problems` instead of stopping at the first.
// Problems name the key as path.key and the key's line (the table's when the key is absent).
class TableReader {
  public:
    TableReader(const toml::table& table, std::string path, std::string file,
                std::vector<ConfigProblem>& problems)
        : table_(table), path_(std::move(path)), file_(std::move(file)), problems_(problems) {}

    ~TableReader() = default;
    TableReader(const TableReader&) = delete;
    TableReader& operator=(const TableReader&) = delete;

    int line() const { return static_cast<int>(table_.source().begin.line); }
    std::string key_path(std::string_view key) const { return path_ + "." + std::string(key); }

    void problem(const toml::node* node, std::string_view key, std::string message);

    // The key's node (null when absent), which is then known.
    const toml::node* get(std::string_view key);

    // Each read leaves `out` as it was when the key is absent or wrong (a problem then).
    void read(std::string_view key, std::string& out, bool required = false);
    void read(std::string_view key, bool& out);
    void read(std::string_view key, std::vector<std::string>& out);
    template <typename Int>
    void read_int(std::string_view key, Int& out, long long min, long long max) {
        if (auto value = integer(key, min, max))
            out = static_cast<Int>(*value);
    }
    void read_number(std::string_view key, double& out, double min, double max);
    // Any scalar, written as text (config_value = "gpt-4" or config_value = 3).
    void read_scalar_text(std::string_view key, std::string& out);
    // A table, as JSON text.
    void read_table_json(std::string_view key, std::string& out);

    // A Limits table (`limits = { requests_per_minute = 60 }`, or [NAME.limits]).
    void read_limits(std::string_view key, Limits& out);

    // Call after every read: each key nobody asked for is a problem (typos must not pass).
    void reject_unknown_keys();

  private:
    std::optional<long long> integer(std::string_view key, long long min, long long max);

    const toml::table& table_;
    std::string path_;
    std::string file_;
    std::vector<ConfigProblem>& problems_;
    std::set<std::string> known_;
};

}  // namespace llmproxy
