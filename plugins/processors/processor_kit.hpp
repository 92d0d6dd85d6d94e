// What the bundled processors share beyond the SDK's C++ layer: reading `additional_config` with
// exact errors, walking the request's message texts through the host's field functions (no
// processor parses or re-serialises a whole body), and JSON string quoting.
#pragma once

#include <llm_proxy/cpp/plugin.hpp>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace processors {

using json = nlohmann::json;
using llm_proxy::Call;
using llm_proxy::Error;
using llm_proxy::RequestState;

// Reads `additional_config`. Every key must be asked for: finish() rejects the rest. Mistakes
// throw llm_proxy::Error naming the key.
class Settings {
  public:
    explicit Settings(std::string_view additional_config_json);

    bool has(const std::string& key) const { return object_.contains(key); }
    std::string string(const std::string& key, std::string fallback);
    bool boolean(const std::string& key, bool fallback);
    std::size_t count(const std::string& key, std::size_t fallback);
    std::vector<std::string> strings(const std::string& key);
    // A table (object) value; an empty object when absent.
    json table(const std::string& key);
    // One of `choices`.
    std::string choice(const std::string& key, std::string fallback,
                       const std::set<std::string>& choices);
    // Throws naming any key nobody asked for.
    void finish();

  private:
    const json& value(const std::string& key);
    json object_;
    std::set<std::string> known_;
};

// Calls fn(pointer, text) for each text of the request's messages: string contents, and the
// "text" of array contents' parts. fn may replace the text through call.replace(pointer, ...).
// Fails closed: throws Error (400, unreadable_content) for a content or part text it cannot read
// as a string, so that no filter passes a text it did not see.
void for_each_message_text(const Call& call,
                           const std::function<void(const std::string&, std::string_view)>& fn);

// Fails closed on a request in another API's format than the canonical one (a route serving a
// client API natively, lp_request_view.api): a processor that reads or changes the messages must
// not pass what it cannot read. Throws Error (500, unsupported_api) naming the processor.
void require_canonical(const lp_request_view& request, const std::string& processor,
                       std::string_view type);

// The JSON text of a string.
std::string json_string(std::string_view text);

}  // namespace processors
