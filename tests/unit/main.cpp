#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
    // Refusals are asserted through their messages; the log lines would only repeat them.
    spdlog::set_level(spdlog::level::off);
    return doctest::Context(argc, argv).run();
}
