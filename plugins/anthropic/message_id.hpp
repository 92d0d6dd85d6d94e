// Ids for the messages the client API answers with.
#pragma once

#include <string>

namespace anthropic {

// "msg_" and 24 random letters and digits, as Anthropic's own ids look. [thread-safe]
std::string new_message_id();

}  // namespace anthropic
