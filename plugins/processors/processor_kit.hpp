// What the bundled processors share: the host API, reading `additional_config` with exact errors,
// and reading and editing the request's messages through the host's field functions (no
// processor parses or re-serialises a whole body).
#pragma once

#include <llm_proxy/plugin.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "plugin_support.hpp"

namespace processors {

using json = nlohmann::json;
using lp_support::str;
using lp_support::view;

// The host API, set by the plugin's init.
const lp_host_api* host();
void set_host(const lp_host_api* host);

// A configuration mistake; its message names the key. Thrown while creating an instance.
struct ConfigMistake : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads `additional_config`. Every key must be asked for: finish() rejects the rest.
class Settings {
  public:
    explicit Settings(lp_str additional_config_json);

    bool has(const std::string& key) const { return object_.contains(key); }
    std::string string(const std::string& key, std::string fallback);
    bool boolean(const std::string& key, bool fallback);
    std::size_t count(const std::string& key, std::size_t fallback);
    std::vector<std::string> strings(const std::string& key);
    // A table (object) value, as JSON; an empty object when absent.
    json table(const std::string& key);
    // One of `choices`.
    std::string choice(const std::string& key, std::string fallback,
                       const std::set<std::string>& choices);
    // Throws ConfigMistake naming any key nobody asked for.
    void finish();

  private:
    const json& value(const std::string& key);
    json object_;
    std::set<std::string> known_;
};

// Runs instance creation, turning ConfigMistake and other exceptions into LP_FAILED.
template <typename Create>
lp_status create_instance(lp_call* call, void** out, Create&& create) {
    return lp_support::guarded(host(), call, [&] {
        try {
            *out = create();
            return LP_CONTINUE;
        } catch (const ConfigMistake& e) {
            return lp_support::fail(host(), call, 500, "", "", e.what());
        }
    });
}

// The body a hook works on, through the host's field functions.
class Body {
  public:
    explicit Body(lp_call* call) : call_(call) {}
    std::optional<std::string_view> get(std::string_view pointer) const;
    std::optional<std::string_view> get_string(std::string_view pointer) const;
    bool add(std::string_view pointer, std::string_view value_json);
    bool replace(std::string_view pointer, std::string_view value_json);
    bool remove(std::string_view pointer);

    // Calls fn(pointer, text) for each text of the messages: string contents, and the "text" of
    // array contents' parts. fn may replace the text through replace(pointer, ...).
    void for_each_message_text(const std::function<void(const std::string&, std::string_view)>& fn);

  private:
    lp_call* call_;
};

// The JSON text of a string.
std::string json_string(std::string_view text);

// Logs through the host at `level`.
void log(lp_log_level level, std::string_view message);

}  // namespace processors
