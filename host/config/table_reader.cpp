#include "config/table_reader.hpp"

#include <cmath>

#include <fmt/format.h>

#include <sstream>

namespace llmproxy {

std::string scalar_text(const toml::node& node) {
    std::ostringstream text;
    node.visit([&](auto&& value) {
        if constexpr (toml::is_value<decltype(value)>)
            text << value;
    });
    return text.str();
}

nlohmann::json toml_to_json(const toml::node& node) {
    if (auto* t = node.as_table()) {
        auto obj = nlohmann::json::object();
        for (auto&& [k, v] : *t)
            obj[std::string(k.str())] = toml_to_json(v);
        return obj;
    }
    if (auto* a = node.as_array()) {
        auto arr = nlohmann::json::array();
        for (auto&& v : *a)
            arr.push_back(toml_to_json(v));
        return arr;
    }
    if (auto* s = node.as_string())
        return s->get();
    if (auto* i = node.as_integer())
        return i->get();
    if (auto* f = node.as_floating_point())
        return f->get();
    if (auto* b = node.as_boolean())
        return b->get();
    return scalar_text(node);  // dates and times
}

void record_key_lines(const toml::table& table, const std::string& prefix, KeyLines& lines) {
    for (auto&& [k, v] : table) {
        std::string key = prefix + std::string(k.str());
        lines[key] = static_cast<int>(v.source().begin.line);
        if (auto* inner = v.as_table())
            record_key_lines(*inner, key + ".", lines);
    }
}

void TableReader::problem(const toml::node* node, std::string_view key, std::string message) {
    int at = node ? static_cast<int>(node->source().begin.line) : line();
    problems_.push_back({file_, at, key_path(key), std::move(message)});
}

const toml::node* TableReader::get(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
}

void TableReader::read(std::string_view key, std::string& out, bool required) {
    const auto* node = get(key);
    if (!node) {
        if (required)
            problem(nullptr, key, "is required");
        return;
    }
    if (auto* s = node->as_string()) {
        out = s->get();
        if (required && out.empty())
            problem(node, key, "must not be empty");
    } else {
        problem(node, key, "must be a string");
    }
}

void TableReader::read(std::string_view key, bool& out) {
    const auto* node = get(key);
    if (!node)
        return;
    if (auto* b = node->as_boolean())
        out = b->get();
    else
        problem(node, key, "must be true or false");
}

std::optional<long long> TableReader::integer(std::string_view key, long long min, long long max) {
    const auto* node = get(key);
    if (!node)
        return std::nullopt;
    auto* i = node->as_integer();
    if (!i || i->get() < min || i->get() > max) {
        problem(node, key,
                "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
        return std::nullopt;
    }
    return i->get();
}

void TableReader::read_number(std::string_view key, double& out, double min, double max) {
    const auto* node = get(key);
    if (!node)
        return;
    std::optional<double> value;
    if (auto* f = node->as_floating_point())
        value = f->get();
    else if (auto* i = node->as_integer())
        value = static_cast<double>(i->get());
    if (!value || !(*value >= min && *value <= max)) {
        problem(node, key, fmt::format("must be a number from {} to {}", min, max));
        return;
    }
    out = *value;
}

void TableReader::read(std::string_view key, std::vector<std::string>& out) {
    const auto* node = get(key);
    if (!node)
        return;
    auto* arr = node->as_array();
    bool ok = arr != nullptr;
    if (arr) {
        for (auto&& item : *arr) {
            if (auto* s = item.as_string())
                out.push_back(s->get());
            else
                ok = false;
        }
    }
    if (!ok)
        problem(node, key, "must be an array of strings");
}

void TableReader::read_scalar_text(std::string_view key, std::string& out) {
    const auto* node = get(key);
    if (!node)
        return;
    if (auto* s = node->as_string()) {
        out = s->get();
    } else if (node->is_table() || node->is_array()) {
        problem(node, key, "must be a string, number or boolean");
    } else {
        out = scalar_text(*node);
    }
}

void TableReader::read_table_json(std::string_view key, std::string& out) {
    const auto* node = get(key);
    if (!node)
        return;
    if (!node->is_table()) {
        problem(node, key, "must be a table, e.g. " + std::string(key) + " = { name = \"value\" }");
        return;
    }
    out = toml_to_json(*node).dump();
}

void TableReader::read_limits(std::string_view key, Limits& out) {
    const toml::node* node = get(key);
    if (!node)
        return;
    const toml::table* table = node->as_table();
    if (!table) {
        problem(node, key,
                "must be a table, e.g. limits = { requests_per_minute = 60, tokens_per_minute = "
                "100000, concurrent_requests = 10, cost_per_day = 5.0 }");
        return;
    }
    TableReader r(*table, key_path(key), file_, problems_);
    constexpr long long kMost = 1'000'000'000'000LL;
    for (const LimitField& field : kLimitFields) {
        if (!field.dollars) {
            r.read_int(field.name, out.*field.member, 0, kMost);
            continue;
        }
        double dollars = -1;
        r.read_number(field.name, dollars, 0, 1e9);
        if (dollars < 0)
            continue;
        out.*field.member = std::llround(dollars * 1e6);
        if (dollars > 0 && out.*field.member == 0)  // 0 would mean no budget at all
            r.problem(r.get(field.name), field.name, "must be 0 (none) or at least 0.000001");
    }
    r.reject_unknown_keys();
}

void TableReader::reject_unknown_keys() {
    for (auto&& [k, v] : table_) {
        if (known_.count(std::string(k.str())))
            continue;
        std::string known;
        for (const auto& name : known_)
            known += (known.empty() ? "" : ", ") + name;
        problem(&v, k.str(), "unknown key (known keys here: " + known + ")");
    }
}

}  // namespace llmproxy
