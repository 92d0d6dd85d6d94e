//! The parts of the llm-proxy plugin ABI (sdk/include/llm_proxy/*.h) this plugin uses, written
//! out by hand: the C headers are the contract, and these declarations mirror them field for
//! field (`#[repr(C)]`, same order, same types).
#![allow(non_camel_case_types, dead_code)]

use std::ffi::c_void;
use std::os::raw::c_char;

pub const LP_ABI_MAJOR: u16 = 1;
pub const LP_ABI_MINOR: u16 = 0;
pub const LP_CONTINUE: i32 = 0;
pub const LP_DROP: i32 = 1;
pub const LP_FAILED: i32 = -1;
pub const LP_LOG_INFO: i32 = 2;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct lp_str {
    pub ptr: *const c_char,
    pub len: usize,
}

impl lp_str {
    pub fn from(s: &str) -> lp_str {
        lp_str { ptr: s.as_ptr() as *const c_char, len: s.len() }
    }
    /// # Safety
    /// ptr must point at len readable bytes for the lifetime of the borrow.
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.len == 0 { &[] } else { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

#[repr(C)]
pub struct lp_call {
    _opaque: [u8; 0],
}

#[repr(C)]
pub struct lp_sse_event {
    pub struct_size: u32,
    pub event: lp_str,
    pub data: lp_str,
    pub id: lp_str,
}

#[repr(C)]
pub struct lp_processor_config {
    pub struct_size: u32,
    pub name: lp_str,
    pub config_value: lp_str,
    pub additional_config_json: lp_str,
}

/// The host API: only the prefix this plugin calls is declared; the host's table may be longer.
#[repr(C)]
pub struct lp_host_api {
    pub struct_size: u32,
    pub abi_major: u16,
    pub abi_minor: u16,
    pub log: extern "C" fn(level: i32, message: lp_str),
    pub set_error: extern "C" fn(call: *mut lp_call, status: i32, kind: lp_str, code: lp_str, message: lp_str),
    pub set_upstream_method: *const c_void,
    pub set_upstream_path: *const c_void,
    pub set_upstream_header: *const c_void,
    pub set_body: *const c_void,
    pub respond: *const c_void,
    pub emit_event: extern "C" fn(call: *mut lp_call, data: lp_str),
}

pub type InstanceNew = extern "C" fn(*const lp_processor_config, *mut lp_call, *mut *mut c_void) -> i32;
pub type InstanceFree = extern "C" fn(*mut c_void);
pub type StreamHook = extern "C" fn(*mut c_void, *mut c_void, *mut lp_call, *const lp_sse_event) -> i32;

#[repr(C)]
pub struct lp_processor {
    pub struct_size: u32,
    pub instance_new: Option<InstanceNew>,
    pub instance_free: Option<InstanceFree>,
    pub request_new: *const c_void,
    pub request_free: *const c_void,
    pub on_request: *const c_void,
    pub on_response: *const c_void,
    pub on_stream_event: Option<StreamHook>,
    pub on_finish: *const c_void,
}

#[repr(C)]
pub struct lp_export {
    pub struct_size: u32,
    pub interface_id: *const c_char,
    pub type_name: *const c_char,
    pub vtable: *const c_void,
}

#[repr(C)]
pub struct lp_plugin_entry {
    pub struct_size: u32,
    pub abi_major: u16,
    pub abi_minor: u16,
    pub plugin_id: *const c_char,
    pub version: *const c_char,
    pub description: *const c_char,
    pub init: extern "C" fn(*const lp_host_api, *mut lp_call) -> i32,
    pub deinit: Option<extern "C" fn()>,
    pub exports: *const lp_export,
    pub export_count: usize,
}

/// Statics holding raw pointers are not `Sync` in Rust; the ABI objects are immutable.
#[repr(transparent)]
pub struct Shared<T>(pub T);
unsafe impl<T> Sync for Shared<T> {}
