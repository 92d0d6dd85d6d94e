#include "plugins/plugin_registry.hpp"

#include <doctest/doctest.h>

#include <string>

#include "runtime/runtime.hpp"

using llmproxy::PluginRegistry;

namespace {

const std::string kDir = FIXTURE_PLUGIN_DIR;
const std::string kAbi = std::to_string(LP_ABI_MAJOR) + "." + std::to_string(LP_ABI_MINOR);

// Loads one fixture into a fresh registry and returns the refusal reason ("" when loaded).
std::string refusal(const std::string& name) {
    PluginRegistry registry;
    if (registry.load_file(kDir + "/" + name))
        return "";
    REQUIRE(registry.refused().size() == 1);
    CHECK(registry.refused()[0].file == kDir + "/" + name);
    return registry.refused()[0].reason;
}

}  // namespace

TEST_CASE("a file that is not a shared object is refused with dlopen's reason") {
    auto file = kDir + "/not_an_elf.so";
    CHECK(refusal("not_an_elf.so") ==
          file + ": cannot be loaded: " + file +
              ": invalid ELF header. Check that it is a shared object built for this machine and "
              "that its dependencies are installed (ldd " +
              file + ").");
}

TEST_CASE("a missing file is refused") {
    CHECK(refusal("does_not_exist.so").find("does_not_exist.so: cannot open shared object file") !=
          std::string::npos);
}

TEST_CASE("a shared object without the entry symbol is refused") {
    auto file = kDir + "/no_entry.so";
    CHECK(refusal("no_entry.so") ==
          file +
              ": not an llm-proxy plugin: it does not export the symbol 'llm_proxy_plugin_entry'. "
              "Declare it with LP_DECLARE_PLUGIN_ENTRY from <llm_proxy/plugin.h> and build with "
              "that header.");
}

TEST_CASE("a plugin built for another ABI major is refused, naming both versions") {
    auto file = kDir + "/abi_major_mismatch.so";
    CHECK(refusal("abi_major_mismatch.so") ==
          file + ": built for plugin ABI 2.0, but this llm-proxy supports ABI 1.x (up to " + kAbi +
              "). "
              "Rebuild the plugin against the llm-proxy SDK headers of ABI 1.");
}

TEST_CASE("a plugin built for an older ABI major (0.x) is refused, naming both versions") {
    auto file = kDir + "/abi_major_older.so";
    CHECK(refusal("abi_major_older.so") ==
          file + ": built for plugin ABI 0.3, but this llm-proxy supports ABI 1.x (up to " + kAbi +
              "). "
              "Rebuild the plugin against the llm-proxy SDK headers of ABI 1.");
}

TEST_CASE("an export whose type name breaks the rule [a-z0-9_]+ is refused, naming file and name") {
    auto file = kDir + "/bad_type_name.so";
    CHECK(refusal("bad_type_name.so") ==
          file +
              ": plugin 'test.bad-type-name' exports the type name \"Shouty-Name 2\", which "
              "breaks the rule of <llm_proxy/plugin.h>: [a-z0-9_]+ (lower-case letters, digits and "
              "'_'). Rename it, e.g. \"shouty_name_2\", and rebuild.");
}

TEST_CASE("an entry struct smaller than ABI 1.0's is refused") {
    auto file = kDir + "/entry_too_small.so";
    CHECK(refusal("entry_too_small.so") ==
          file + ": its lp_plugin_entry is 8 bytes, smaller than the " +
              std::to_string(sizeof(lp_plugin_entry)) +
              " bytes of ABI 1.0: the plugin was not built from <llm_proxy/plugin.h>.");
}

TEST_CASE("a provider missing a required function is refused, naming the function") {
    auto file = kDir + "/missing_required_function.so";
    CHECK(refusal("missing_required_function.so") ==
          file +
              ": plugin 'test.missing-required-function' exports provider 'incomplete' without "
              "the required function encode_request; implement it and rebuild.");
}

TEST_CASE("a client API is indexed by its name, with its native provider (ABI 1.2)") {
    PluginRegistry registry;
    REQUIRE(registry.load_file(kDir + "/client_api_minimal.so"));
    const auto* api = registry.client_api("plain_api");
    REQUIRE(api != nullptr);
    CHECK(std::string(api->vtable.native_provider) == "older");
    CHECK((api->vtable.end_stream == nullptr));
    CHECK(registry.plugins().back()->client_apis == std::vector<std::string>{"plain_api"});
    CHECK(registry.provider("plain_api") == nullptr);
}

TEST_CASE("a client API missing a required function is refused, naming the function") {
    auto file = kDir + "/client_api_incomplete.so";
    CHECK(refusal("client_api_incomplete.so") ==
          file +
              ": plugin 'test.client-api-incomplete' exports client API 'plain_api' without the "
              "required function encode_error; implement it and rebuild.");
}

TEST_CASE("a client API named like the built-in API is refused") {
    auto name = "built_in_name/client_api_openai.so";
    CHECK(refusal(name) == kDir + "/" + name +
                               ": plugin 'test.client-api-built-in-name' exports client API "
                               "'openai', the API built into llm-proxy; rename it and rebuild.");
}

TEST_CASE("a plugin whose init fails is refused with the plugin's own reason") {
    auto file = kDir + "/init_fails.so";
    CHECK(refusal("init_fails.so") == file +
                                          ": plugin 'test.init-fails' failed to initialise: the "
                                          "licence file /etc/fixture.lic is missing");
}

TEST_CASE("a plugin exporting only unknown interfaces is refused") {
    auto file = kDir + "/unknown_interface.so";
    CHECK(refusal("unknown_interface.so") ==
          file +
              ": plugin 'test.unknown-interface' exports no provider, processor or client API "
              "this llm-proxy can use.");
}

TEST_CASE("a provider table from an older minor version loads, absent hooks read as NULL") {
    PluginRegistry registry;
    REQUIRE(registry.load_file(kDir + "/older_minor_provider.so"));
    const auto* type = registry.provider("older");
    REQUIRE(type != nullptr);
    CHECK((type->vtable.encode_request != nullptr));
    CHECK((type->vtable.decode_response == nullptr));
    CHECK((type->vtable.decode_stream_event == nullptr));
    CHECK((type->vtable.end_stream == nullptr));
    CHECK(type->plugin->id == "test.older-minor");
    CHECK(type->plugin->abi_minor == 0);
}

TEST_CASE("a plugin from a newer minor version loads, what it added is ignored") {
    PluginRegistry registry;
    REQUIRE(registry.load_file(kDir + "/newer_minor_provider.so"));
    const auto* type = registry.provider("newer");
    REQUIRE(type != nullptr);
    CHECK(type->plugin->abi_minor == 5);
    CHECK(type->vtable.struct_size == sizeof(lp_provider));
    CHECK((type->vtable.encode_request != nullptr));
}

TEST_CASE("loading a directory loads the good plugins and records the bad ones") {
    PluginRegistry registry;
    registry.load_directory(kDir);
    CHECK(registry.provider("older") != nullptr);
    CHECK(registry.provider("picky") != nullptr);
    CHECK(registry.provider("future") == nullptr);
    CHECK(registry.refused().size() == 10);
    CHECK(registry.plugins().size() == 11);
}

TEST_CASE("a config that needs a refused or absent plugin cannot start, and says why") {
    PluginRegistry registry;
    registry.load_directory(kDir);
    auto config = llmproxy::parse_config(R"(
[llm.a]
provider = "unlicensed"

[llm.b]
provider = "picky"

[[route]]
path_prefix = "/v1"
target_llm = "a"
)",
                                         "needs.toml");
    try {
        llmproxy::Runtime runtime(config, registry);
        FAIL("the runtime started");
    } catch (const llmproxy::ConfigError& e) {
        REQUIRE(e.problems().size() == 2);
        const auto& missing = e.problems()[0];
        CHECK(missing.line == 3);  // the provider key's
        CHECK(missing.key == "llm.a.provider");
        CHECK(missing.message.rfind("no loaded plugin provides provider 'unlicensed' (available: "
                                    "picky, silent, model_in_path, newer, older, stamping). These "
                                    "plugins were refused and "
                                    "may be the one meant:\n",
                                    0) == 0);
        CHECK(missing.message.find(
                  "failed to initialise: the licence file /etc/fixture.lic is missing") !=
              std::string::npos);
        const auto& rejected = e.problems()[1];
        CHECK(rejected.line == 5);  // the table's: the message names no key it has
        CHECK(rejected.key == "llm.b");
        CHECK(rejected.message ==
              "provider 'picky' refused these settings: options.region is required");
    }
}

TEST_CASE("a route's api names a client API: native to its native provider, else translated") {
    PluginRegistry registry;
    REQUIRE(registry.load_file(kDir + "/client_api_minimal.so"));  // native_provider "older"
    REQUIRE(registry.load_file(kDir + "/older_minor_provider.so"));
    REQUIRE(registry.load_file(kDir + "/encode_fails_silently.so"));
    auto config = llmproxy::parse_config(R"([llm.old]
provider = "older"
[llm.other]
provider = "silent"

[[route]]
path_prefix = "/native"
api = "plain_api"
target_llm = "old"
[[route]]
path_prefix = "/translated"
api = "plain_api"
target_llm = "other"
[[route]]
path_prefix = "/canonical"
target_llm = "old"
)",
                                         "apis.toml");
    llmproxy::Runtime runtime(config, registry);
    const auto* native = runtime.route_for("/native");
    const auto* translated = runtime.route_for("/translated");
    const auto* canonical = runtime.route_for("/canonical");
    REQUIRE((native && translated && canonical));
    REQUIRE(native->api != nullptr);
    CHECK(native->api == translated->api);  // one instance per client API
    CHECK(native->native);
    CHECK_FALSE(translated->native);
    CHECK(canonical->api == nullptr);
    CHECK_FALSE(canonical->native);
}

TEST_CASE("a route naming a client API no plugin provides cannot start, at the api key's line") {
    PluginRegistry registry;
    REQUIRE(registry.load_file(kDir + "/client_api_minimal.so"));
    REQUIRE(registry.load_file(kDir + "/older_minor_provider.so"));
    auto config = llmproxy::parse_config(R"([llm.old]
provider = "older"

[[route]]
path_prefix = "/v1"
target_llm = "old"
api = "anthropic"
)",
                                         "api.toml");
    try {
        llmproxy::Runtime runtime(config, registry);
        FAIL("the runtime started");
    } catch (const llmproxy::ConfigError& e) {
        REQUIRE(e.problems().size() == 1);
        CHECK(e.problems()[0].to_string() ==
              "api.toml:7: 'route[0].api': no loaded plugin provides client API 'anthropic' "
              "(available: openai (built in), plain_api)");
    }
}

TEST_CASE("a setting instance_new refuses is reported at the line of the key its message names") {
    PluginRegistry registry;
    registry.load_file(kDir + "/config_rejected.so");
    auto config = llmproxy::parse_config(R"([llm.b]
provider = "picky"
base_url = "http://127.0.0.1:9/v1"

[llm.b.options]
zone = "eu"
)",
                                         "keys.toml");
    try {
        llmproxy::Runtime runtime(config, registry);
        FAIL("the runtime started");
    } catch (const llmproxy::ConfigError& e) {
        REQUIRE(e.problems().size() == 1);
        // options.region is absent: the line of its table, [llm.b.options]
        CHECK(e.problems()[0].to_string() ==
              "keys.toml:5: 'llm.b.options.region': provider 'picky' refused these settings: "
              "options.region is required");
    }
}

TEST_CASE("two plugins exporting one type: a config using it is refused, naming both files") {
    PluginRegistry registry;
    registry.load_directory(kDir + "/twins");
    REQUIRE(registry.plugins().size() == 2);  // neither plugin is refused for it
    CHECK(registry.refused().empty());
    const auto* twin = registry.provider("twin");
    REQUIRE(twin != nullptr);
    CHECK(twin->also_exported_by == std::vector<std::string>{kDir + "/twins/twin_b.so"});
    auto config = llmproxy::parse_config(R"([llm.t]
provider = "twin"
)",
                                         "twins.toml");
    try {
        llmproxy::Runtime runtime(config, registry);
        FAIL("the runtime started");
    } catch (const llmproxy::ConfigError& e) {
        REQUIRE(e.problems().size() == 1);
        CHECK(e.problems()[0].to_string() ==
              "twins.toml:2: 'llm.t.provider': provider 'twin' is exported by more than one "
              "plugin: " +
                  kDir + "/twins/twin_a.so and " + kDir +
                  "/twins/twin_b.so; llm-proxy cannot tell which one is meant. Remove all but one "
                  "of these files from the plugin directories.");
    }
    // What each plugin exports alone stays usable.
    llmproxy::Runtime runtime(llmproxy::parse_config(R"([processor.a]
type = "own_a"

[processor.b]
type = "own_b"
)",
                                                     "own.toml"),
                              registry);
}
