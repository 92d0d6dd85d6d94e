// The echo provider: answers a chat completion locally with the user's last message, whole or
// streamed word by word, in OpenAI's format. No network and no key: it makes the default config
// answer out of the box, and gives tests and benchmarks an upstream-free path.
#include <llm_proxy/plugin.h>

#include <atomic>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plugin_support.hpp"

namespace {

using json = nlohmann::json;
using lp_support::fail;
using lp_support::str;
using lp_support::view;

const lp_host_api* g_host = nullptr;
std::atomic<unsigned long> g_counter{0};

// object[key] when it is a string, else "".
std::string string_member(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The text of a message's content: a string, or the text parts of an array of parts.
std::string content_text(const json& content) {
    if (content.is_string())
        return content.get<std::string>();
    std::string text;
    if (content.is_array())
        for (const auto& part : content)
            if (part.is_object() && string_member(part, "type") == "text")
                text += string_member(part, "text");
    return text;
}

// Splits text into pieces that concatenate back to it, each a word with its trailing spaces.
std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find_first_of(" \n\t", start);
        end = end == std::string::npos ? text.size() : text.find_first_not_of(" \n\t", end);
        if (end == std::string::npos)
            end = text.size();
        words.push_back(text.substr(start, end - start));
        start = end;
    }
    return words;
}

json chunk(const std::string& id, long created, const std::string& model, json delta,
           json finish_reason) {
    return {{"id", id},
            {"object", "chat.completion.chunk"},
            {"created", created},
            {"model", model},
            {"choices", json::array({{{"index", 0},
                                      {"delta", std::move(delta)},
                                      {"finish_reason", std::move(finish_reason)}}})}};
}

lp_status instance_new(const lp_provider_config* config, lp_call* call, void** out) {
    if (config->endpoint != LP_ENDPOINT_CHAT)
        return fail(g_host, call, 500, "", "", "the echo provider only serves type = \"chat\"");
    if (view(config->options_json) != "{}")
        return fail(g_host, call, 500, "", "", "the echo provider takes no options");
    *out = nullptr;
    return LP_CONTINUE;
}

void instance_free(void*) {}

lp_status encode(lp_call* call, const lp_request_view* request) {
    json body = json::parse(view(request->body), nullptr, false);
    if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array())
        return fail(g_host, call, 400, "invalid_request_error", "invalid_messages",
                    "\"messages\" must be an array of chat messages");
    std::string reply;
    std::size_t prompt_words = 0;
    for (const auto& message : body["messages"]) {
        if (!message.is_object())
            continue;
        auto content = message.find("content");
        std::string text = content == message.end() ? std::string() : content_text(*content);
        prompt_words += words_of(text).size();
        if (string_member(message, "role") == "user")
            reply = text;
    }
    const std::string id = "chatcmpl-echo-" + std::to_string(++g_counter);
    const long created = static_cast<long>(std::time(nullptr));
    const std::string model(view(request->model));
    const auto words = words_of(reply);
    json usage = {{"prompt_tokens", prompt_words},
                  {"completion_tokens", words.size()},
                  {"total_tokens", prompt_words + words.size()}};

    if (request->stream) {
        auto emit = [&](const json& event) { g_host->emit_event(call, str(event.dump())); };
        emit(chunk(id, created, model, {{"role", "assistant"}, {"content", ""}}, nullptr));
        for (const auto& word : words)
            emit(chunk(id, created, model, {{"content", word}}, nullptr));
        json last = chunk(id, created, model, json::object(), "stop");
        last["usage"] = usage;
        emit(last);
        g_host->emit_event(call, str("[DONE]"));
        return LP_RESPONDED;
    }
    json answer = {
        {"id", id},
        {"object", "chat.completion"},
        {"created", created},
        {"model", model},
        {"choices", json::array({{{"index", 0},
                                  {"message", {{"role", "assistant"}, {"content", reply}}},
                                  {"finish_reason", "stop"}}})},
        {"usage", usage}};
    std::string text = answer.dump();
    g_host->respond(call, 200, str("application/json"), str(text));
    return LP_RESPONDED;
}

lp_status encode_request(void*, void*, lp_call* call, const lp_request_view* request) {
    return lp_support::guarded(g_host, call, [&] { return encode(call, request); });
}

const lp_provider kProvider = {
    sizeof(lp_provider), instance_new, instance_free, nullptr, nullptr,
    encode_request,      nullptr,      nullptr,       nullptr,
};

const lp_export kExports[] = {
    {sizeof(lp_export), LP_PROVIDER_INTERFACE, "echo", &kProvider},
};

lp_status init(const lp_host_api* host, lp_call*) {
    g_host = host;
    return LP_CONTINUE;
}

}  // namespace

LP_DECLARE_PLUGIN_ENTRY = {
    sizeof(lp_plugin_entry),
    LP_ABI_MAJOR,
    LP_ABI_MINOR,
    "org.llm-proxy.echo",
    "1.0.0",
    "A local provider that echoes the user's last message, whole or word by word",
    init,
    nullptr,
    kExports,
    sizeof(kExports) / sizeof(kExports[0]),
};
