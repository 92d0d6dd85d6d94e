# llm_proxy_add_plugin(NAME SOURCES file... [LIBRARIES lib...] [OUTPUT_DIR dir])
#
# Builds the llm-proxy plugin NAME.so from C or C++ sources: a shared object that exports only
# the entry symbol (llm_proxy_plugin_entry), hides everything else, and may leave no symbol
# undefined, so that a missing dependency fails the build instead of the load. Used by the
# plugins in llm-proxy's own tree and, through find_package(llm-proxy), by plugins outside it.
#
# Needs the target llm_proxy::sdk and the variable LLM_PROXY_PLUGIN_MAP (the linker version
# script); find_package(llm-proxy) provides both.
function(llm_proxy_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE llm_proxy::sdk ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  endif()
  target_link_options(${name} PRIVATE -Wl,-z,defs -Wl,--version-script=${LLM_PROXY_PLUGIN_MAP})
endfunction()
