// Reading members of the documents the codec builds from outside JSON, without the exceptions
// nlohmann::json throws for a member of an unexpected type.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace anthropic {

// Objects keep their key order: a JSON schema's property order is the order the model writes
// them in, and tool arguments read as the model wrote them.
using Json = nlohmann::ordered_json;

// The member `key` of `object`, or nullptr when it is absent or JSON null (OpenAI's "not
// given"). `object` must be an object.
inline Json* given(Json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

// The string member `key` of `object`, or "" when it is absent or not a string.
inline std::string_view string_or_empty(const Json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string()
               ? std::string_view(it->get_ref<const std::string&>())
               : std::string_view();
}

}  // namespace anthropic
