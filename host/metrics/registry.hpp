// Counters, gauges and histograms that every thread adds to, read whole by a scrape in
// Prometheus's text format. Each series keeps one row of cells per shard and a thread adds to
// its own shard's row, so the event loops rarely share a cache line; a scrape sums the rows.
// A series is found by its family and label text once (Registry::series, under a mutex) and then
// kept: adding to it takes no lock. Families and series live as long as the registry, so a
// configuration reloaded with the same names counts on in the same series.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy::metrics {

enum class Kind { counter, gauge, histogram };

class Family;

// One labelled series of a family. [thread-safe] every member.
class Series {
  public:
    Series(const Family& family, std::string labels);

    // A counter or gauge's value changes by delta (a gauge's may be negative).
    void add(std::int64_t delta = 1) { cell(0).fetch_add(delta, std::memory_order_relaxed); }
    // A histogram observes value, in its family's base unit (see Family::scale).
    void observe(std::uint64_t value);

    const Family& family() const { return family_; }
    const std::string& labels() const { return labels_; }  // `a="x",b="y"`, or empty
    // The cell's total over every shard.
    std::int64_t total(std::size_t cell) const;

  private:
    std::atomic<std::int64_t>& cell(std::size_t i);

    const Family& family_;
    const std::string labels_;
    // A cache line of cells: rows of shards start on lines of their own.
    struct alignas(64) Line {
        std::atomic<std::int64_t> cells[8];
    };
    const std::size_t stride_;  // cells per shard row, a whole number of cache lines
    std::unique_ptr<Line[]> lines_;
    std::atomic<std::int64_t>* cells_;  // lines_'s cells, in a row
};

class Family {
  public:
    // bounds: a histogram's bucket upper bounds in the exposed unit (seconds, tokens), rising;
    // scale: base units per exposed unit (1e9 for seconds observed in nanoseconds).
    Family(std::string name, std::string help, Kind kind, std::vector<double> bounds = {},
           double scale = 1);

    const std::string& name() const { return name_; }
    Kind kind() const { return kind_; }
    // A histogram's cells: one per bucket, then +Inf, then the sum; 1 for the others.
    std::size_t cells() const { return kind_ == Kind::histogram ? bounds_.size() + 2 : 1; }
    // The bucket of a value in base units (bounds_.size() for +Inf).
    std::size_t bucket(std::uint64_t value) const;
    // Appends the family's HELP, TYPE and every series' lines.
    void render(std::string& out, std::span<const Series* const> series) const;

  private:
    std::string name_;
    std::string help_;
    Kind kind_;
    std::vector<double> bounds_;
    std::vector<std::uint64_t> base_bounds_;  // bounds_ in base units
    double scale_;
};

class Registry {
  public:
    // The family of this name, created on first use (a later call's other arguments are ignored).
    Family& family(const std::string& name, const std::string& help, Kind kind,
                   std::vector<double> bounds = {}, double scale = 1);
    // The family's series with these labels (`a="x",b="y"`, escaped: see label), created on
    // first use. The reference stays valid as long as the registry.
    Series& series(Family& family, const std::string& labels);
    // Every family with a series, in Prometheus's text exposition format (version 0.0.4).
    std::string render() const;

  private:
    mutable std::mutex mutex_;
    std::deque<Family> families_;  // in creation order
    std::map<std::string, Family*, std::less<>> family_by_name_;
    std::deque<Series> series_;
    std::map<std::pair<const Family*, std::string>, Series*> series_by_key_;
};

// Appends a family whose values are read at the scrape rather than counted: its HELP, TYPE and
// one line per (labels, value).
void render_values(std::string& out, const std::string& name, const std::string& help, Kind kind,
                   std::span<const std::pair<std::string, double>> values);

// `name="value"`, the value escaped as the text format asks (backslash, quote, newline).
std::string label(std::string_view name, std::string_view value);

// The number of shards: threads beyond it share rows (their adds stay atomic).
inline constexpr std::size_t kShards = 8;

}  // namespace llmproxy::metrics
