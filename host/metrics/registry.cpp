#include "metrics/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace llmproxy::metrics {

namespace {

// Each thread's shard, dealt out in turn as threads first add.
std::size_t shard_of_this_thread() {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
    return shard;
}

constexpr std::size_t kCellsPerLine = 64 / sizeof(std::atomic<std::int64_t>);

void append_series(std::string& out, const std::string& name, std::string_view suffix,
                   const std::string& labels, std::string_view extra, std::string_view value) {
    out += name;
    out += suffix;
    if (!labels.empty() || !extra.empty()) {
        out += '{';
        out += labels;
        if (!labels.empty() && !extra.empty())
            out += ',';
        out += extra;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

void append_head(std::string& out, const std::string& name, const std::string& help, Kind kind) {
    static constexpr std::string_view kTypes[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + ' ' + help + '\n';
    out += "# TYPE " + name + ' ' + std::string(kTypes[static_cast<int>(kind)]) + '\n';
}

}  // namespace

Series::Series(const Family& family, std::string labels)
    : family_(family),
      labels_(std::move(labels)),
      stride_((family.cells() + kCellsPerLine - 1) / kCellsPerLine * kCellsPerLine),
      lines_(new Line[stride_ / kCellsPerLine * kShards]),
      cells_(&lines_[0].cells[0]) {
    for (std::size_t i = 0; i < stride_ * kShards; ++i)
        cells_[i].store(0, std::memory_order_relaxed);
}

std::atomic<std::int64_t>& Series::cell(std::size_t i) {
    return cells_[shard_of_this_thread() * stride_ + i];
}

void Series::observe(std::uint64_t value) {
    cell(family_.bucket(value)).fetch_add(1, std::memory_order_relaxed);
    cell(family_.cells() - 1)
        .fetch_add(static_cast<std::int64_t>(value), std::memory_order_relaxed);
}

std::int64_t Series::total(std::size_t cell) const {
    std::int64_t sum = 0;
    for (std::size_t shard = 0; shard < kShards; ++shard)
        sum += cells_[shard * stride_ + cell].load(std::memory_order_relaxed);
    return sum;
}

Family::Family(std::string name, std::string help, Kind kind, std::vector<double> bounds,
               double scale)
    : name_(std::move(name)),
      help_(std::move(help)),
      kind_(kind),
      bounds_(std::move(bounds)),
      scale_(scale) {
    for (double bound : bounds_)
        base_bounds_.push_back(static_cast<std::uint64_t>(std::llround(bound * scale_)));
}

std::size_t Family::bucket(std::uint64_t value) const {
    return static_cast<std::size_t>(
        std::lower_bound(base_bounds_.begin(), base_bounds_.end(), value) - base_bounds_.begin());
}

void Family::render(std::string& out, std::span<const Series* const> series) const {
    append_head(out, name_, help_, kind_);
    for (const Series* s : series) {
        if (kind_ != Kind::histogram) {
            append_series(out, name_, "", s->labels(), "", fmt::format("{}", s->total(0)));
            continue;
        }
        std::int64_t count = 0;
        for (std::size_t b = 0; b <= bounds_.size(); ++b) {
            count += s->total(b);
            const std::string le =
                b < bounds_.size() ? fmt::format("le=\"{}\"", bounds_[b]) : "le=\"+Inf\"";
            append_series(out, name_, "_bucket", s->labels(), le, fmt::format("{}", count));
        }
        const double sum = static_cast<double>(s->total(bounds_.size() + 1)) / scale_;
        append_series(out, name_, "_sum", s->labels(), "", fmt::format("{}", sum));
        append_series(out, name_, "_count", s->labels(), "", fmt::format("{}", count));
    }
}

Family& Registry::family(const std::string& name, const std::string& help, Kind kind,
                         std::vector<double> bounds, double scale) {
    std::lock_guard lock(mutex_);
    if (auto it = family_by_name_.find(name); it != family_by_name_.end())
        return *it->second;
    Family& family = families_.emplace_back(name, help, kind, std::move(bounds), scale);
    family_by_name_.emplace(name, &family);
    return family;
}

Series& Registry::series(Family& family, const std::string& labels) {
    std::lock_guard lock(mutex_);
    auto key = std::make_pair(static_cast<const Family*>(&family), labels);
    if (auto it = series_by_key_.find(key); it != series_by_key_.end())
        return *it->second;
    Series& series = series_.emplace_back(family, labels);
    series_by_key_.emplace(std::move(key), &series);
    return series;
}

std::string Registry::render() const {
    std::lock_guard lock(mutex_);
    std::map<const Family*, std::vector<const Series*>> by_family;
    for (const Series& s : series_)
        by_family[&s.family()].push_back(&s);
    std::string out;
    for (const Family& family : families_)
        if (auto it = by_family.find(&family); it != by_family.end())
            family.render(out, it->second);
    return out;
}

void render_values(std::string& out, const std::string& name, const std::string& help, Kind kind,
                   std::span<const std::pair<std::string, double>> values) {
    append_head(out, name, help, kind);
    for (const auto& [labels, value] : values)
        append_series(out, name, "", labels, "", fmt::format("{}", value));
}

std::string label(std::string_view name, std::string_view value) {
    std::string out(name);
    out += "=\"";
    for (char c : value) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace llmproxy::metrics
