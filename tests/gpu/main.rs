//! The GPU backend's tests, one binary: the backend against the interpreter
//! (`backend`; `dtypes` for the narrow integers, the unsigned ones and
//! float16) and our WGSL math against the reference routines (`math`).
//! Without an adapter they print a notice and pass, unless
//! `JITEXPR_REQUIRE_GPU=1` (CI, on Mesa's lavapipe). `gpu_slabs` is a binary
//! of its own: it lowers a process-wide limit.
#![cfg(feature = "gpu")]

#[path = "../common/mod.rs"]
mod common;

mod backend;
mod complex;
mod dtypes;
mod math;
