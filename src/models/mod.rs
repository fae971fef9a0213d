//! Model packages (docs/model-package.md): metadata, validation, scanning; the architecture and
//! discriminator names; the CamVid class table.
mod arch;
mod classes;
mod meta;
mod onnx;
mod package;
mod registry;
mod variant;

pub use arch::{Architecture, Discriminator, UnknownName};
pub use classes::{ClassTable, camvid};
pub use meta::{
    ClassInfo, MAX_SIDE, MAX_Z_DIM, Metrics, ModelKind, ModelMeta, PACKAGE_FORMAT, SIZE_MULTIPLE,
    validate_classes,
};
pub use onnx::one_hot_classes;
pub use package::{ENCODER_FILE, METADATA_FILE, ModelPackage, NETWORK_FILE, PackageError};
pub use registry::{
    DEFAULT_GENERATOR, DEFAULT_SEGMENTER, DirProblem, MODELS_ENV, ModelRegistry, PackageStatus,
    RegistryEntry, default_model_dirs, user_models_dir,
};
pub use variant::{GraphUsed, Int8Variant, Precision};

/// A valid CamVid-like model.json (12 classes, 192x256, z_dim 8) for unit tests.
#[cfg(test)]
pub(crate) fn meta_tests_json() -> String {
    meta::tests::camvid_json("")
}
