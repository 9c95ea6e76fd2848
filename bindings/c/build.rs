//! Names the shared library's ABI (its SONAME) on ELF systems: `libpointbook.so.0.1` while the
//! version is 0.1.x, `libpointbook.so.1` from 1.0. A program linked against it records that
//! name, so it loads a compatible library and refuses an incompatible one rather than calling
//! into it. `install.sh` installs the file under that name with the usual symbolic links.

fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let os = var("CARGO_CFG_TARGET_OS");
    if os == "linux" || os.ends_with("bsd") {
        let (major, minor) = (
            var("CARGO_PKG_VERSION_MAJOR"),
            var("CARGO_PKG_VERSION_MINOR"),
        );
        let abi = if major == "0" {
            format!("0.{minor}")
        } else {
            major
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libpointbook.so.{abi}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
