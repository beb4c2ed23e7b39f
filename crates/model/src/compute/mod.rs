//! The numbers under every architecture: weight buffers of f32 or 16-bit values, the matrix
//! products and the hand-written kernels beneath them, the row operations, and the threads
//! that share the work, and the clock that times a run.

pub(crate) mod buf;
pub mod clock;
pub mod kernels;
pub(crate) mod matmul;
pub mod ops;
pub mod pool;
pub mod probe;
