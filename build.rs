// With the `split` feature on the wasm target (every wasm build: scripts/wasm-split splits it after
// Trunk's build), the linker keeps its relocations in the module (`--emit-relocs`): wasm-split-cli
// needs them to move the functions of each split point into a chunk of their own. Only the final
// link of the app changes, so no dependency is rebuilt for it.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");
    if wasm && std::env::var_os("CARGO_FEATURE_SPLIT").is_some() {
        println!("cargo:rustc-link-arg-bins=--emit-relocs");
    }
}
