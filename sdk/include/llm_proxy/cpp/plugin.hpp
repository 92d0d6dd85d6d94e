// llm-proxy plugin SDK: an optional, header-only C++17 layer over the C ABI.
//
// The C headers stay the contract; this maps their function tables onto classes:
//   - derive from llm_proxy::Provider, llm_proxy::Processor or llm_proxy::ClientApi, construct
//     from the settings (throw llm_proxy::Error to refuse them), override the hooks you need;
//   - export them with LLM_PROXY_PLUGIN(id, version, description, exports...), using
//     llm_proxy::provider_export<T>("name"), llm_proxy::processor_export<T>("name") and
//     llm_proxy::client_api_export<T>("name", "native provider or nullptr").
// Every exception is caught at the boundary: llm_proxy::Error fails the hook with its status and
// message, any other exception with a 500 naming it. Nothing C++ crosses into the host.
#pragma once

#include <llm_proxy/plugin.h>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace llm_proxy {

inline std::string_view view(lp_str s) {
    return s.len ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline lp_str str(std::string_view s) {
    return {s.data(), s.size()};
}

// Whether two ASCII texts are equal ignoring case, as header names compare.
inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

// The value of the client's first request header called `name` (any case), or nullopt.
inline std::optional<std::string_view> request_header(const lp_request_view& request,
                                                      std::string_view name) {
    for (std::size_t i = 0; i < request.header_count; ++i)
        if (equals_ignoring_case(view(request.headers[i].name), name))
            return view(request.headers[i].value);
    return std::nullopt;
}

// The API whose format a request's body is in (lp_request_view.api): "openai" (canonical), or a
// client API's name on a route that serves it natively. A host older than ABI 1.2 sends none.
inline std::string_view request_api(const lp_request_view& request) {
    constexpr std::size_t end = offsetof(lp_request_view, api) + sizeof(lp_str);
    std::string_view api = request.struct_size >= end ? view(request.api) : std::string_view();
    return api.empty() ? std::string_view("openai") : api;
}

// The id of the client key a request came with, and the key's metadata as a JSON object of
// strings (lp_request_view.key_id, key_metadata): empty on a route without auth, and from a host
// older than ABI 1.5.
inline std::string_view request_key_id(const lp_request_view& request) {
    constexpr std::size_t end = offsetof(lp_request_view, key_id) + sizeof(lp_str);
    return request.struct_size >= end ? view(request.key_id) : std::string_view();
}
inline std::string_view request_key_metadata(const lp_request_view& request) {
    constexpr std::size_t end = offsetof(lp_request_view, key_metadata) + sizeof(lp_str);
    return request.struct_size >= end ? view(request.key_metadata) : std::string_view();
}

// The host API, available from init until deinit.
class Host {
  public:
    static const lp_host_api& api() { return *api_; }
    static void set(const lp_host_api* api) { api_ = api; }
    // [thread-safe]
    static void log(lp_log_level level, std::string_view message) {
        api_->log(level, str(message));
    }
    static bool log_enabled(lp_log_level level) { return api_->log_enabled(level) != 0; }

  private:
    static inline const lp_host_api* api_ = nullptr;
};

// Throw to fail a hook (status: what the client gets) or to refuse settings (the message is
// shown at start-up).
struct Error : std::runtime_error {
    explicit Error(std::string message, int status = 500, std::string type = "server_error",
                   std::string code = "")
        : std::runtime_error(std::move(message)),
          status(status),
          type(std::move(type)),
          code(std::move(code)) {}
    int status;
    std::string type;
    std::string code;
};

// One hook invocation: the host functions that act on it. Valid until the hook returns.
class Call {
  public:
    explicit Call(lp_call* call) : call_(call) {}
    lp_call* raw() const { return call_; }

    void fail(const Error& e) const {
        Host::api().set_error(call_, e.status, str(e.type), str(e.code), str(e.what()));
    }

    // Fields of the body the hook works on, by JSON Pointer ("/messages/0/content").
    std::optional<std::string_view> get_field(std::string_view pointer) const {
        lp_str out{};
        if (Host::api().get_field(call_, str(pointer), &out) != LP_CONTINUE)
            return std::nullopt;
        return view(out);
    }
    std::optional<std::string_view> get_string(std::string_view pointer) const {
        lp_str out{};
        if (Host::api().get_string_field(call_, str(pointer), &out) != LP_CONTINUE)
            return std::nullopt;
        return view(out);
    }
    bool add(std::string_view pointer, std::string_view value_json) const {
        return edit(LP_EDIT_ADD, pointer, value_json);
    }
    bool replace(std::string_view pointer, std::string_view value_json) const {
        return edit(LP_EDIT_REPLACE, pointer, value_json);
    }
    bool remove(std::string_view pointer) const { return edit(LP_EDIT_REMOVE, pointer, ""); }

    void set_body(std::string_view body) const { Host::api().set_body(call_, str(body)); }
    void respond(int status, std::string_view content_type, std::string_view body) const {
        Host::api().respond(call_, status, str(content_type), str(body));
    }
    void emit_event(std::string_view data) const { Host::api().emit_event(call_, str(data)); }
    // ABI 1.2: an event with an `event:` name.
    void emit_event(std::string_view event, std::string_view data) const {
        Host::api().emit_named_event(call_, str(event), str(data));
    }
    void set_upstream_method(std::string_view method) const {
        Host::api().set_upstream_method(call_, str(method));
    }
    void set_upstream_path(std::string_view path) const {
        Host::api().set_upstream_path(call_, str(path));
    }
    void set_upstream_header(std::string_view name, std::string_view value) const {
        Host::api().set_upstream_header(call_, str(name), str(value));
    }

    struct LlmAnswer {
        int status;
        std::string_view body;  // valid until the hook returns
    };
    // A side call to [llm.NAME]; nullopt when no answer could be had (the host has then set an
    // error on this call, which a throw of Error replaces).
    std::optional<LlmAnswer> call_llm(std::string_view llm_name, std::string_view body) const {
        lp_llm_answer answer{sizeof(lp_llm_answer), 0, {}};
        if (Host::api().call_llm(call_, str(llm_name), str(body), &answer) != LP_CONTINUE)
            return std::nullopt;
        return LlmAnswer{answer.http_status, view(answer.body)};
    }

  private:
    bool edit(lp_edit op, std::string_view pointer, std::string_view value) const {
        return Host::api().edit_field(call_, op, str(pointer), str(value)) == LP_CONTINUE;
    }
    lp_call* call_;
};

// Per-request state of a provider or processor: derive, and return one from new_request().
struct RequestState {
    virtual ~RequestState() = default;
};

struct ProviderSettings {
    std::string_view llm_name;
    lp_endpoint endpoint;
    std::string_view base_url;
    std::string_view api_key;
    std::string_view options_json;
};

class Provider {
  public:
    virtual ~Provider() = default;
    // [request] Called for every request; nullptr when the provider keeps no request state.
    virtual std::unique_ptr<RequestState> new_request() { return nullptr; }
    virtual lp_status encode_request(Call& call, const lp_request_view& request,
                                     RequestState* state) = 0;
    virtual lp_status decode_response(Call&, int /*status*/, std::string_view /*body*/,
                                      RequestState*) {
        return LP_CONTINUE;
    }
    virtual lp_status decode_stream_event(Call&, const lp_sse_event&, RequestState*) {
        return LP_CONTINUE;
    }
    virtual lp_status end_stream(Call&, RequestState*) { return LP_CONTINUE; }
};

struct ProcessorSettings {
    std::string_view name;
    std::string_view config_value;
    std::string_view additional_config_json;
};

class Processor {
  public:
    virtual ~Processor() = default;
    virtual std::unique_ptr<RequestState> new_request() { return nullptr; }
    virtual lp_status on_request(Call&, const lp_request_view&, RequestState*) {
        return LP_CONTINUE;
    }
    virtual lp_status on_response(Call&, int /*status*/, std::string_view /*body*/, RequestState*) {
        return LP_CONTINUE;
    }
    virtual lp_status on_stream_event(Call&, const lp_sse_event&, RequestState*) {
        return LP_CONTINUE;
    }
    // Must not throw; exceptions are swallowed.
    virtual void on_finish(const lp_request_outcome&, RequestState*) {}
};

struct ClientApiSettings {
    std::string_view name;
};

// A client API (client_api.h): the client's format to canonical and back.
class ClientApi {
  public:
    virtual ~ClientApi() = default;
    virtual std::unique_ptr<RequestState> new_request() { return nullptr; }
    virtual lp_status decode_request(Call& call, const lp_request_view& request,
                                     RequestState* state) = 0;
    virtual lp_status encode_response(Call& call, int status, std::string_view body,
                                      RequestState* state) = 0;
    virtual lp_status encode_stream_event(Call& call, const lp_sse_event& event,
                                          RequestState* state) = 0;
    virtual lp_status end_stream(Call&, RequestState*) { return LP_CONTINUE; }
    // state may be null (a failure before the request state existed).
    virtual lp_status encode_error(Call& call, bool in_stream, int status,
                                   std::string_view error_type, std::string_view code,
                                   std::string_view message, RequestState* state) = 0;
};

// Runs a hook body, turning exceptions into LP_FAILED with an error on the call.
template <typename Body>
lp_status guarded(lp_call* raw, Body&& body) noexcept {
    Call call(raw);
    try {
        return body(call);
    } catch (const Error& e) {
        call.fail(e);
    } catch (const std::exception& e) {
        call.fail(Error(std::string("plugin error: ") + e.what()));
    } catch (...) {
        call.fail(Error("plugin error: unknown exception"));
    }
    return LP_FAILED;
}

namespace detail {

template <typename Base>
lp_status request_new(void* instance, lp_call* call, void** state) noexcept {
    return guarded(call, [&](Call&) {
        *state = static_cast<Base*>(instance)->new_request().release();
        return LP_CONTINUE;
    });
}

inline void request_free(void*, void* state) noexcept {
    delete static_cast<RequestState*>(state);
}

template <typename Base>
void instance_free(void* instance) noexcept {
    delete static_cast<Base*>(instance);
}

inline RequestState* state_of(void* state) {
    return static_cast<RequestState*>(state);
}

template <typename P>
lp_status provider_new(const lp_provider_config* c, lp_call* call, void** out) noexcept {
    return guarded(call, [&](Call&) {
        ProviderSettings settings{view(c->llm_name), c->endpoint, view(c->base_url),
                                  view(c->api_key), view(c->options_json)};
        *out = static_cast<Provider*>(new P(settings));
        return LP_CONTINUE;
    });
}

inline lp_status encode_request(void* instance, void* state, lp_call* call,
                                const lp_request_view* request) noexcept {
    return guarded(call, [&](Call& c) {
        return static_cast<Provider*>(instance)->encode_request(c, *request, state_of(state));
    });
}

inline lp_status decode_response(void* instance, void* state, lp_call* call, int32_t status,
                                 lp_str body) noexcept {
    return guarded(call, [&](Call& c) {
        return static_cast<Provider*>(instance)->decode_response(c, status, view(body),
                                                                 state_of(state));
    });
}

inline lp_status decode_stream_event(void* instance, void* state, lp_call* call,
                                     const lp_sse_event* event) noexcept {
    return guarded(call, [&](Call& c) {
        return static_cast<Provider*>(instance)->decode_stream_event(c, *event, state_of(state));
    });
}

inline lp_status end_stream(void* instance, void* state, lp_call* call) noexcept {
    return guarded(call, [&](Call& c) {
        return static_cast<Provider*>(instance)->end_stream(c, state_of(state));
    });
}

template <typename P>
lp_status processor_new(const lp_processor_config* c, lp_call* call, void** out) noexcept {
    return guarded(call, [&](Call&) {
        ProcessorSettings settings{view(c->name), view(c->config_value),
                                   view(c->additional_config_json)};
        *out = static_cast<Processor*>(new P(settings));
        return LP_CONTINUE;
    });
}

inline lp_status on_request(void* instance, void* state, lp_call* call,
                            const lp_request_view* request) noexcept {
    return guarded(call, [&](Call& c) {
        return static_cast<Processor*>(instance)->on_request(c, *request, state_of(state));
    });
}

inline lp_status on_response(void* instance, void* state, lp_call* call, int32_t status,
                             lp_str body) noexcept {
    return guarded(call, [&](Call& c) {
        return static_cast<Processor*>(instance)->on_response(c, status, view(body),
                                                              state_of(state));
    });
}

inline lp_status on_stream_event(void* instance, void* state, lp_call* call,
                                 const lp_sse_event* event) noexcept {
    return guarded(call, [&](Call& c) {
        return static_cast<Processor*>(instance)->on_stream_event(c, *event, state_of(state));
    });
}

inline void on_finish(void* instance, void* state, const lp_request_outcome* outcome) noexcept {
    try {
        static_cast<Processor*>(instance)->on_finish(*outcome, state_of(state));
    } catch (...) {
    }
}

template <typename A>
lp_status client_api_new(const lp_client_api_config* c, lp_call* call, void** out) noexcept {
    return guarded(call, [&](Call&) {
        *out = static_cast<ClientApi*>(new A(ClientApiSettings{view(c->name)}));
        return LP_CONTINUE;
    });
}

inline ClientApi& client_api(void* instance) {
    return *static_cast<ClientApi*>(instance);
}

inline lp_status decode_request(void* instance, void* state, lp_call* call,
                                const lp_request_view* request) noexcept {
    return guarded(call, [&](Call& c) {
        return client_api(instance).decode_request(c, *request, state_of(state));
    });
}

inline lp_status encode_response(void* instance, void* state, lp_call* call, int32_t status,
                                 lp_str body) noexcept {
    return guarded(call, [&](Call& c) {
        return client_api(instance).encode_response(c, status, view(body), state_of(state));
    });
}

inline lp_status encode_stream_event(void* instance, void* state, lp_call* call,
                                     const lp_sse_event* event) noexcept {
    return guarded(call, [&](Call& c) {
        return client_api(instance).encode_stream_event(c, *event, state_of(state));
    });
}

inline lp_status client_end_stream(void* instance, void* state, lp_call* call) noexcept {
    return guarded(call,
                   [&](Call& c) { return client_api(instance).end_stream(c, state_of(state)); });
}

inline lp_status encode_error(void* instance, void* state, lp_call* call, int32_t in_stream,
                              int32_t status, lp_str type, lp_str code, lp_str message) noexcept {
    return guarded(call, [&](Call& c) {
        return client_api(instance).encode_error(c, in_stream != 0, status, view(type), view(code),
                                                 view(message), state_of(state));
    });
}

inline lp_status init(const lp_host_api* host, lp_call*) noexcept {
    Host::set(host);
    return LP_CONTINUE;
}

}  // namespace detail

namespace detail {

// Whether T overrides a hook of Base: &T::hook then names a member of T (or of a class between),
// not Base's own.
template <typename Base, typename Own, typename Found>
constexpr bool overrides(Own Base::*, Found) {
    return !std::is_same_v<Own Base::*, Found>;
}

}  // namespace detail

// The function table of provider P (derived from Provider, constructible from ProviderSettings).
// Hooks P does not override are left out (NULL), so the host skips them entirely.
template <typename P>
const lp_provider* provider_table() {
    using detail::overrides;
    static const lp_provider table = {
        sizeof(lp_provider),
        &detail::provider_new<P>,
        &detail::instance_free<Provider>,
        overrides(&Provider::new_request, &P::new_request) ? &detail::request_new<Provider>
                                                           : nullptr,
        overrides(&Provider::new_request, &P::new_request) ? &detail::request_free : nullptr,
        &detail::encode_request,
        overrides(&Provider::decode_response, &P::decode_response) ? &detail::decode_response
                                                                   : nullptr,
        overrides(&Provider::decode_stream_event, &P::decode_stream_event)
            ? &detail::decode_stream_event
            : nullptr,
        overrides(&Provider::end_stream, &P::end_stream) ? &detail::end_stream : nullptr,
    };
    return &table;
}

// The function table of processor P (derived from Processor, constructible from
// ProcessorSettings). Hooks P does not override are left out (NULL), so the host skips them.
template <typename P>
const lp_processor* processor_table() {
    using detail::overrides;
    static const lp_processor table = {
        sizeof(lp_processor),
        &detail::processor_new<P>,
        &detail::instance_free<Processor>,
        overrides(&Processor::new_request, &P::new_request) ? &detail::request_new<Processor>
                                                            : nullptr,
        overrides(&Processor::new_request, &P::new_request) ? &detail::request_free : nullptr,
        overrides(&Processor::on_request, &P::on_request) ? &detail::on_request : nullptr,
        overrides(&Processor::on_response, &P::on_response) ? &detail::on_response : nullptr,
        overrides(&Processor::on_stream_event, &P::on_stream_event) ? &detail::on_stream_event
                                                                    : nullptr,
        overrides(&Processor::on_finish, &P::on_finish) ? &detail::on_finish : nullptr,
    };
    return &table;
}

// The function table of client API A (derived from ClientApi, constructible from
// ClientApiSettings); native_provider as client_api.h describes it.
template <typename A>
const lp_client_api* client_api_table(const char* native_provider) {
    using detail::overrides;
    static const lp_client_api table = {
        sizeof(lp_client_api),
        native_provider,
        &detail::client_api_new<A>,
        &detail::instance_free<ClientApi>,
        overrides(&ClientApi::new_request, &A::new_request) ? &detail::request_new<ClientApi>
                                                            : nullptr,
        overrides(&ClientApi::new_request, &A::new_request) ? &detail::request_free : nullptr,
        &detail::decode_request,
        &detail::encode_response,
        &detail::encode_stream_event,
        overrides(&ClientApi::end_stream, &A::end_stream) ? &detail::client_end_stream : nullptr,
        &detail::encode_error,
    };
    return &table;
}

template <typename P>
lp_export provider_export(const char* type_name) {
    return {sizeof(lp_export), LP_PROVIDER_INTERFACE, type_name, provider_table<P>()};
}

template <typename P>
lp_export processor_export(const char* type_name) {
    return {sizeof(lp_export), LP_PROCESSOR_INTERFACE, type_name, processor_table<P>()};
}

// Needs a host of ABI 1.2 or later (older hosts refuse the export as an unknown interface).
template <typename A>
lp_export client_api_export(const char* name, const char* native_provider) {
    return {sizeof(lp_export), LP_CLIENT_API_INTERFACE, name, client_api_table<A>(native_provider)};
}

}  // namespace llm_proxy

// Declares the plugin's entry: its id, version, description and exports. init stores the host
// API for llm_proxy::Host.
#define LLM_PROXY_PLUGIN(ID, VERSION, DESCRIPTION, ...)         \
    namespace {                                                 \
    const lp_export llm_proxy_plugin_exports[] = {__VA_ARGS__}; \
    }                                                           \
    LP_DECLARE_PLUGIN_ENTRY = {                                 \
        sizeof(lp_plugin_entry),                                \
        LP_ABI_MAJOR,                                           \
        LP_ABI_MINOR,                                           \
        ID,                                                     \
        VERSION,                                                \
        DESCRIPTION,                                            \
        &::llm_proxy::detail::init,                             \
        nullptr,                                                \
        llm_proxy_plugin_exports,                               \
        sizeof(llm_proxy_plugin_exports) / sizeof(llm_proxy_plugin_exports[0])}
