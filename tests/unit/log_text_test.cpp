#include "logging/log_text.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>

using llmproxy::escape_controls;

TEST_CASE("control characters are escaped, everything else is left as it is") {
    CHECK(escape_controls("a\nb\rc\td") == "a\\nb\\rc\\td");
    CHECK(escape_controls(std::string("\x1b[31m\x00\x7f", 7)) == "\\x1b[31m\\x00\\x7f");
    CHECK(escape_controls("caf\xc3\xa9 \"q\" \\") == "caf\xc3\xa9 \"q\" \\");
}

TEST_CASE("no message logged through the default logger can start a line of its own") {
    std::ostringstream out;
    auto logger = std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(logger);
    llmproxy::escape_controls_in_log("%l %v");
    spdlog::info("model={} done", "x\nFORGED status=200");
    spdlog::info("plain line");
    spdlog::set_default_logger(previous);
    CHECK(out.str() == "info model=x\\nFORGED status=200 done\ninfo plain line\n");
}
