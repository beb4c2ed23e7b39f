//! The architectures: for each family its hyperparameters, its weights named as in the
//! checkpoint, and its forward pass.

pub mod gpt2;
