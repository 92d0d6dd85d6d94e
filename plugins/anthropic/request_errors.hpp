// The refusals of the request encoder: 400, type invalid_request_error, with a message that
// names the request field the way OpenAI's documentation spells it
// ("messages[2].tool_calls[0].function.arguments").
#pragma once

#include <string_view>

namespace anthropic {

// A field the Messages API has no equivalent for (code "unsupported_parameter").
[[noreturn]] void refuse_unsupported(std::string_view field, std::string_view why);

// A value the Messages API cannot take, though OpenAI's could (code "unsupported_value").
[[noreturn]] void refuse_value(std::string_view field, std::string_view why);

// A value that is wrong in either API (code "invalid_value").
[[noreturn]] void refuse_invalid(std::string_view field, std::string_view why);

}  // namespace anthropic
