//! The zinnia handwriting recognizer, reached through its C API.
//!
//! libzinnia is loaded with `libloading` at run time rather than linked, so a
//! kiosk without the Debian package libzinnia0 (or without the model) still
//! starts and runs; it only goes without handwriting, and [`HandwritingOff`]
//! says what a maintainer must install to bring it back.

use std::ffi::{CStr, CString, c_char, c_float, c_int, c_void};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use super::handwriting::Ink;

/// The candidate bar shows a handful of characters; past 20 zinnia's guesses
/// are noise, and each one costs a string allocation on every stroke.
pub const MAX_CANDIDATES: usize = 20;

/// Why handwriting is unavailable, phrased as what a maintainer must do.
#[derive(Debug, thiserror::Error)]
pub enum HandwritingOff {
    #[error("switched off in the config ([handwriting] enabled = false)")]
    Disabled,

    #[error("cannot start the handwriting thread: {0}")]
    Thread(std::io::Error),

    #[error(
        "cannot load the handwriting library {library} ({reason}); install the Debian package libzinnia0"
    )]
    LibraryMissing { library: String, reason: String },

    #[error(
        "the handwriting library {library} lacks the function {symbol} ({reason}); it is not a usable zinnia, reinstall the Debian package libzinnia0"
    )]
    SymbolMissing {
        library: String,
        symbol: &'static str,
        reason: String,
    },

    #[error(
        "cannot read the handwriting model {} ({reason}); install the Debian package tegaki-zinnia-simplified-chinese",
        path.display()
    )]
    ModelMissing { path: PathBuf, reason: String },

    #[error(
        "zinnia cannot open the handwriting model {} ({reason}); the file is damaged or not a zinnia model, reinstall the Debian package tegaki-zinnia-simplified-chinese",
        path.display()
    )]
    ModelUnreadable { path: PathBuf, reason: String },
}

/// One guess at the written character, with zinnia's score (higher is
/// better; the scale is zinnia's own and may be negative).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub character: String,
    pub score: f32,
}

type CharacterNew = unsafe extern "C" fn() -> *mut c_void;
type CharacterDestroy = unsafe extern "C" fn(*mut c_void);
type CharacterSetSize = unsafe extern "C" fn(*mut c_void, usize);
type CharacterAdd = unsafe extern "C" fn(*mut c_void, usize, c_int, c_int) -> c_int;
type ResultValue = unsafe extern "C" fn(*mut c_void, usize) -> *const c_char;
type ResultScore = unsafe extern "C" fn(*mut c_void, usize) -> c_float;
type ResultSize = unsafe extern "C" fn(*mut c_void) -> usize;
type ResultDestroy = unsafe extern "C" fn(*mut c_void);
type RecognizerNew = unsafe extern "C" fn() -> *mut c_void;
type RecognizerDestroy = unsafe extern "C" fn(*mut c_void);
type RecognizerOpen = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
type RecognizerStrerror = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type RecognizerSize = unsafe extern "C" fn(*mut c_void) -> usize;
type RecognizerClassify = unsafe extern "C" fn(*mut c_void, *const c_void, usize) -> *mut c_void;

/// The opened libzinnia with every function this module calls resolved up
/// front, so a broken library is reported once at start-up rather than on
/// the first stroke.
pub struct Zinnia {
    character_new: CharacterNew,
    character_destroy: CharacterDestroy,
    character_set_width: CharacterSetSize,
    character_set_height: CharacterSetSize,
    character_add: CharacterAdd,
    result_value: ResultValue,
    result_score: ResultScore,
    result_size: ResultSize,
    result_destroy: ResultDestroy,
    recognizer_new: RecognizerNew,
    recognizer_destroy: RecognizerDestroy,
    recognizer_open: RecognizerOpen,
    recognizer_strerror: RecognizerStrerror,
    recognizer_size: RecognizerSize,
    recognizer_classify: RecognizerClassify,
    // The function pointers above point into this library; it must outlive
    // them, which holding it here (and `Recognizer` holding an `Arc<Zinnia>`)
    // guarantees.
    _library: libloading::Library,
}

impl std::fmt::Debug for Zinnia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Zinnia").finish_non_exhaustive()
    }
}

impl Zinnia {
    /// Opens libzinnia by soname (looked up the way the dynamic loader does)
    /// or by path.
    pub fn open(library: &str) -> Result<Zinnia, HandwritingOff> {
        // SAFETY: libzinnia's initialisers only set up C++ statics; loading it
        // runs no code that could disturb this process.
        let lib = unsafe { libloading::Library::new(library) }.map_err(|e| {
            HandwritingOff::LibraryMissing {
                library: library.to_owned(),
                reason: e.to_string(),
            }
        })?;

        fn symbol<T: Copy>(
            lib: &libloading::Library,
            library: &str,
            name: &'static str,
        ) -> Result<T, HandwritingOff> {
            let mut with_nul = Vec::with_capacity(name.len() + 1);
            with_nul.extend_from_slice(name.as_bytes());
            with_nul.push(0);
            // SAFETY: each `T` below is the signature zinnia.h declares for
            // `name`; the copied pointer stays valid while `lib` is loaded,
            // and `Zinnia` keeps it loaded.
            unsafe { lib.get::<T>(&with_nul) }.map(|s| *s).map_err(|e| {
                HandwritingOff::SymbolMissing {
                    library: library.to_owned(),
                    symbol: name,
                    reason: e.to_string(),
                }
            })
        }

        Ok(Zinnia {
            character_new: symbol(&lib, library, "zinnia_character_new")?,
            character_destroy: symbol(&lib, library, "zinnia_character_destroy")?,
            character_set_width: symbol(&lib, library, "zinnia_character_set_width")?,
            character_set_height: symbol(&lib, library, "zinnia_character_set_height")?,
            character_add: symbol(&lib, library, "zinnia_character_add")?,
            result_value: symbol(&lib, library, "zinnia_result_value")?,
            result_score: symbol(&lib, library, "zinnia_result_score")?,
            result_size: symbol(&lib, library, "zinnia_result_size")?,
            result_destroy: symbol(&lib, library, "zinnia_result_destroy")?,
            recognizer_new: symbol(&lib, library, "zinnia_recognizer_new")?,
            recognizer_destroy: symbol(&lib, library, "zinnia_recognizer_destroy")?,
            recognizer_open: symbol(&lib, library, "zinnia_recognizer_open")?,
            recognizer_strerror: symbol(&lib, library, "zinnia_recognizer_strerror")?,
            recognizer_size: symbol(&lib, library, "zinnia_recognizer_size")?,
            recognizer_classify: symbol(&lib, library, "zinnia_recognizer_classify")?,
            _library: lib,
        })
    }

    /// Whether `model` is a file this process can read, so that a missing
    /// package is reported as such, not as zinnia's terse open error.
    pub fn check_model(model: &Path) -> Result<(), HandwritingOff> {
        let missing = |reason: String| HandwritingOff::ModelMissing {
            path: model.to_path_buf(),
            reason,
        };
        let file = File::open(model).map_err(|e| missing(e.to_string()))?;
        let metadata = file.metadata().map_err(|e| missing(e.to_string()))?;
        if !metadata.is_file() {
            return Err(missing("not a regular file".to_owned()));
        }
        Ok(())
    }

    /// Loads a zinnia model (checked first by `check_model`).
    pub fn load_model(self: &Arc<Self>, model: &Path) -> Result<Recognizer, HandwritingOff> {
        Zinnia::check_model(model)?;

        let unreadable = |reason: String| HandwritingOff::ModelUnreadable {
            path: model.to_path_buf(),
            reason,
        };
        let c_path = CString::new(model.as_os_str().as_encoded_bytes())
            .map_err(|_| unreadable("the path contains a NUL byte".to_owned()))?;

        // SAFETY: zinnia_recognizer_new takes no arguments.
        let raw = unsafe { (self.recognizer_new)() };
        let handle = NonNull::new(raw)
            .ok_or_else(|| unreadable("zinnia_recognizer_new returned nothing".to_owned()))?;
        // Owned from here on, so every early return below frees it.
        let recognizer = Recognizer {
            handle,
            zinnia: Arc::clone(self),
        };

        // SAFETY: the handle is live and c_path is NUL-terminated and outlives
        // the call; zinnia copies what it needs of the name.
        let opened = unsafe { (self.recognizer_open)(recognizer.handle.as_ptr(), c_path.as_ptr()) };
        if opened == 0 {
            // SAFETY: the handle is live; strerror returns either null or a
            // string owned by the recognizer, copied before it is freed.
            let reason =
                unsafe { owned_string((self.recognizer_strerror)(recognizer.handle.as_ptr())) };
            let reason = reason.unwrap_or_else(|| "zinnia gave no reason".to_owned());
            return Err(unreadable(reason));
        }
        Ok(recognizer)
    }
}

/// A loaded zinnia model, ready to classify ink. Holds the library alive.
pub struct Recognizer {
    handle: NonNull<c_void>,
    zinnia: Arc<Zinnia>,
}

impl std::fmt::Debug for Recognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recognizer").finish_non_exhaustive()
    }
}

// SAFETY: the kiosk hands the recognizer to one background thread at a time
// (it is `Send`, not `Sync`). zinnia's recognizer is a plain heap object over
// a read-only mmap of the model with no thread-local or thread-affine state,
// so moving it between threads is sound; `Arc<Zinnia>` is itself `Send`.
unsafe impl Send for Recognizer {}

impl Recognizer {
    /// How many characters the model knows.
    pub fn characters(&self) -> usize {
        // SAFETY: the handle is live; zinnia_recognizer_size only reads it.
        unsafe { (self.zinnia.recognizer_size)(self.handle.as_ptr()) }
    }

    /// The likeliest characters for `ink`, best first. At most
    /// `max_candidates` (clamped to 1..=[`MAX_CANDIDATES`]). Empty ink, or
    /// ink zinnia cannot make sense of, gives an empty list: the resident
    /// simply sees no candidates, never an error.
    pub fn classify(&self, ink: &Ink, max_candidates: usize) -> Vec<Candidate> {
        if ink.is_empty() {
            return Vec::new();
        }
        let nbest = max_candidates.clamp(1, MAX_CANDIDATES);
        let z = &*self.zinnia;

        // SAFETY: zinnia_character_new takes no arguments.
        let Some(character) = NonNull::new(unsafe { (z.character_new)() }) else {
            return Vec::new();
        };
        let character = Owned {
            ptr: character,
            destroy: z.character_destroy,
        };
        // SAFETY (this block): `character` is live until `Owned` drops it.
        // zinnia scales every point by the width and height set here, so they
        // must be the pad's size for the ink to land where it was written.
        unsafe {
            (z.character_set_width)(character.ptr.as_ptr(), ink.width() as usize);
            (z.character_set_height)(character.ptr.as_ptr(), ink.height() as usize);
            for (id, stroke) in ink.strokes().iter().enumerate() {
                for &(x, y) in stroke {
                    (z.character_add)(character.ptr.as_ptr(), id, x, y);
                }
            }
        }

        // SAFETY: both handles are live; classify only reads the character.
        let result =
            unsafe { (z.recognizer_classify)(self.handle.as_ptr(), character.ptr.as_ptr(), nbest) };
        let Some(result) = NonNull::new(result) else {
            // zinnia returns null for ink it cannot extract features from.
            return Vec::new();
        };
        let result = Owned {
            ptr: result,
            destroy: z.result_destroy,
        };

        // SAFETY: `result` is live; indices stay below its size, and each
        // value is copied before the result is destroyed.
        let size = unsafe { (z.result_size)(result.ptr.as_ptr()) }.min(nbest);
        let mut candidates = Vec::with_capacity(size);
        for i in 0..size {
            let value = unsafe { owned_string((z.result_value)(result.ptr.as_ptr(), i)) };
            let score = unsafe { (z.result_score)(result.ptr.as_ptr(), i) };
            if let Some(character) = value.filter(|v| !v.is_empty()) {
                candidates.push(Candidate { character, score });
            }
        }
        candidates
    }
}

impl Drop for Recognizer {
    fn drop(&mut self) {
        // SAFETY: the handle came from zinnia_recognizer_new, is freed only
        // here, and the library is still loaded through `self.zinnia`.
        unsafe { (self.zinnia.recognizer_destroy)(self.handle.as_ptr()) }
    }
}

/// A zinnia character or result, destroyed when dropped so that no return
/// path can leak it.
struct Owned {
    ptr: NonNull<c_void>,
    destroy: unsafe extern "C" fn(*mut c_void),
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from the matching zinnia constructor and is freed
        // only here; the library outlives this guard (it lives in a function
        // that borrows the recognizer, which holds the library).
        unsafe { (self.destroy)(self.ptr.as_ptr()) }
    }
}

/// Copies a C string zinnia owns; invalid UTF-8 is replaced rather than
/// refused, since the model's strings are zinnia's, not ours.
///
/// # Safety
/// `ptr` must be null or point to a NUL-terminated string live for the call.
unsafe fn owned_string(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    let s = unsafe { CStr::from_ptr(ptr) };
    Some(s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_HANDWRITING_LIBRARY, DEFAULT_HANDWRITING_MODEL};

    fn zinnia() -> Arc<Zinnia> {
        match Zinnia::open(DEFAULT_HANDWRITING_LIBRARY) {
            Ok(z) => Arc::new(z),
            Err(e) => panic!("these tests need libzinnia0: {e}"),
        }
    }

    fn recognizer() -> Recognizer {
        match zinnia().load_model(Path::new(DEFAULT_HANDWRITING_MODEL)) {
            Ok(r) => r,
            Err(e) => panic!("these tests need tegaki-zinnia-simplified-chinese: {e}"),
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zinnia-test-{}-{name}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    }

    #[test]
    fn missing_library_is_reported() {
        match Zinnia::open("libzinnia-not-installed.so.0") {
            Err(HandwritingOff::LibraryMissing { library, reason }) => {
                assert_eq!(library, "libzinnia-not-installed.so.0");
                assert!(!reason.is_empty());
            }
            other => panic!("expected LibraryMissing, got {other:?}"),
        }
    }

    #[test]
    fn library_without_zinnia_symbols_is_reported() {
        match Zinnia::open("libc.so.6") {
            Err(HandwritingOff::SymbolMissing { symbol, .. }) => {
                assert_eq!(symbol, "zinnia_character_new");
            }
            other => panic!("expected SymbolMissing, got {other:?}"),
        }
    }

    #[test]
    fn messages_name_the_package_to_install() {
        let e = HandwritingOff::LibraryMissing {
            library: "libzinnia.so.0".into(),
            reason: "not found".into(),
        };
        assert!(
            e.to_string()
                .contains("install the Debian package libzinnia0")
        );
        let e = HandwritingOff::ModelMissing {
            path: "/x.model".into(),
            reason: "not found".into(),
        };
        assert!(e.to_string().contains("tegaki-zinnia-simplified-chinese"));
    }

    #[test]
    fn missing_model_is_reported() {
        let path = Path::new("/nonexistent/handwriting-zh_CN.model");
        match zinnia().load_model(path) {
            Err(HandwritingOff::ModelMissing { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected ModelMissing, got {other:?}"),
        }
    }

    #[test]
    fn directory_as_model_is_reported_missing() {
        let dir = scratch_dir("dir");
        match zinnia().load_model(&dir) {
            Err(HandwritingOff::ModelMissing { reason, .. }) => {
                assert!(reason.contains("not a regular file"));
            }
            other => panic!("expected ModelMissing, got {other:?}"),
        }
    }

    #[test]
    fn garbage_model_is_reported_unreadable() {
        let path = scratch_dir("garbage").join("bad.model");
        if let Err(e) = std::fs::write(&path, b"this is not a zinnia model\n") {
            panic!("cannot write {}: {e}", path.display());
        }
        match zinnia().load_model(&path) {
            Err(HandwritingOff::ModelUnreadable { reason, .. }) => assert!(!reason.is_empty()),
            other => panic!("expected ModelUnreadable, got {other:?}"),
        }
    }

    #[test]
    fn empty_ink_gives_no_candidates() {
        let ink = Ink::new(300, 300);
        assert!(recognizer().classify(&ink, 5).is_empty());
    }

    fn draw(ink: &mut Ink, points: &[(i32, i32)]) {
        let Some((&(x, y), rest)) = points.split_first() else {
            return;
        };
        ink.begin_stroke(x, y);
        let mut last = (x, y);
        for &(nx, ny) in rest {
            for step in 1..=10 {
                ink.extend_stroke(
                    last.0 + (nx - last.0) * step / 10,
                    last.1 + (ny - last.1) * step / 10,
                );
            }
            last = (nx, ny);
        }
        ink.end_stroke();
    }

    fn shi() -> Ink {
        let mut ink = Ink::new(300, 300);
        draw(&mut ink, &[(40, 140), (260, 140)]);
        draw(&mut ink, &[(150, 30), (150, 280)]);
        ink
    }

    #[test]
    fn classifies_a_simple_character() {
        let candidates = recognizer().classify(&shi(), 5);
        assert!(!candidates.is_empty());
        assert!(candidates.len() <= 5);
        assert_eq!(candidates[0].character, "十", "got {candidates:?}");
        for pair in candidates.windows(2) {
            assert!(
                pair[0].score >= pair[1].score,
                "not best first: {candidates:?}"
            );
        }
    }

    #[test]
    fn candidate_count_is_clamped() {
        let r = recognizer();
        assert_eq!(r.classify(&shi(), 0).len(), 1);
        assert!(r.classify(&shi(), 1000).len() <= MAX_CANDIDATES);
    }

    #[test]
    fn recognizer_works_from_a_worker_thread() {
        let r = recognizer();
        let handle = std::thread::spawn(move || r.classify(&shi(), 3));
        match handle.join() {
            Ok(candidates) => assert_eq!(candidates[0].character, "十"),
            Err(_) => panic!("worker thread panicked"),
        }
    }
}
