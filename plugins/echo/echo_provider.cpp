// The echo provider: answers a chat completion locally with the user's last message, whole or
// streamed word by word, in OpenAI's format. No network and no key: it makes the default config
// answer out of the box, and gives tests and benchmarks an upstream-free path.
#include <llm_proxy/cpp/plugin.hpp>

#include <atomic>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using json = nlohmann::json;
using llm_proxy::Call;
using llm_proxy::Error;
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

class EchoProvider : public llm_proxy::Provider {
  public:
    explicit EchoProvider(const llm_proxy::ProviderSettings& settings) {
        if (settings.endpoint != LP_ENDPOINT_CHAT)
            throw Error("the echo provider only serves type = \"chat\"");
        if (settings.options_json != "{}")
            throw Error("the echo provider takes no options");
    }

    lp_status encode_request(Call& call, const lp_request_view& request,
                             llm_proxy::RequestState*) override {
        json body = json::parse(llm_proxy::view(request.body), nullptr, false);
        if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array())
            throw Error("\"messages\" must be an array of chat messages", 400,
                        "invalid_request_error", "invalid_messages");
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
        const std::string model(llm_proxy::view(request.model));
        const auto words = words_of(reply);
        json usage = {{"prompt_tokens", prompt_words},
                      {"completion_tokens", words.size()},
                      {"total_tokens", prompt_words + words.size()}};

        if (request.stream) {
            auto emit = [&](const json& event) { call.emit_event(event.dump()); };
            emit(chunk(id, created, model, {{"role", "assistant"}, {"content", ""}}, nullptr));
            for (const auto& word : words)
                emit(chunk(id, created, model, {{"content", word}}, nullptr));
            json last = chunk(id, created, model, json::object(), "stop");
            last["usage"] = usage;
            emit(last);
            return LP_RESPONDED;  // the host ends the stream with [DONE]
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
        call.respond(200, "application/json", text);
        return LP_RESPONDED;
    }
};

}  // namespace

LLM_PROXY_PLUGIN("org.llm-proxy.echo", "1.0.0",
                 "A local provider that echoes the user's last message, whole or word by word",
                 llm_proxy::provider_export<EchoProvider>("echo"));
