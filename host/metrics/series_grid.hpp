// The series of one family along fixed dimensions whose values are known up front (route, llm,
// status class...): each dimension is a list of label texts, and a series is made from one text
// of each the first time it is used. Indexing costs a multiply-add per dimension and one atomic
// load; a grid of a few thousand cells holds only pointers until its series are used.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "metrics/registry.hpp"

namespace llmproxy::metrics {

template <std::size_t N>
class SeriesGrid {
  public:
    using Labels = std::vector<std::string>;  // a dimension's values, each `a="x"` or `a="x",b="y"`

    SeriesGrid(Registry& registry, Family& family, std::array<Labels, N> dimensions)
        : registry_(registry), family_(family), dimensions_(std::move(dimensions)) {
        std::size_t size = 1;
        for (const auto& values : dimensions_)
            size *= values.size();
        series_ = std::make_unique<std::atomic<Series*>[]>(size);
    }

    // [thread-safe] The series at these indexes, each below its dimension's size.
    Series& at(const std::array<std::size_t, N>& index) {
        std::size_t flat = 0;
        for (std::size_t d = 0; d < N; ++d)
            flat = flat * dimensions_[d].size() + index[d];
        if (Series* found = series_[flat].load(std::memory_order_acquire))
            return *found;
        std::string labels;
        for (std::size_t d = 0; d < N; ++d) {
            const std::string& text = dimensions_[d][index[d]];
            if (!labels.empty() && !text.empty())
                labels += ',';
            labels += text;
        }
        // Two threads racing here get the same series from the registry.
        Series& made = registry_.series(family_, labels);
        series_[flat].store(&made, std::memory_order_release);
        return made;
    }

  private:
    Registry& registry_;
    Family& family_;
    std::array<Labels, N> dimensions_;
    std::unique_ptr<std::atomic<Series*>[]> series_;
};

}  // namespace llmproxy::metrics
