// parse_config on any text: only ConfigError escapes (never a crash, a hang or another
// exception), every problem it lists names the file, and a config it accepts has every route's
// llm and processors defined.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "fuzz_check.hpp"

using fuzz::require;

namespace {

// Relative paths in a config ([plugins] dirs, ca_file) are read against this file's directory.
const std::string kFile = "/nonexistent-fuzz-dir/llm-proxy.toml";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    llmproxy::Config config;
    try {
        config = llmproxy::parse_config(text, kFile);
    } catch (const llmproxy::ConfigError& e) {
        require(!e.problems().empty(), "a ConfigError lists at least one problem");
        for (const auto& problem : e.problems())
            require(problem.file == kFile, "every problem names the file");
        return 0;
    }
    for (const auto& route : config.routes) {
        require(config.llms.count(route.target_llm) == 1, "every route's llm is defined");
        for (const auto& processor : route.processors)
            require(config.processors.count(processor) == 1, "every route processor is defined");
    }
    return 0;
}
