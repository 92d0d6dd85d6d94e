//! `shout`: an llm-proxy processor in Rust, using only the standard library. It upper-cases the
//! text of every streamed answer delta ("choices[].delta.content"), and leaves whole answers and
//! requests alone. config_value, when set, is appended to each changed delta.
//!
//!   [processor.loud]
//!   type = "shout"
//!   config_value = "!"
//!
//! Build: `cargo build --offline --release` (no crates from the network).
mod abi;

use abi::*;
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering};

static HOST: AtomicPtr<lp_host_api> = AtomicPtr::new(std::ptr::null_mut());

fn host() -> &'static lp_host_api {
    // Set by init before any other hook runs, valid until deinit.
    unsafe { &*HOST.load(Ordering::Acquire) }
}

struct Shout {
    suffix: String,
}

extern "C" fn instance_new(config: *const lp_processor_config, call: *mut lp_call, out: *mut *mut c_void) -> i32 {
    let config = unsafe { &*config };
    let suffix = match std::str::from_utf8(unsafe { config.config_value.as_bytes() }) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let message = "config_value must be UTF-8";
            (host().set_error)(call, 500, lp_str::from(""), lp_str::from(""), lp_str::from(message));
            return LP_FAILED;
        }
    };
    if suffix.contains('"') || suffix.contains('\\') {
        let message = "config_value may not contain quotes or backslashes";
        (host().set_error)(call, 500, lp_str::from(""), lp_str::from(""), lp_str::from(message));
        return LP_FAILED;
    }
    unsafe { *out = Box::into_raw(Box::new(Shout { suffix })) as *mut c_void };
    LP_CONTINUE
}

extern "C" fn instance_free(instance: *mut c_void) {
    drop(unsafe { Box::from_raw(instance as *mut Shout) });
}

/// Upper-cases the string values of "content" keys inside "delta" objects of an OpenAI chunk,
/// working on the JSON text itself: the key's string value is located and rewritten in place.
fn shout_deltas(data: &str, suffix: &str) -> Option<String> {
    let marker = "\"delta\":{";
    let mut out = String::with_capacity(data.len() + 16);
    let mut rest = data;
    let mut changed = false;
    while let Some(at) = rest.find(marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        rest = after;
        let key = "\"content\":\"";
        let end_of_delta = rest.find('}').unwrap_or(rest.len());
        if let Some(k) = rest[..end_of_delta].find(key) {
            let (head, tail) = rest.split_at(k + key.len());
            out.push_str(head);
            // The string runs to the first quote that is not escaped; escapes are copied as they
            // are ("\n" must not become "\N").
            let mut chars = tail.char_indices();
            let mut end = tail.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = i;
                        break;
                    }
                    '\\' => {
                        out.push(c);
                        if let Some((_, escaped)) = chars.next() {
                            out.push(escaped);
                            if escaped == 'u' {
                                for _ in 0..4 {
                                    if let Some((_, hex)) = chars.next() {
                                        out.push(hex);
                                    }
                                }
                            }
                        }
                    }
                    _ => out.extend(c.to_uppercase()),
                }
            }
            out.push_str(suffix);
            rest = &tail[end..];
            changed = true;
        }
    }
    out.push_str(rest);
    if changed { Some(out) } else { None }
}

extern "C" fn on_stream_event(instance: *mut c_void, _state: *mut c_void, call: *mut lp_call, event: *const lp_sse_event) -> i32 {
    let shout = unsafe { &*(instance as *const Shout) };
    let data = match std::str::from_utf8(unsafe { (*event).data.as_bytes() }) {
        Ok(d) => d,
        Err(_) => return LP_CONTINUE,
    };
    match shout_deltas(data, &shout.suffix) {
        Some(loud) => {
            (host().emit_event)(call, lp_str::from(&loud));
            LP_CONTINUE
        }
        None => LP_CONTINUE,
    }
}

extern "C" fn init(api: *const lp_host_api, _call: *mut lp_call) -> i32 {
    HOST.store(api as *mut lp_host_api, Ordering::Release);
    (host().log)(LP_LOG_INFO, lp_str::from("shout (Rust) ready"));
    LP_CONTINUE
}

static PROCESSOR: Shared<lp_processor> = Shared(lp_processor {
    struct_size: std::mem::size_of::<lp_processor>() as u32,
    instance_new: Some(instance_new),
    instance_free: Some(instance_free),
    request_new: std::ptr::null(),
    request_free: std::ptr::null(),
    on_request: std::ptr::null(),
    on_response: std::ptr::null(),
    on_stream_event: Some(on_stream_event),
    on_finish: std::ptr::null(),
});

static EXPORTS: Shared<[lp_export; 1]> = Shared([lp_export {
    struct_size: std::mem::size_of::<lp_export>() as u32,
    interface_id: b"llm_proxy.processor/1\0".as_ptr() as *const _,
    type_name: b"shout\0".as_ptr() as *const _,
    vtable: &PROCESSOR as *const Shared<lp_processor> as *const c_void,
}]);

#[no_mangle]
#[used]
pub static llm_proxy_plugin_entry: Shared<lp_plugin_entry> = Shared(lp_plugin_entry {
    struct_size: std::mem::size_of::<lp_plugin_entry>() as u32,
    abi_major: LP_ABI_MAJOR,
    abi_minor: LP_ABI_MINOR,
    plugin_id: b"org.example.shout\0".as_ptr() as *const _,
    version: b"1.0.0\0".as_ptr() as *const _,
    description: b"Upper-cases streamed answers (a Rust example)\0".as_ptr() as *const _,
    init,
    deinit: None,
    exports: &EXPORTS as *const Shared<[lp_export; 1]> as *const lp_export,
    export_count: 1,
});

#[cfg(test)]
mod tests {
    use super::shout_deltas;

    #[test]
    fn upper_cases_delta_content_only() {
        let chunk = r#"{"id":"c","choices":[{"index":0,"delta":{"content":"hi \"you\""},"finish_reason":null}]}"#;
        assert_eq!(
            shout_deltas(chunk, "!").unwrap(),
            r#"{"id":"c","choices":[{"index":0,"delta":{"content":"HI \"YOU\"!"},"finish_reason":null}]}"#
        );
        assert_eq!(
            shout_deltas(r#"{"delta":{"content":"a\nb \u00e9 é"}}"#, "").unwrap(),
            r#"{"delta":{"content":"A\nB \u00e9 É"}}"#
        );
        assert!(shout_deltas(r#"{"choices":[{"delta":{}}]}"#, "").is_none());
        assert!(shout_deltas("[DONE]", "").is_none());
    }
}
