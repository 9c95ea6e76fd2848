//! Analytics and what-if over a history in JSON Lines.

use crate::boundary::{c_text, check_out, give_string, text, to_json};
use crate::error::{ffi_guard, pb_error, pb_status, Outcome};
use crate::program::{pb_program, program_ref};
use pointbook::analytics::{self, Analysis, Analyzer, Options};
use pointbook::feed;
use pointbook::Program;
use std::ffi::c_char;

/// Replays a history (JSON Lines, `len` bytes) into a fresh book of `program` and writes its
/// analytics to `*analysis_json` (the document of `pointbook analyze`; free with
/// `pb_string_free`). `options_json` is NULL (defaults) or NUL-terminated JSON such as
/// `{"period":"quarter","as_of":"2027-01-01T00:00:00Z"}`. Rejected events are counted in the
/// analysis, not fatal.
///
/// # Safety
/// `program` NULL or live; `events_jsonl` points to `len` bytes; `options_json` NULL or
/// NUL-terminated; out-parameters NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pb_analyze(
    program: *const pb_program,
    events_jsonl: *const c_char,
    len: usize,
    options_json: *const c_char,
    analysis_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(analysis_json, "analysis_json")?;
        let program = program_ref(program)?;
        // SAFETY: forwarded from the caller.
        let events = unsafe { text(events_jsonl, len, "events_jsonl") }?;
        // SAFETY: forwarded from the caller.
        let options = unsafe { analysis_options(options_json) }?;
        let analysis = analyze_lines(&program.program, events, options)?;
        give_string(analysis_json, to_json(&analysis)?)
    })
}

/// What if: replays the same history under programs `a` and `b` and writes the comparison to
/// `*comparison_json` (the document of `pointbook compare --json`), listing at most `top` of
/// the members most affected.
///
/// # Safety
/// As `pb_analyze`, for both programs.
#[no_mangle]
pub unsafe extern "C" fn pb_compare(
    a: *const pb_program,
    b: *const pb_program,
    events_jsonl: *const c_char,
    len: usize,
    options_json: *const c_char,
    top: usize,
    comparison_json: *mut *mut c_char,
    err: *mut *mut pb_error,
) -> pb_status {
    ffi_guard!(err, {
        check_out(comparison_json, "comparison_json")?;
        let (a, b) = (program_ref(a)?, program_ref(b)?);
        // SAFETY: forwarded from the caller.
        let events = unsafe { text(events_jsonl, len, "events_jsonl") }?;
        // SAFETY: forwarded from the caller.
        let options = unsafe { analysis_options(options_json) }?;
        let x = analyze_lines(&a.program, events, options)?;
        let y = analyze_lines(&b.program, events, options)?;
        give_string(comparison_json, to_json(&analytics::compare(&x, &y, top))?)
    })
}

/// Analysis options from NULL (defaults) or NUL-terminated JSON.
///
/// # Safety
/// `options_json` is NULL or NUL-terminated.
pub(crate) unsafe fn analysis_options(options_json: *const c_char) -> Outcome<Options> {
    if options_json.is_null() {
        return Ok(Options::default());
    }
    // SAFETY: forwarded from the caller.
    let text = unsafe { c_text(options_json, "options_json") }?;
    Ok(Options::from_json(text)?)
}

pub(crate) fn analyze_lines(
    program: &Program,
    events: &str,
    options: Options,
) -> Outcome<Analysis> {
    let mut analyzer = Analyzer::new(program.clone(), options)?;
    for line in feed::lines(events.as_bytes()) {
        let _ = analyzer.apply_read(line.event());
    }
    Ok(analyzer.finish())
}
