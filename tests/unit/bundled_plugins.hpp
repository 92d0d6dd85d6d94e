// The plugins built with llm-proxy, loaded once per test binary the way the host loads them, for
// tests that drive them through the real ABI.
#pragma once

#include <doctest/doctest.h>

#include "plugins/plugin_registry.hpp"

inline const llmproxy::PluginRegistry& bundled_plugins() {
    static llmproxy::PluginRegistry instance;
    static bool loaded = instance.load_file(PLUGIN_DIR "/processors.so") &&
                         instance.load_file(PLUGIN_DIR "/anthropic.so");
    REQUIRE(loaded);
    return instance;
}
