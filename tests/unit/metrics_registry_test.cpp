#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "metrics/registry.hpp"
#include "metrics/series_grid.hpp"

using namespace llmproxy::metrics;

TEST_CASE("a counter renders its HELP, TYPE and every series with its labels") {
    Registry registry;
    Family& family = registry.family("x_total", "Things.", Kind::counter);
    registry.series(family, label("a", "1")).add(3);
    registry.series(family, label("a", "2")).add();
    registry.series(family, label("a", "1")).add(2);  // the same series again
    CHECK(
        registry.render() ==
        "# HELP x_total Things.\n# TYPE x_total counter\nx_total{a=\"1\"} 5\nx_total{a=\"2\"} 1\n");
}

TEST_CASE("a family with no series is not rendered, and one name is one family") {
    Registry registry;
    Family& first = registry.family("y", "Y.", Kind::gauge);
    CHECK(&registry.family("y", "ignored", Kind::counter) == &first);
    CHECK(registry.render().empty());
    registry.series(first, "").add(-2);
    CHECK(registry.render() == "# HELP y Y.\n# TYPE y gauge\ny -2\n");
}

TEST_CASE("a histogram's buckets hold values up to their bound, cumulated, with sum and count") {
    Registry registry;
    Family& family = registry.family("d_seconds", "D.", Kind::histogram, {0.1, 1}, 1e9);
    Series& series = registry.series(family, label("r", "x"));
    series.observe(100'000'000);    // 0.1 s: the first bucket (le is inclusive)
    series.observe(100'000'001);    // just above: the second
    series.observe(5'000'000'000);  // +Inf only
    CHECK(registry.render() ==
          "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
          "d_seconds_bucket{r=\"x\",le=\"0.1\"} 1\n"
          "d_seconds_bucket{r=\"x\",le=\"1\"} 2\n"
          "d_seconds_bucket{r=\"x\",le=\"+Inf\"} 3\n"
          "d_seconds_sum{r=\"x\"} 5.200000001\n"
          "d_seconds_count{r=\"x\"} 3\n");
}

TEST_CASE("label values are escaped as the text format asks") {
    CHECK(label("m", "a\"b\\c\nd") == "m=\"a\\\"b\\\\c\\nd\"");
}

TEST_CASE("adds from many threads, on their own shards or sharing one, all count") {
    Registry registry;
    Series& series = registry.series(registry.family("t_total", "T.", Kind::counter), "");
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kShards * 2; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i)
                series.add();
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(series.total(0) == static_cast<std::int64_t>(kShards * 2 * 10000));
}

TEST_CASE("a grid makes a series from one label text of each dimension, once, on first use") {
    Registry registry;
    Family& family = registry.family("g_total", "G.", Kind::counter);
    SeriesGrid<2> grid(registry, family,
                       {{{label("a", "x"), label("a", "y")}, {"", label("b", "z")}}});
    CHECK(registry.render().empty());
    grid.at({1, 0}).add();
    grid.at({1, 1}).add(2);
    CHECK(&grid.at({1, 1}) == &registry.series(family, "a=\"y\",b=\"z\""));
    CHECK(registry.render() ==
          "# HELP g_total G.\n# TYPE g_total counter\n"
          "g_total{a=\"y\"} 1\ng_total{a=\"y\",b=\"z\"} 2\n");
    // Another grid over the same names (a reloaded configuration) counts on in the same series.
    SeriesGrid<2> again(registry, family, {{{label("a", "y")}, {label("b", "z")}}});
    again.at({0, 0}).add();
    CHECK(grid.at({1, 1}).total(0) == 3);
}
