/*
 * The golden layout of every ABI struct on LP64 platforms (x86-64, AArch64): sizes and field
 * offsets, checked at compile time. A change to a released struct fails the build here. When a
 * field is appended in a new minor version, add its line and update the struct's size; never
 * change an existing line.
 */
#include <llm_proxy/plugin.h>
#include <stddef.h>

#if defined(__LP64__) || defined(_LP64)
#define LP_SIZE(type, size) _Static_assert(sizeof(type) == (size), "ABI: size of " #type " changed")
#define LP_FIELD(type, field, offset)                                                    \
    _Static_assert(offsetof(type, field) == (offset), "ABI: offset of " #type "." #field \
                                                      " change"                          \
                                                      "d")

LP_SIZE(lp_str, 16);
LP_FIELD(lp_str, ptr, 0);
LP_FIELD(lp_str, len, 8);
LP_SIZE(lp_header, 32);
LP_FIELD(lp_header, name, 0);
LP_FIELD(lp_header, value, 16);
LP_SIZE(lp_llm_answer, 24);
LP_FIELD(lp_llm_answer, struct_size, 0);
LP_FIELD(lp_llm_answer, http_status, 4);
LP_FIELD(lp_llm_answer, body, 8);
LP_SIZE(lp_request_view, 160);
LP_FIELD(lp_request_view, struct_size, 0);
LP_FIELD(lp_request_view, body, 8);
LP_FIELD(lp_request_view, path, 24);
LP_FIELD(lp_request_view, model, 40);
LP_FIELD(lp_request_view, route_prefix, 56);
LP_FIELD(lp_request_view, llm_name, 72);
LP_FIELD(lp_request_view, endpoint, 88);
LP_FIELD(lp_request_view, stream, 92);
LP_FIELD(lp_request_view, headers, 96);
LP_FIELD(lp_request_view, header_count, 104);
LP_FIELD(lp_request_view, api, 112); /* 1.2 */
LP_FIELD(lp_request_view, key_id, 128);       /* 1.5 */
LP_FIELD(lp_request_view, key_metadata, 144); /* 1.5 */
LP_SIZE(lp_sse_event, 56);
LP_FIELD(lp_sse_event, struct_size, 0);
LP_FIELD(lp_sse_event, event, 8);
LP_FIELD(lp_sse_event, data, 24);
LP_FIELD(lp_sse_event, id, 40);
LP_SIZE(lp_host_api, 120);
LP_FIELD(lp_host_api, struct_size, 0);
LP_FIELD(lp_host_api, abi_major, 4);
LP_FIELD(lp_host_api, abi_minor, 6);
LP_FIELD(lp_host_api, log, 8);
LP_FIELD(lp_host_api, set_error, 16);
LP_FIELD(lp_host_api, set_upstream_method, 24);
LP_FIELD(lp_host_api, set_upstream_path, 32);
LP_FIELD(lp_host_api, set_upstream_header, 40);
LP_FIELD(lp_host_api, set_body, 48);
LP_FIELD(lp_host_api, respond, 56);
LP_FIELD(lp_host_api, emit_event, 64);
LP_FIELD(lp_host_api, get_field, 72);
LP_FIELD(lp_host_api, get_string_field, 80);
LP_FIELD(lp_host_api, edit_field, 88);
LP_FIELD(lp_host_api, call_llm, 96);
LP_FIELD(lp_host_api, log_enabled, 104);
LP_FIELD(lp_host_api, emit_named_event, 112); /* 1.2 */
LP_SIZE(lp_provider_config, 80);
LP_FIELD(lp_provider_config, struct_size, 0);
LP_FIELD(lp_provider_config, llm_name, 8);
LP_FIELD(lp_provider_config, endpoint, 24);
LP_FIELD(lp_provider_config, base_url, 32);
LP_FIELD(lp_provider_config, api_key, 48);
LP_FIELD(lp_provider_config, options_json, 64);
LP_SIZE(lp_provider, 72);
LP_FIELD(lp_provider, struct_size, 0);
LP_FIELD(lp_provider, instance_new, 8);
LP_FIELD(lp_provider, instance_free, 16);
LP_FIELD(lp_provider, request_new, 24);
LP_FIELD(lp_provider, request_free, 32);
LP_FIELD(lp_provider, encode_request, 40);
LP_FIELD(lp_provider, decode_response, 48);
LP_FIELD(lp_provider, decode_stream_event, 56);
LP_FIELD(lp_provider, end_stream, 64);
LP_SIZE(lp_processor_config, 56);
LP_FIELD(lp_processor_config, struct_size, 0);
LP_FIELD(lp_processor_config, name, 8);
LP_FIELD(lp_processor_config, config_value, 24);
LP_FIELD(lp_processor_config, additional_config_json, 40);
LP_SIZE(lp_request_outcome, 120);
LP_FIELD(lp_request_outcome, struct_size, 0);
LP_FIELD(lp_request_outcome, http_status, 4);
LP_FIELD(lp_request_outcome, upstream_status, 8);
LP_FIELD(lp_request_outcome, streamed, 12);
LP_FIELD(lp_request_outcome, client_gone, 16);
LP_FIELD(lp_request_outcome, duration_ms, 24);
LP_FIELD(lp_request_outcome, time_to_first_byte_ms, 32);
LP_FIELD(lp_request_outcome, error_message, 40);
LP_FIELD(lp_request_outcome, prompt_tokens, 56);
LP_FIELD(lp_request_outcome, completion_tokens, 64);
LP_FIELD(lp_request_outcome, total_tokens, 72);
LP_FIELD(lp_request_outcome, attempts, 80);
LP_FIELD(lp_request_outcome, llm_name, 88);
LP_FIELD(lp_request_outcome, upstream_model, 104);
LP_SIZE(lp_processor, 72);
LP_FIELD(lp_processor, struct_size, 0);
LP_FIELD(lp_processor, instance_new, 8);
LP_FIELD(lp_processor, instance_free, 16);
LP_FIELD(lp_processor, request_new, 24);
LP_FIELD(lp_processor, request_free, 32);
LP_FIELD(lp_processor, on_request, 40);
LP_FIELD(lp_processor, on_response, 48);
LP_FIELD(lp_processor, on_stream_event, 56);
LP_FIELD(lp_processor, on_finish, 64);
LP_SIZE(lp_client_api_config, 24); /* 1.2 */
LP_FIELD(lp_client_api_config, struct_size, 0);
LP_FIELD(lp_client_api_config, name, 8);
LP_SIZE(lp_client_api, 88); /* 1.2 */
LP_FIELD(lp_client_api, struct_size, 0);
LP_FIELD(lp_client_api, native_provider, 8);
LP_FIELD(lp_client_api, instance_new, 16);
LP_FIELD(lp_client_api, instance_free, 24);
LP_FIELD(lp_client_api, request_new, 32);
LP_FIELD(lp_client_api, request_free, 40);
LP_FIELD(lp_client_api, decode_request, 48);
LP_FIELD(lp_client_api, encode_response, 56);
LP_FIELD(lp_client_api, encode_stream_event, 64);
LP_FIELD(lp_client_api, end_stream, 72);
LP_FIELD(lp_client_api, encode_error, 80);
LP_SIZE(lp_export, 32);
LP_FIELD(lp_export, struct_size, 0);
LP_FIELD(lp_export, interface_id, 8);
LP_FIELD(lp_export, type_name, 16);
LP_FIELD(lp_export, vtable, 24);
LP_SIZE(lp_plugin_entry, 64);
LP_FIELD(lp_plugin_entry, struct_size, 0);
LP_FIELD(lp_plugin_entry, abi_major, 4);
LP_FIELD(lp_plugin_entry, abi_minor, 6);
LP_FIELD(lp_plugin_entry, plugin_id, 8);
LP_FIELD(lp_plugin_entry, version, 16);
LP_FIELD(lp_plugin_entry, description, 24);
LP_FIELD(lp_plugin_entry, init, 32);
LP_FIELD(lp_plugin_entry, deinit, 40);
LP_FIELD(lp_plugin_entry, exports, 48);
LP_FIELD(lp_plugin_entry, export_count, 56);
#endif

/* A translation unit must declare something. */
typedef int abi_layout_is_golden;
