#include "anthropic/request_errors.hpp"

#include <llm_proxy/cpp/plugin.hpp>

#include <string>

namespace anthropic {

namespace {

[[noreturn]] void refuse(const char* code, const char* what, std::string_view field,
                         std::string_view why) {
    throw llm_proxy::Error(std::string(what) + " '" + std::string(field) + "': " + std::string(why),
                           400, "invalid_request_error", code);
}

}  // namespace

void refuse_unsupported(std::string_view field, std::string_view why) {
    refuse("unsupported_parameter", "unsupported parameter", field, why);
}

void refuse_value(std::string_view field, std::string_view why) {
    refuse("unsupported_value", "unsupported value of", field, why);
}

void refuse_invalid(std::string_view field, std::string_view why) {
    refuse("invalid_value", "invalid value of", field, why);
}

}  // namespace anthropic
