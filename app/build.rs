//! Sets `cfg(wasm_split)` when cargo-leptos builds the browser code with `--split`, so lazy
//! islands and lazy functions are lazy only where a split step will give them their chunk; any
//! other build (`cargo leptos watch`, `serve`, `build` without `--split`) compiles them as plain
//! code, and the app works the same.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wasm_split)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    // cargo-leptos links the wasm with `--emit-relocs` for `--split`, and only then: the split
    // step reads the relocations to cut the module apart.
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    let split = std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| {
        flags
            .split('\x1f')
            .any(|flag| flag.contains("--emit-relocs"))
    });
    if wasm && split {
        println!("cargo::rustc-cfg=wasm_split");
    }
}
