//! The committed header is the C contract: it must be exactly what cbindgen generates from the
//! code, and its version macros must match Cargo.toml.
#![allow(clippy::unwrap_used)]

fn generated() -> Vec<u8> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .unwrap();
    let mut out = Vec::new();
    bindings.write(&mut out);
    out
}

#[test]
fn committed_header_is_what_cbindgen_generates() {
    let path = format!("{}/include/pointbook.h", env!("CARGO_MANIFEST_DIR"));
    let fresh = generated();
    if std::env::var_os("POINTBOOK_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/pointbook.h differs from the code; regenerate it with \
         `POINTBOOK_BLESS=1 cargo test -p pointbook-ffi --test header` and commit it"
    );
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(format!(
        "{}/include/pointbook.h",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for (name, value) in [
        ("PB_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("PB_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PB_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define {name} {value}");
        assert!(header.contains(&line), "header lacks `{line}`");
    }
}
