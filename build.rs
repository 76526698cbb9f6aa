//! Compiles the touch UI (`ui/app.slint`) with its bundled translations.
fn main() {
    // Debug info lets the testing backend find elements by accessible label; the cost is a
    // slightly bigger binary, worth it so the tests see the screen the way a screen reader does.
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations("ui/translations")
        // One translation per English text, whichever screen shows it: "Back" is "返回"
        // everywhere, and the .po file stays one short list.
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    if let Err(error) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("{error}");
        std::process::exit(1);
    }
}
