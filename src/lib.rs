//! The browser entry: hydrates the server-rendered page's islands (feature `hydrate`).

/// Called by the generated JS once the wasm has loaded.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate_islands();
}
