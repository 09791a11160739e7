//! Cancelling one evaluation: a token per call, checked between blocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, ErrorKind, Result};

/// A request to stop one evaluation early.
///
/// Pass a token to [`Kernel::eval_with_cancel`](crate::Kernel::eval_with_cancel)
/// (or [`Kernel::eval_into_with_cancel`](crate::Kernel::eval_into_with_cancel))
/// and call [`CancelToken::cancel`] from any thread (a Ctrl-C handler, a
/// timeout, a UI button): that evaluation stops at its next block boundary
/// and returns an error of kind [`ErrorKind::Cancelled`]. Other evaluations,
/// on this thread or others, are not affected. Clones share the request.
///
/// ```
/// use jitexpr::{CancelToken, ErrorKind, Signature, DType, Vars};
/// let x = ndarray::Array1::<f64>::zeros(1000);
/// let k = jitexpr::compile("sin(x)", &Signature::new().with("x", DType::Float64))?;
/// let token = CancelToken::new();
/// token.cancel(); // cancelled before it starts: it never runs
/// let err = k.eval_with_cancel(&Vars::new().with("x", &x), &token).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Cancelled);
/// # Ok::<(), jitexpr::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that has not been cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Asks the evaluation(s) using this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// What an evaluation with this token polls.
    pub(crate) fn as_cancel(&self) -> Cancel<'_> {
        Cancel(&self.0)
    }
}

/// The flag one evaluation polls between blocks: a [`CancelToken`]'s, or,
/// for a call made without one, a flag that is never set (so such a call
/// allocates nothing for it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cancel<'a>(&'a AtomicBool);

impl Cancel<'static> {
    /// The flag of an evaluation no one can cancel.
    pub(crate) fn never() -> Cancel<'static> {
        static NEVER: AtomicBool = AtomicBool::new(false);
        Cancel(&NEVER)
    }
}

impl<'a> Cancel<'a> {
    /// The flag kernels poll between blocks.
    pub(crate) fn flag(self) -> &'a AtomicBool {
        self.0
    }

    /// An error of kind `Cancelled` if the evaluation was cancelled.
    pub(crate) fn check(self) -> Result<()> {
        if self.0.load(Ordering::Relaxed) {
            return Err(Error::new(ErrorKind::Cancelled, "evaluation cancelled"));
        }
        Ok(())
    }
}
