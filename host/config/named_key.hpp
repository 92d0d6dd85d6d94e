// Finds the config key a plugin's message is about, so that a refusal from instance_new points at
// the key's line rather than the table's header.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace llmproxy {

// A key of a table as a plugin's message names it, and the line to show for it.
struct NamedKey {
    std::string key;  // as the message spells it, e.g. "options.region"
    int line = 0;
};

// The key that a plugin's message about a table's settings names ("additional_config.status must
// be from 400 to 499", "unknown key options.x"): the dotted word of the message that matches the
// most levels of lines. A key that is absent (options.region) gets the line of its closest
// present parent (the options table). `ignore` is a key the message may use as a plain word
// ("the echo provider takes no options"). nullopt when the message names no key of lines.
std::optional<NamedKey> key_named_in(std::string_view message, const KeyLines& lines,
                                     std::string_view ignore);

}  // namespace llmproxy
