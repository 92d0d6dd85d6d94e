#include "pipeline/first_content.hpp"

#include "json/json_check.hpp"
#include "json/json_fields.hpp"

namespace llmproxy {

namespace {

// A value that says something: not absent, null, an empty string or an empty array.
bool has_value(std::string_view json, std::string_view pointer) {
    auto value = json_fields::get(json, pointer);
    return value && *value != "null" && *value != "\"\"" && *value != "[]";
}

}  // namespace

bool is_content_event(std::string_view data) {
    if (!json_fields::valid(data) || !json_fields::get(data, "/choices") ||
        json_fields::get(data, "/error"))
        return true;
    for (std::string_view field :
         {"/choices/0/delta/content", "/choices/0/delta/refusal",
          "/choices/0/delta/reasoning_content", "/choices/0/delta/reasoning",
          "/choices/0/delta/tool_calls", "/choices/0/finish_reason"})
        if (has_value(data, field))
            return true;
    return false;
}

}  // namespace llmproxy
