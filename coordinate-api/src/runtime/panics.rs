//! Running a handler so that its panic becomes a message (with a
//! backtrace when the process captures them) instead of a dead thread.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while this thread runs a handler.
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
    /// The backtrace of the handler panic this thread is unwinding from.
    static BACKTRACE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

/// Adds to the process's panic hook (keeping whatever hook was there, which
/// still runs): inside a handler, take the backtrace, which is gone by the
/// time `catch_unwind` returns.
fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_HANDLER.with(Cell::get) {
                let backtrace = Backtrace::capture();
                if backtrace.status() == BacktraceStatus::Captured {
                    BACKTRACE.with(|slot| *slot.borrow_mut() = Some(backtrace.to_string()));
                }
            }
            previous(info);
        }));
    });
}

/// Runs `f`; a panic comes back as `Err` with its message, and the
/// backtrace after it when one was captured (`RUST_BACKTRACE=1`).
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    IN_HANDLER.with(|flag| flag.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    IN_HANDLER.with(|flag| flag.set(false));
    result.map_err(|payload| {
        let mut message = format!("handler panicked: {}", payload_message(payload.as_ref()));
        if let Some(backtrace) = BACKTRACE.with(|slot| slot.borrow_mut().take()) {
            message.push_str("\n\n");
            message.push_str(&backtrace);
        }
        message
    })
}

fn payload_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(a panic without a message)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        let caught = catch(|| -> u32 { panic!("bad unit {}", 7) });
        let message = caught.unwrap_err();
        assert!(
            message.starts_with("handler panicked: bad unit 7"),
            "{message}"
        );
        assert_eq!(catch(|| 5), Ok(5));
    }

    #[test]
    fn payloads_without_text_still_say_something() {
        let message = catch(|| std::panic::panic_any(42u8)).unwrap_err();
        assert!(message.contains("without a message"), "{message}");
    }
}
