//! A program file, any bytes, read as TOML and as JSON: a program or a typed error, never a
//! panic; a program that loads writes a canonical JSON that loads again to the same program.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pointbook::Program;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for program in [Program::from_toml(text), Program::from_json(text)]
        .into_iter()
        .flatten()
    {
        let again = Program::from_json(&program.to_json());
        assert_eq!(
            again.map(|p| p.fingerprint().to_owned()).ok().as_deref(),
            Some(program.fingerprint())
        );
    }
});
